"""The search results' rows (customers.rows), written in Python: what each cell shows."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Customer
from customers.rows import customer_rows
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(customers, *, can_bulk=False, unmasked=False, marks_exact=False, tags=None) -> str:
    for customer in customers:
        customer.tag_names = (tags or {}).get(customer.pk, [])
    return str(customer_rows(customers, can_bulk=can_bulk, unmasked=unmasked, marks_exact=marks_exact))


def cells(html: str) -> list[str]:
    """The text between <td ...> and </td> of a one-row table, tags inside kept."""
    return [part.split(">", 1)[1].split("</td>", 1)[0] for part in html.split("<td")[1:]]


def test_a_row_links_the_number_and_the_name_to_the_card():
    customer = CustomerFactory(customer_no="C000900", name="张伟")
    html = rows([customer])
    url = reverse("customers:card", args=[customer.pk])
    assert f'<a href="{url}">C000900</a>' in html
    assert f'<a href="{url}">张伟</a>' in html


def test_every_cell_is_escaped():
    customer = CustomerFactory(name="<script>alert(1)</script>", city="A&B", customer_no="C<1>")
    html = rows([customer], tags={customer.pk: ["<b>vip</b>"]}, can_bulk=True)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A&amp;B" in html
    assert 'aria-label="Select C&lt;1&gt;"' in html


def test_the_columns_in_order_for_an_admin_who_may_bulk_close():
    owner = UserFactory(first_name="Mei", last_name="Lin")
    customer = CustomerFactory(
        customer_no="C000901",
        name="李娜",
        phone="+8613812345678",
        email="li.na@example.cn",
        city="杭州",
        segment=Customer.Segment.KEY,
        owner=owner,
        purchase_total=Decimal("1234567.5"),
        last_interaction_at=dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC),  # 2 March in Shanghai
    )
    Customer.objects.filter(pk=customer.pk).update(updated_at=dt.datetime(2026, 4, 30, 20, 0, tzinfo=dt.UTC))
    customer.refresh_from_db()
    html = rows([customer], can_bulk=True, unmasked=True, tags={customer.pk: ["vip", "wechat"]})
    checkbox = f'<input type="checkbox" name="ids" value="{customer.pk}" aria-label="Select C000901">'
    assert cells(html)[0] == f'<label class="tap">{checkbox}</label>'
    assert cells(html)[3:] == [
        '<span class="badge active">Active</span>',
        "+86 138 1234 5678",
        "li.na@example.cn",
        "杭州",
        "Key account",
        "Mei Lin",
        '<span class="badge tag">vip</span> <span class="badge tag">wechat</span> ',
        "2026-03-02",
        "¥1,234,567.50",
        "2026-05-01",
    ]


def test_staff_see_masked_contacts_and_no_checkbox():
    customer = CustomerFactory(phone="+8613812345678", email="zhang.wei@example.cn")
    html = rows([customer])
    assert "<input" not in html
    assert "+86138****5678" in html and "z***@example.cn" in html
    assert "12345678" not in html and "zhang.wei" not in html


def test_a_card_without_owner_or_interaction_shows_empty_owner_and_a_dash():
    customer = CustomerFactory(owner=None, last_interaction_at=None)
    values = cells(rows([customer]))
    assert values[-5] == "" and values[-3] == "—"


def test_an_owner_without_a_full_name_is_shown_by_username():
    customer = CustomerFactory(owner=UserFactory(username="wang01", first_name="", last_name=""))
    assert '<td class="owner" data-label="Owner">wang01</td>' in rows([customer])


def test_an_erased_card_shows_no_personal_data_and_no_tags():
    customer = CustomerFactory(
        name="王秀英", status=Customer.Status.ERASED, phone="+8613811112222", email="w@example.cn", city="苏州"
    )
    html = rows([customer], unmasked=True, tags={customer.pk: ["vip"]})
    assert "Personal data erased" in html and '<span class="badge erased">Erased</span>' in html
    for personal in ("王秀英", "1111", "w@example.cn", "苏州", "vip"):
        assert personal not in html


def test_only_exact_matches_are_marked_and_only_when_the_page_marks_them():
    exact, other = CustomerFactory(), CustomerFactory()
    exact.exact_match, other.exact_match = 0, 1
    assert rows([exact, other], marks_exact=True).count("Exact match") == 1
    assert "Exact match" not in rows([exact, other], marks_exact=False)


def test_labels_follow_the_language():
    customer = CustomerFactory(status=Customer.Status.CLOSED, segment=Customer.Segment.KEY)
    customer.exact_match = 0
    with translation.override("zh-hans"):
        html = rows([customer], can_bulk=True, marks_exact=True)
    assert "已销卡" in html and "重点客户" in html and "精确匹配" in html
    assert f'aria-label="选择 {customer.customer_no}"' in html


def test_dates_are_the_local_day():
    late = timezone.make_aware(dt.datetime(2026, 1, 31, 23, 30), timezone.get_fixed_timezone(8 * 60))
    customer = CustomerFactory(last_interaction_at=late)
    assert "2026-01-31" in rows([customer])


def test_every_cell_but_the_checkbox_and_the_name_carries_its_heading_for_the_phone_cards():
    customer = CustomerFactory(name="李娜")
    with translation.override("zh-hans"):
        html = rows([customer], can_bulk=True)
    assert re.findall(r'data-label="([^"]*)"', html) == [
        "客户编号",
        "状态",
        "电话",
        "邮件",
        "城市",
        "客户分级",
        "负责人",
        "标签",
        "最近互动",
        "购买总额",
        "更新时间",
    ]
    assert re.search(r'<td class="select"><label class="tap"><input type="checkbox"', html)
    assert '<td class="primary"><a href="' in html and ">李娜</a></td>" in html
