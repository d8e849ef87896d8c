"""The closure list: the same rows as the dashboard, 25 a page, sortable, erased names hidden."""

from datetime import date

import pytest
from django.urls import reverse

from tests.factories import ClosureFactory, CustomerFactory

from .history import Filters, expected, local

URL = reverse("analytics:closure_list")
Q1 = Filters(date(2024, 1, 1), date(2024, 3, 31))
WIDE = Filters(date(2023, 10, 1), date(2024, 4, 30), include_reverted=True)  # several pages


def test_staff_get_403_on_the_closure_list(staff_client):
    assert staff_client.get(URL).status_code == 403


@pytest.mark.parametrize(
    "make",
    [
        lambda h: Q1,
        lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), include_reverted=True),  # several pages
        lambda h: Filters(date(2024, 1, 1), date(2024, 3, 31), include_reverted=True, segment="key"),
        lambda h: Filters(date(2023, 10, 1), date(2024, 4, 30), by=h.staff[2], action="close"),
    ],
)
def test_the_list_holds_exactly_the_filtered_closures_newest_first(make, manager_client, history):
    f = make(history)
    want = sorted(expected(history, f)["rows"], key=lambda c: (c.performed_at, c.pk), reverse=True)
    seen, page = [], 1
    while True:
        response = manager_client.get(URL, {**f.query(), "page": page})
        seen += [c.pk for c in response.context["closures"]]
        assert response.context["total"] == len(want)
        if not response.context["page_obj"].has_next:
            break
        assert len(response.context["closures"]) == 25
        page += 1
    assert seen == [c.pk for c in want]
    assert page == -(-len(want) // 25) or not want


def test_rows_show_customer_reason_notes_and_who_and_link_to_the_card(manager_client, history):
    html = manager_client.get(URL, Q1.query()).content.decode()
    closure = next(c for c in expected(history, Q1)["rows"] if not c.customer_erased)
    assert reverse("customers:card", args=[closure.customer_id]) in html
    assert closure.customer.customer_no in html
    assert "Closer" in html and "王" in html


def test_erased_customers_show_no_name(manager_client, db):
    customer = CustomerFactory(customer_no="GONE1", name="秘密名字", status="erased")
    ClosureFactory(customer=customer, action="erase", customer_erased=True, performed_at=local(2024, 2, 1, 9))
    html = manager_client.get(URL, Filters(date(2024, 2, 1), date(2024, 2, 1)).query()).content.decode()
    assert "GONE1" in html
    assert "秘密名字" not in html


def test_sorting_by_customer_number_both_ways(manager_client, history):
    query = {**Filters(date(2024, 1, 1), date(2024, 1, 31)).query()}
    up = [c.customer.customer_no for c in manager_client.get(URL, {**query, "o": "customer"}).context["closures"]]
    down = [c.customer.customer_no for c in manager_client.get(URL, {**query, "o": "-customer"}).context["closures"]]
    assert up == sorted(up) and down == sorted(down, reverse=True) and len(up) > 2


@pytest.mark.parametrize(
    "extra", [{"o": "password"}, {"o": "-__class__"}, {"o": ""}, {"page": "abc"}, {"page": "0"}, {"page": "-3"}]
)
def test_bad_sort_or_page_values_are_ignored(extra, manager_client, history):
    """The page shows what it shows without them: page 1 of every filtered closure, newest first."""
    want = sorted(expected(history, WIDE)["rows"], key=lambda c: (c.performed_at, c.pk), reverse=True)
    response = manager_client.get(URL, {**WIDE.query(), **extra})
    assert response.status_code == 200
    assert [c.pk for c in response.context["closures"]] == [c.pk for c in want[:25]]
    assert response.context["page_obj"].number == 1 and response.context["total"] == len(want) > 25
    html = response.content.decode()
    assert f"{len(want)} closures match these filters." in html and "Showing 1–25." in html
    assert 'aria-sort="ascending"' not in html and 'aria-sort="descending"' not in html  # no column claims the sort


def test_a_page_number_past_the_last_page_lists_nothing_and_still_counts_every_match(manager_client, history):
    from analytics.listing import MAX_PAGE

    want = expected(history, WIDE)["rows"]
    response = manager_client.get(URL, {**WIDE.query(), "page": "999999999"})
    assert response.status_code == 200
    assert response.context["page_obj"].number == MAX_PAGE  # capped, so the OFFSET stays small
    assert list(response.context["closures"]) == []
    assert f"{len(want)} closures match these filters." in response.content.decode()


def test_the_count_is_capped_rather_than_counting_everything(manager_client, history, monkeypatch):
    from analytics import listing

    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    response = manager_client.get(URL, Q1.query())
    assert response.context["page_obj"].total_capped
    assert "More than 5 closures" in response.content.decode()
