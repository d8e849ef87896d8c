"""The closure list's rows (analytics.rows), written in Python: what each cell shows."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from analytics.rows import closure_rows
from closures.models import Closure
from tests.factories import ClosureFactory, ClosureReasonFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI_9AM = dt.datetime(2026, 3, 1, 1, 5, tzinfo=dt.UTC)


def row_html(closure) -> str:
    closure = Closure.objects.select_related("customer", "reason", "performed_by", "reverted_by").get(pk=closure.pk)
    return str(closure_rows([closure]))


def cells(html: str) -> list[str]:
    return [" ".join(part.split(">", 1)[1].split("</td>", 1)[0].split()) for part in html.split("<td")[1:]]


def test_a_row_shows_the_card_reason_notes_who_and_when():
    customer = CustomerFactory(customer_no="C000777", name="张伟")
    reason = ClosureReasonFactory(label_en="Relocated abroad", label_zh="移居国外", category="moved")
    closure = ClosureFactory(
        customer=customer,
        reason=reason,
        action="close",
        notes="Moved to Chengdu",
        performed_by=UserFactory(first_name="Mei", last_name="Lin"),
        performed_at=SHANGHAI_9AM,
    )
    url = reverse("customers:card", args=[customer.pk])
    assert cells(row_html(closure)) == [
        f'<a href="{url}">C000777</a> <br>张伟',
        "Close card",
        "Moved away",
        "Relocated abroad",
        "Moved to Chengdu",
        "Mei Lin",
        '<time datetime="2026-03-01T09:05:00+08:00">2026-03-01 09:05</time>',
        "—",
    ]


def test_a_reverted_closure_shows_when_and_by_whom():
    undoer = UserFactory(username="li01", first_name="", last_name="")
    closure = ClosureFactory(reverted_at=SHANGHAI_9AM + dt.timedelta(days=1), reverted_by=undoer)
    last = cells(row_html(closure))[-1]
    time = '<time datetime="2026-03-02T09:05:00+08:00">2026-03-02 09:05</time>'
    assert last == f'{time}<br><span class="small">li01</span>'


def test_an_erased_customer_shows_no_name():
    customer = CustomerFactory(name="秘密名字", status="erased")
    html = row_html(ClosureFactory(customer=customer, action="erase", customer_erased=True))
    assert "秘密名字" not in html and '<span class="badge erased">Erased</span>' in html


def test_a_retired_reason_is_marked_and_long_notes_are_cut_at_120_characters():
    reason = ClosureReasonFactory(label_en="Old reason", is_active=False)
    html = row_html(ClosureFactory(reason=reason, notes="x" * 200))
    assert 'Old reason <span class="muted">(retired)</span>' in html
    assert f'<td class="notes" data-label="Notes">{"x" * 119}…</td>' in html


def test_every_text_is_escaped():
    customer = CustomerFactory(name="<b>bold</b>", customer_no="C<9>")
    html = row_html(ClosureFactory(customer=customer, notes="<script>x</script>"))
    assert "<b>" not in html and "<script>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "&lt;script&gt;x&lt;/script&gt;" in html and "C&lt;9&gt;" in html


def test_labels_follow_the_language():
    reason = ClosureReasonFactory(label_en="Moved away", label_zh="搬迁", category="moved", is_active=False)
    closure = ClosureFactory(reason=reason, action="void")
    with translation.override("zh-hans"):
        html = row_html(closure)
    assert "搬迁" in html and "Moved away" not in html
    assert "作废" in html and "(已停用)" in html


def test_every_cell_but_the_customer_carries_its_heading_for_the_phone_cards():
    with translation.override("zh-hans"):
        html = row_html(ClosureFactory())
        headings = [gettext(h) for h in ("Action", "Category", "Reason", "Notes", "By", "When", "Reverted")]
    assert html.count("<td") == 8
    assert html.count('<td class="primary">') == 1
    assert re.findall(r'data-label="([^"]*)"', html) == headings
    assert headings[0] == "操作" and headings[-1] == "已撤销"
