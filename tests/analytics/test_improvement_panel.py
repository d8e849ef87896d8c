"""The dashboard's improvement actions: each action's before/after closure rate of the categories it
targets, recomputed here from the raw rows (the history's oracle style), with the card filters, the
filters that hide the rate, an incomplete window, the marks on the monthly chart, and the cost."""

import re
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import improvements
from analytics.filters import ClosureFilter, local_today
from customers.models import Customer
from followups.models import Improvement
from tests.factories import ClosureFactory, CustomerFactory

from .history import Filters, local_day, midnight

URL = reverse("analytics:dashboard")
PANEL = {"part": "improvements"}  # the panel comes after the dashboard, from the same view
Q1 = Filters(date(2024, 1, 1), date(2024, 3, 31))
DAYS = improvements.WINDOW_DAYS


def _action(manager, day: date, categories, title="Price match") -> Improvement:
    return Improvement.objects.create(title=title, started_on=day, categories=categories, created_by=manager)


# --- the oracle: plain Python over the history's rows ---------------------------------------------
def _in_population(customer, f: Filters, city: str = "") -> bool:
    return (
        (not f.segment or customer.segment == f.segment)
        and (f.owner is None or customer.owner_id == f.owner.pk)
        and (not city or city in customer.city)
    )


def _active(h, f: Filters, first: date, last: date, city: str = "") -> int:
    """Cards that were customers, and not inactive throughout, at some moment of the days."""
    start, end = midnight(first), midnight(last + timedelta(days=1))
    n = 0
    for customer in h.customers:
        if not _in_population(customer, f, city) or customer.customer_since > last:
            continue
        inactive = any(
            c.customer_id == customer.pk and c.performed_at < start and (c.reverted_at is None or c.reverted_at >= end)
            for c in h.closures
        )
        n += not inactive
    return n


def _closed(h, f: Filters, categories, first: date, last: date, city: str = "") -> int:
    cards = {customer.pk: customer for customer in h.customers}
    return len(
        {
            c.customer_id
            for c in h.closures
            if c.action == (f.action or "close")
            and c.category in categories
            and (f.include_reverted or c.reverted_at is None)
            and first <= local_day(c.performed_at) <= last
            and _in_population(cards[c.customer_id], f, city)
        }
    )


def _oracle(h, f: Filters, item: Improvement, city: str = "") -> dict:
    day = item.started_on
    out = {}
    for side, first, last in (
        ("before", day - timedelta(days=DAYS), day - timedelta(days=1)),
        ("after", day, day + timedelta(days=DAYS - 1)),
    ):
        closed = _closed(h, f, set(item.categories), first, last, city)
        active = _active(h, f, first, last, city)
        out[side] = (first, last, closed, active, closed / active if active else None)
    return out


def _panel(f: Filters, **extra) -> improvements.Panel:
    return improvements.compare(ClosureFilter({**f.query(), **extra}))


def _check(panel_row, want: dict) -> None:
    for side in ("before", "after"):
        window = getattr(panel_row, side)
        first, last, closed, active, rate = want[side]
        assert (window.period.first, window.period.last) == (first, last)
        assert (window.closed, window.active) == (closed, active), side
        assert window.rate == pytest.approx(rate)
    assert panel_row.change == pytest.approx((want["after"][4] - want["before"][4]) * 100)


# --- the figures ---------------------------------------------------------------------------------
def test_each_actions_rate_before_and_after_is_its_categories_closed_cards_over_the_active_cards(history, manager_user):
    price = _action(manager_user, date(2024, 1, 15), ["price"])
    service = _action(manager_user, date(2024, 2, 20), ["service", "moved"], title="Hotline")
    panel = _panel(Q1)
    assert [row.improvement for row in panel.rows] == [service, price]  # newest first
    assert panel.rows[1].before.closed > 0 and panel.rows[0].after.closed > 0  # the history has such closures
    for row in panel.rows:
        assert row.complete and not row.planned
        _check(row, _oracle(history, Q1, row.improvement))


@pytest.mark.parametrize(
    "extra",
    [
        {"segment": "regular"},
        {"action": "archive"},
        {"reverted": True},
    ],
)
def test_the_rates_follow_the_card_filters_the_action_and_reverted_closures(history, manager_user, extra):
    item = _action(manager_user, date(2024, 1, 15), ["price", "service", "product"])
    f = Filters(Q1.first, Q1.last, segment=extra.get("segment", ""), action=extra.get("action", ""))
    f.include_reverted = extra.get("reverted", False)
    row = _panel(f).rows[0]
    _check(row, _oracle(history, f, item))


def test_the_rates_follow_the_owner_filter(history, manager_user):
    item = _action(manager_user, date(2024, 1, 15), ["price", "service"])
    f = Filters(Q1.first, Q1.last, owner=history.owners[0])
    _check(_panel(f).rows[0], _oracle(history, f, item))


def test_the_rates_follow_a_card_only_filter_counted_in_memory(history, manager_user):
    """A city filter: the population's closures are held in memory (analytics/held.py)."""
    moved = history.customers[::3]
    Customer.objects.filter(pk__in=[c.pk for c in moved]).update(city="北京市")
    for customer in moved:
        customer.city = "北京市"
    item = _action(manager_user, date(2024, 1, 15), ["price", "service"])
    row = _panel(Q1, city="北京").rows[0]
    want = _oracle(history, Q1, item, city="北京")
    assert want["before"][3] < len(history.customers) // 2  # the filter really narrows
    _check(row, want)


@pytest.mark.parametrize("name", ["category", "reason", "tenure"])
def test_filters_that_hide_the_churn_rate_hide_these_rates_and_say_why(history, manager_user, manager_client, name):
    _action(manager_user, date(2024, 1, 15), ["price"])
    value = {"category": "price", "reason": str(history.reasons["price"].pk), "tenure": "gt3y"}[name]
    response = manager_client.get(URL, {**Q1.query(), name: value, **PANEL})
    panel = response.context["improvements"]
    assert panel.blocked_by and panel.rows[0].before is None and panel.rows[0].after is None
    html = response.content.decode()
    section = html[html.index('id="improvements"') :]
    assert "Rates not shown when filtering by" in section
    assert "of 0 cards" not in section and "%" not in section.split("</section>")[0].split("Rates not shown")[1]


def test_a_window_reaching_past_today_is_labelled_incomplete_and_counts_what_happened_so_far(
    history, manager_user, manager_client
):
    today = local_today()
    item = _action(manager_user, today - timedelta(days=20), ["price"])
    price = history.reasons["price"]
    for days_ago, category_reason in ((50, price), (30, price), (10, price), (5, history.reasons["service"])):
        customer = CustomerFactory(segment="regular", created_at=midnight(today - timedelta(days=900)))
        history.customers.append(customer)
        moment = midnight(today - timedelta(days=days_ago)) + timedelta(hours=10)
        history.closures.append(ClosureFactory(customer=customer, reason=category_reason, performed_at=moment))
    f = Filters(today - timedelta(days=29), today)
    response = manager_client.get(URL, {"period": "30d", **PANEL})
    row = response.context["improvements"].rows[0]
    want = _oracle(history, f, item)
    _check(row, want)
    assert (row.before.closed, row.after.closed) == (2, 1)
    assert row.before.complete and not row.after.complete and not row.complete
    assert row.after.days_so_far == 21
    html = response.content.decode()
    assert "Not complete yet" in html and f"21 of {DAYS} days so far" in html


def test_a_planned_action_is_listed_without_rates(history, manager_user, manager_client):
    _action(manager_user, local_today() + timedelta(days=40), ["price"], title="New loyalty tiers")
    response = manager_client.get(URL, {"period": "30d", **PANEL})
    row = response.context["improvements"].rows[0]
    assert row.planned and row.before is None and row.after is None
    assert "Planned: the comparison starts on its date." in response.content.decode()


def test_only_actions_whose_windows_overlap_the_period_are_shown_at_most_five_newest_first(history, manager_user):
    far = _action(manager_user, Q1.first - timedelta(days=DAYS + 1), ["price"], title="Too early")
    edge = _action(manager_user, Q1.first - timedelta(days=DAYS - 1), ["price"], title="Just in")
    late = _action(manager_user, Q1.last + timedelta(days=DAYS), ["price"], title="Just in, after")
    panel = _panel(Q1)
    assert far not in [r.improvement for r in panel.rows]
    assert [r.improvement for r in panel.rows] == [late, edge]
    for i in range(5):
        _action(manager_user, date(2024, 2, 1 + i), ["price"], title=f"Action {i}")
    panel = _panel(Q1)
    assert len(panel.rows) == improvements.MAX_SHOWN and panel.more
    assert [r.improvement.started_on for r in panel.rows] == sorted(
        (r.improvement.started_on for r in panel.rows), reverse=True
    )


def test_the_panel_states_plainly_that_it_is_a_comparison_not_proof(history, manager_user, manager_client):
    _action(manager_user, date(2024, 1, 15), ["price"])
    html = manager_client.get(URL, {**Q1.query(), **PANEL}).content.decode()
    assert "This is a comparison before and after, not proof that the action caused the change" in html
    assert f"in the {DAYS} days before its date" in html
    assert reverse("followups:improvement_list") in html  # the way to the actions' pages


def test_the_number_of_queries_does_not_grow_with_the_actions(history, manager_user, manager_client):
    query = urlencode({**Q1.query(), **PANEL})
    _action(manager_user, date(2024, 1, 15), ["price"])
    manager_client.get(f"{URL}?{query}")
    with CaptureQueriesContext(connection) as one:
        manager_client.get(f"{URL}?{query}")
    for i in range(6):
        _action(manager_user, date(2024, 2, 1 + i), ["service", "price"], title=f"Action {i}")
    manager_client.get(f"{URL}?{query}")  # on PostgreSQL the new windows' days are counted once, then cached
    with CaptureQueriesContext(connection) as many:
        manager_client.get(f"{URL}?{query}")
    assert len(many) == len(one)


# --- the marks on the monthly chart ----------------------------------------------------------------
def test_the_monthly_chart_marks_each_action_on_its_month_and_lists_them_as_text(history, manager_user, manager_client):
    _action(manager_user, date(2024, 2, 20), ["service"], title="Hotline <b>24h</b>")
    _action(manager_user, date(2024, 2, 3), ["price"], title="Price match")
    _action(manager_user, date(2024, 3, 9), ["price"], title="Coupons")
    _action(manager_user, date(2023, 6, 1), ["price"], title="Outside the chart")
    response = manager_client.get(URL, Q1.query())
    marks = response.context["improvement_marks"]
    assert [(m.number, m.improvement.title) for m in marks.items] == [
        (1, "Price match"),
        (2, "Hotline <b>24h</b>"),
        (3, "Coupons"),
    ]
    html = response.content.decode()
    columns = response.context["charts"]["trend"].columns
    february = next(c for c in columns if c.first == date(2024, 2, 1))
    march = next(c for c in columns if c.first == date(2024, 3, 1))
    assert re.search(rf'<line x1="{february.label_x}" x2="{february.label_x}"[^>]*></line><text[^>]*>1,2</text>', html)
    assert re.search(rf'<line x1="{march.label_x}"[^>]*></line><text[^>]*>3</text>', html)
    assert html.count('class="improvement-mark"') == 4  # two months, in the wide and the phone chart
    # ... and as text for screen readers (the charts themselves are hidden from them)
    listed = re.search(r'<ol aria-labelledby="trend-improvements">(.*?)</ol>', html, re.S).group(1)
    assert '<li value="2">' in listed and "Hotline &lt;b&gt;24h&lt;/b&gt; — Service" in listed
    assert "Outside the chart" not in listed and "<b>24h</b>" not in html


def test_no_marks_without_actions_in_the_charts_months(history, manager_client):
    response = manager_client.get(URL, Q1.query())
    assert response.context["improvement_marks"] is None
    assert "improvement-mark" not in response.content.decode()


def test_the_panel_and_the_marks_are_in_chinese(history, manager_user, manager_client):
    _action(manager_user, date(2024, 2, 20), ["service"], title="服务热线")
    html = manager_client.get(URL, Q1.query(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    html += manager_client.get(URL, {**Q1.query(), **PANEL}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "改进措施" in html and "这只是前后对比，并不能证明变化是由该措施引起的" in html
    assert "图中标出的改进措施" in html and "服务热线" in html


def test_the_dashboard_loads_the_panel_after_itself_and_htmx_gets_the_panel_alone(
    history, manager_user, manager_client
):
    _action(manager_user, date(2024, 1, 15), ["price"], title="Price match")
    page = manager_client.get(URL, Q1.query()).content.decode()
    loader = re.search(r'<div id="improvement-panel" hx-get="([^"]+)"', page)
    assert loader and "part=improvements" in loader.group(1)
    assert 'id="improvements"' not in page  # the panel itself is not computed with the page
    part = manager_client.get(URL, {**Q1.query(), **PANEL}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="improvements"' in part and "Price match" in part and "<html" not in part
