"""The churn-warning dashboard (analytics:churn_warning): risk over time, who is at risk now by RFM
segment and owner, the value each closure reason lost, what the retention actions achieved, and how
many closures were warned about beforehand and how long before.

The shop below is built through the product's own paths: the scores a run would write, the day rows
of ``recount_day``, the warnings of ``warn``, closures by ``close_customer`` with the outbox
dispatched to the insights consumer, actions by ``log_attempt``/``plan_callback`` settled by ``settle``.
"""

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import outbox
from customers.models import Purchase
from insights import actions
from insights.models import ClosureValue, RetentionAction, Score, Segment
from insights.risk import band
from insights.runs import recount_day, warn
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("analytics:churn_warning")


def today() -> date:
    return timezone.localdate()


def scored(card, *, risk: int, worth: str, segment: str, spent: str = "0", warned_on: date | None = None) -> Score:
    """The score a run would leave on the card (and the warning it would raise on ``warned_on``)."""
    worth = Decimal(worth)
    score, _new = Score.objects.update_or_create(
        customer=card,
        defaults={
            "computed_at": timezone.now(),
            "as_of": today(),
            "risk": risk,
            "band": band(risk)["key"],
            "segment": segment,
            "expected_value": worth,
            "historical_value": Decimal(spent),
            "value_at_risk": worth * risk / 100,
        },
    )
    if warned_on is not None:
        warn([score], warned_on, using="default")
    return score


def close(card, reason_code: str, by, action: str = "close") -> None:
    operations.close_customer(card, ClosureChoice(action, ClosureReason.objects.get(code=reason_code)), by=by)


@dataclass
class Shop:
    chen: object
    li: object
    earlier: date


@pytest.fixture
def shop(manager_user, staff_user):
    """Seven cards of two owners (Chen and Li). Ten days ago one of Chen's was at medium risk; today
    it is high. Three cards then leave: two warned about 5 and 45 days before (Price too high), one
    unwarned (Dissatisfied with service); a fourth is archived without a score."""
    chen, li = UserFactory(username="owner_chen", first_name="", last_name=""), staff_user
    d = today()
    cards = {name: CustomerFactory(owner=owner) for name, owner in zip("1234567", [chen, li] * 3 + [chen], strict=True)}
    scored(cards["1"], risk=40, worth="1000", segment=Segment.AT_RISK)
    scored(cards["2"], risk=45, worth="400", segment=Segment.HIBERNATING, warned_on=d - timedelta(days=10))
    scored(cards["3"], risk=10, worth="2000", segment=Segment.CHAMPIONS)
    scored(cards["4"], risk=70, worth="600", segment=Segment.LOST, spent="900", warned_on=d - timedelta(days=5))
    scored(cards["5"], risk=20, worth="300", segment=Segment.LOYAL, spent="1500")
    scored(cards["6"], risk=65, worth="500", segment=Segment.AT_RISK, spent="700", warned_on=d - timedelta(days=45))
    earlier = d - timedelta(days=10)
    recount_day(earlier, using="default")
    scored(cards["1"], risk=80, worth="1000", segment=Segment.AT_RISK, warned_on=d - timedelta(days=40))
    recount_day(d, using="default")

    actions.log_attempt(cards["1"], by=manager_user, channel="call")  # still waiting
    actions.log_attempt(cards["2"], by=manager_user, channel="offer")  # then the customer buys
    actions.plan_callback(cards["4"], by=manager_user, assigned_to=staff_user, due_on=d)  # then closed
    Purchase.objects.create(customer=cards["2"], product="咖啡豆", amount=Decimal("88"), purchased_on=d)

    close(cards["4"], "price", manager_user)
    close(cards["6"], "price", manager_user)
    close(cards["5"], "service", manager_user)
    close(cards["7"], "long-inactive", manager_user, action="archive")
    outbox.dispatch(["insights"])
    actions.settle(d)
    return Shop(chen=chen, li=li, earlier=earlier)


def table(response, table_id: str) -> list[list[str]]:
    """The rows of a table of the page, each a list of its cells' text."""
    html = response.content.decode()
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert found, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(0), re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    return [[re.sub(r"<[^>]+>", "", c).replace("&nbsp;", " ").strip() for c in row] for row in cells]


def part(client, name: str, query: str = "", htmx: bool = True):
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(f"{URL}?{query}&part={name}" if query else f"{URL}?part={name}", headers=headers)
    assert response.status_code == 200
    return response


def test_the_page_loads_each_panel_after_it_and_links_to_it_without_javascript(manager_client):
    response = manager_client.get(URL, {"period": "90d"})

    html = response.content.decode()
    for name in ("risk", "at_risk", "lost", "actions", "warned"):
        assert f'hx-get="{URL}?period=90d&amp;part={name}"' in html
        assert f'href="{URL}?period=90d&amp;part={name}"' in html
    assert "Value lost by closure reason" in html


def test_risk_over_time_shows_each_scored_day_by_band_with_the_value_at_risk(manager_client, shop):
    rows = table(part(manager_client, "risk", "period=30d"), "table-risk")

    assert rows[1:] == [
        [date_format(shop.earlier, "SHORT_DATE_FORMAT"), "2", "2", "2", "6", "¥1,325.00"],
        [date_format(today(), "SHORT_DATE_FORMAT"), "3", "1", "2", "6", "¥1,725.00"],
    ]


def test_risk_over_time_narrows_to_the_period_and_to_an_owner(manager_client, shop):
    ten_days_ago = f"period=custom&start={shop.earlier}&end={shop.earlier}"
    assert table(part(manager_client, "risk", ten_days_ago), "table-risk")[1:] == [
        [date_format(shop.earlier, "SHORT_DATE_FORMAT"), "2", "2", "2", "6", "¥1,325.00"]
    ]
    chen_today = table(part(manager_client, "risk", f"period=30d&owner={shop.chen.pk}"), "table-risk")[-1]
    assert chen_today[1:] == ["1", "0", "2", "3", "¥800.00"]


def test_a_long_period_shows_the_last_scored_day_of_each_week(manager_client, shop):
    response = part(manager_client, "risk", "period=12m")

    assert "on the last scored day of each week" in response.content.decode()
    assert [row[0] for row in table(response, "table-risk")[1:]] == [
        date_format(d, "SHORT_DATE_FORMAT")
        for d in sorted({shop.earlier, today()})
        if d == today() or shop.earlier.isocalendar()[:2] != today().isocalendar()[:2]
    ]


def test_at_risk_now_counts_medium_and_high_customers_by_segment_and_by_owner(manager_client, shop):
    response = part(manager_client, "at_risk", "period=30d")

    assert table(response, "at-risk-by-segment")[1:] == [
        ["At risk", "2", "0", "2", "¥1,125.00"],
        ["Lost", "1", "0", "1", "¥420.00"],
        ["Hibernating", "0", "1", "1", "¥180.00"],
        ["Total", "3", "1", "4", "¥1,725.00"],
    ]
    assert table(response, "at-risk-by-owner")[1:] == [
        ["Li Na", "2", "1", "3", "¥925.00"],
        ["owner_chen", "1", "0", "1", "¥800.00"],
    ]


def test_at_risk_now_reads_the_latest_scored_day_of_the_period(manager_client, shop):
    response = part(manager_client, "at_risk", f"period=custom&start={shop.earlier}&end={shop.earlier}")

    assert ["Total", "2", "2", "4", "¥1,325.00"] in table(response, "at-risk-by-segment")


def test_value_lost_sums_the_expected_value_of_the_closed_cards_by_reason_and_category(manager_client, shop):
    response = part(manager_client, "lost", "period=30d")

    assert table(response, "lost-by-reason")[1:] == [
        ["Price too high", "Price", "2", "¥1,100.00", "78.6%", "¥1,600.00", "100.0%"],
        ["Dissatisfied with service", "Service", "1", "¥300.00", "21.4%", "¥1,500.00", "0.0%"],
        ["Total", "3", "¥1,400.00", "100.0%", "¥3,100.00", "66.7%"],
    ]
    assert table(response, "lost-by-category")[1:3] == [
        ["Price", "2", "¥1,100.00", "78.6%", "¥1,600.00", "100.0%"],
        ["Service", "1", "¥300.00", "21.4%", "¥1,500.00", "0.0%"],
    ]
    price = ClosureReason.objects.get(code="price")
    assert f"reason={price.pk}" in response.content.decode()  # the bar and the row open the closure list


def test_value_lost_counts_every_action_when_asked_and_leaves_reinstated_cards_out(manager_client, shop):
    assert table(part(manager_client, "lost", "period=30d&action=all"), "lost-by-reason")[-1] == [
        "Total", "4", "¥1,400.00", "100.0%", "¥3,100.00", "50.0%"
    ]  # fmt: skip
    ClosureValue.objects.filter(reason_id=ClosureReason.objects.get(code="service").pk).update(reverted=True)
    assert table(part(manager_client, "lost", "period=30d"), "lost-by-reason")[-1][:2] == ["Total", "2"]


def test_reasons_are_named_in_the_readers_language(manager_client, shop):
    with translation.override("zh-hans"):
        response = manager_client.get(f"{URL}?period=30d&part=lost", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "价格过高" in response.content.decode()


def test_retention_actions_by_kind_and_outcome_with_the_retention_rate(manager_client, shop):
    response = part(manager_client, "actions", "period=30d")

    # Waiting, retained, closed, no purchase in time, total, retention rate
    assert table(response, "actions-by-outcome")[1:] == [
        ["Callback", "0", "0", "1", "0", "1", "0.0%"],
        ["Retention attempt", "1", "1", "0", "0", "2", "100.0%"],
        ["Total", "1", "1", "1", "0", "3", "50.0%"],
    ]
    assert table(response, "actions-closed-reasons")[1:] == [["Price too high", "1"]]
    assert RetentionAction.objects.filter(outcome="closed").get().closure.reason.code == "price"


def test_retention_actions_narrow_to_the_cards_of_an_owner(manager_client, shop):
    response = part(manager_client, "actions", f"period=30d&owner={shop.chen.pk}")

    assert table(response, "actions-by-outcome")[-1] == ["Total", "1", "0", "0", "0", "1", "—"]


def test_early_warning_counts_the_closures_warned_beforehand_and_the_lead_times(manager_client, shop):
    response = part(manager_client, "warned", "period=30d")

    html = response.content.decode()
    assert "2 of 3 closures" in html and "66.7%" in html
    assert re.search(r'id="figure-median-lead">.*?<div class="value">25.0</div>', html, re.S)
    assert re.search(r'id="figure-mean-lead">.*?<div class="value">25.0</div>', html, re.S)
    assert table(response, "lead-times")[1:] == [
        ["0–7 days", "1", "50.0%"],
        ["8–30 days", "0", "0.0%"],
        ["31–90 days", "1", "50.0%"],
        ["90+ days", "0", "0.0%"],
    ]
    assert "2 of 4 closures" in part(manager_client, "warned", "period=30d&action=all").content.decode()


def test_closures_outside_the_period_are_not_counted(manager_client, shop):
    before = f"period=custom&start={today() - timedelta(days=60)}&end={today() - timedelta(days=1)}"

    for name in ("lost", "warned"):
        assert "No closures in this period." in part(manager_client, name, before).content.decode()
    assert "No retention action was taken in this period." in part(manager_client, "actions", before).content.decode()


def test_without_javascript_a_panel_is_a_page_of_its_own(manager_client, shop):
    response = part(manager_client, "lost", "period=30d", htmx=False)

    html = response.content.decode()
    assert "<h1>Value lost by closure reason</h1>" in html and 'id="filters-form"' in html
    assert table(response, "lost-by-reason")[-1][:2] == ["Total", "3"]


def test_with_no_data_each_panel_says_so(manager_client):
    sentences = {
        "risk": "No scores were kept in this period",
        "at_risk": "No scores were kept in this period",
        "lost": "No closures in this period.",
        "actions": "No retention action was taken in this period.",
        "warned": "No closures in this period.",
    }
    for name, sentence in sentences.items():
        assert sentence in part(manager_client, name).content.decode()


def test_bad_filters_are_shown_next_to_their_field_not_a_500(manager_client, shop):
    response = manager_client.get(URL, {"period": "custom", "start": "2026-05-01", "end": "2026-04-01", "owner": "x"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "The end date is before the start date." in html
    assert "Select a valid choice." in html


def test_staff_may_not_see_the_dashboard(staff_client):
    assert staff_client.get(URL).status_code == 403
    assert staff_client.get(f"{URL}?part=lost").status_code == 403


def test_the_export_holds_the_tables_of_the_page(manager_client, shop):
    from openpyxl import load_workbook

    response = manager_client.post(reverse("analytics:churn_warning_export") + "?period=30d")

    assert response["Content-Disposition"].startswith('attachment; filename="churn-warning-')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Churn warning", "Risk over time", "At risk now", "Value lost", "Retention actions", "Early warning"
    ]  # fmt: skip
    lost = list(book["Value lost"].iter_rows(min_row=2, values_only=True))
    assert lost[0][:5] == ("Reason", "Price too high", "Price", 2, 1100)
    assert lost[-1][:5] == ("Total", None, None, 3, 1400)
    risk = list(book["Risk over time"].iter_rows(min_row=2, values_only=True))
    assert [row[3:] for row in risk] == [(2, 2, 2, 6, 1325), (3, 1, 2, 6, 1725)]
    early = {row[0]: row[1] for row in book["Early warning"].iter_rows(max_row=5, values_only=True)}
    assert early["Closures"] == 3 and early["Warned beforehand"] == 2 and early["Median lead time (days)"] == 25


def test_staff_may_not_export_it(staff_client):
    assert staff_client.post(reverse("analytics:churn_warning_export")).status_code == 403
