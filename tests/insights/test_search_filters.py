"""The customer search's filters by churn risk band, RFM segment and value band (insights registers
them with customers.extra_filters): each narrows the results page to the right cards, stays in the
URL, in a saved view and in the export; a bad value is left out with a message; a user without
insights.view_score neither sees nor gets them."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from customers.models import SavedView
from insights.models import Score, Segment
from insights.risk import band
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
SEARCH = reverse("customers:search")


def scored(number, risk, worth, segment=Segment.LOYAL):
    card = CustomerFactory(customer_no=number, name=f"客户{number}")
    Score.objects.create(
        customer=card,
        computed_at="2026-12-01T02:30:00+08:00",
        as_of=date(2026, 12, 1),
        risk=risk,
        band=band(risk)["key"],  # as the run writes it
        segment=segment,
        expected_value=None if worth is None else Decimal(worth),
    )
    return card


@pytest.fixture
def book():
    """Five scored cards across the bands (risk: high from 50, medium from 25; value: high from 1,000,
    medium from 200) and one not scored."""
    scored("R1", 85, "5000.00", Segment.AT_RISK)  # high risk, high value
    scored("R2", 45, "600.00", Segment.HIBERNATING)  # medium risk, medium value
    scored("R3", 10, "50.00", Segment.CHAMPIONS)  # low risk, low value
    scored("R4", 50, None, Segment.AT_RISK)  # high risk (the band's lowest), no value
    scored("R5", 24, "1000.00", Segment.LOYAL)  # low risk (just under medium), high value (its lowest)
    CustomerFactory(customer_no="R6", name="客户R6")  # not scored


def numbers(response) -> set[str]:
    html = response.content.decode()
    return {number for number in ("R1", "R2", "R3", "R4", "R5", "R6") if f">{number}<" in html}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"risk": "high"}, {"R1", "R4"}),
        ({"risk": "medium"}, {"R2"}),
        ({"risk": "low"}, {"R3", "R5"}),
        ({"risk": "medium_high"}, {"R1", "R2", "R4"}),
        ({"rfm": "at_risk"}, {"R1", "R4"}),
        ({"rfm": "champions"}, {"R3"}),
        ({"value": "high"}, {"R1", "R5"}),
        ({"value": "medium"}, {"R2"}),
        ({"value": "low"}, {"R3"}),
        ({"value": "none"}, {"R4", "R6"}),
        ({"risk": "high", "value": "high"}, {"R1"}),
        ({"risk": "medium_high", "rfm": "hibernating", "q": "客户"}, {"R2"}),
        ({}, {"R1", "R2", "R3", "R4", "R5", "R6"}),
    ],
)
def test_each_filter_narrows_the_results_to_the_right_cards(staff_client, book, query, expected):
    assert numbers(staff_client.get(SEARCH, query)) == expected


def test_the_filters_are_in_the_advanced_filters_with_the_value_bands_in_words(staff_client, book):
    html = staff_client.get(SEARCH, {"filters": "open"}).content.decode()
    assert 'name="risk"' in html and 'name="rfm"' in html and 'name="value"' in html
    assert "Churn risk" in html and "RFM segment" in html and "Hibernating" in html
    assert "High value: ¥1,000.00 or more" in html and "Medium value: ¥200.00 to ¥1,000.00" in html


def test_the_chosen_filters_stay_in_the_url_and_in_the_form(staff_client, book):
    html = staff_client.get(SEARCH, {"risk": "high", "o": "customer_no"}).content.decode()
    assert '<option value="high" selected>' in html
    assert "risk=high" in html  # the sort links and the pages keep it
    assert numbers(staff_client.get(SEARCH, {"risk": "high", "o": "customer_no", "page": "1"})) == {"R1", "R4"}


def test_the_value_bands_follow_the_setting(staff_client, book, settings):
    settings.INSIGHTS_VALUE_BANDS = (4000, 500)
    assert numbers(staff_client.get(SEARCH, {"value": "high"})) == {"R1"}
    assert numbers(staff_client.get(SEARCH, {"value": "medium"})) == {"R2", "R5"}


def test_the_risk_bands_are_those_the_last_scoring_run_wrote(staff_client, book, settings):
    """The filter reads each score's stored band (its index serves the search), so a change of
    INSIGHTS_RISK_BANDS shows once a run has rescored the cards (every 15 minutes for changed cards,
    every night for all), as the field's help says: "As the last scoring run left it"."""
    settings.INSIGHTS_RISK_BANDS = {"high": 80, "medium": 20}
    assert numbers(staff_client.get(SEARCH, {"risk": "high"})) == {"R1", "R4"}

    for score in Score.objects.all():  # what the next run writes
        Score.objects.filter(pk=score.pk).update(band=band(score.risk)["key"])

    assert numbers(staff_client.get(SEARCH, {"risk": "high"})) == {"R1"}
    assert numbers(staff_client.get(SEARCH, {"risk": "medium"})) == {"R2", "R4", "R5"}


def test_a_saved_view_keeps_the_filters_and_opens_them_again(staff_client, staff_user, book):
    form = staff_client.get(reverse("customers:saved_view_create"), {"risk": "high", "value": "high", "page": "2"})
    page = form.content.decode()
    assert "Churn risk" in page and "High risk" in page and "High value: ¥1,000.00 or more" in page

    staff_client.post(reverse("customers:saved_view_create"), {"name": "大客户流失", "query": "risk=high&value=high"})

    view = SavedView.objects.get(owner=staff_user)
    assert view.query == "risk=high&value=high"
    opened = staff_client.get(reverse("customers:saved_view_open", args=[view.pk]), follow=True)
    assert numbers(opened) == {"R1"}


@pytest.mark.parametrize("query", [{"risk": "extreme"}, {"rfm": "<script>"}, {"value": "1000"}, {"risk": ["", "x"]}])
def test_a_bad_value_is_left_out_with_a_message_never_a_500(staff_client, book, query):
    response = staff_client.get(SEARCH, query)
    assert response.status_code == 200
    assert numbers(response) == {"R1", "R2", "R3", "R4", "R5", "R6"}
    if any(query.values()) and query != {"risk": ["", "x"]}:
        assert "Select a valid choice." in response.content.decode()


def test_the_export_applies_the_filters(admin_client, book):
    import io

    from openpyxl import load_workbook

    response = admin_client.get(reverse("customers:export"), {"format": "xlsx", "risk": "high"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == ["R1", "R4"]


@pytest.fixture
def without_scores():
    """A user who may search customers but not read scores."""
    user = UserFactory(username="no_scores")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="customers", codename="view_customer"))
    client = Client()
    client.force_login(user)
    return client


def test_a_user_without_insights_view_score_neither_sees_nor_gets_the_filters(without_scores, book):
    html = without_scores.get(SEARCH, {"filters": "open"}).content.decode()
    assert 'name="risk"' not in html and 'name="value"' not in html and 'name="rfm"' not in html
    ignored = without_scores.get(SEARCH, {"risk": "high", "rfm": "at_risk", "value": "none"})
    assert numbers(ignored) == {"R1", "R2", "R3", "R4", "R5", "R6"}


def test_a_risk_filtered_search_pages_newest_first_as_one_ordered_query_would(staff_user, monkeypatch):
    """The search reads the band's cards from the band's index a chunk at a time (customers.results.
    DrivenBy); its pages, their order and its count are those of the plain query, with closed cards
    and other filters still applied, across chunk boundaries and with two bands merged."""
    from customers import filters as search_filters
    from customers.models import Customer
    from customers.results import COUNT_CAP, DrivenBy, SearchPaginator

    monkeypatch.setattr(DrivenBy, "FIRST_CHUNK", 4)
    monkeypatch.setattr(DrivenBy, "CHUNK", 5)
    other_owner = UserFactory(role="Staff")
    for i in range(40):
        card = scored(f"D{i:02}", risk=(90, 40, 10)[i % 3], worth="100.00")
        if i % 7 == 0:
            Customer.objects.filter(pk=card.pk).update(status=Customer.Status.CLOSED)
        if i % 5 == 0:
            Customer.objects.filter(pk=card.pk).update(owner=other_owner)

    for query in ({"risk": "high"}, {"risk": "medium_high"}, {"risk": "low", "owner": str(other_owner.pk)}):
        _filterset, results = search_filters.search_results(query, staff_user)
        assert isinstance(results, DrivenBy)
        _filterset, plain = search_filters.filtered_customers(query, staff_user)
        expected = list(plain.values_list("pk", flat=True))
        assert 0 < len(expected) < 40
        paginator = SearchPaginator(results, per_page=3, cap=COUNT_CAP)
        assert paginator.count == len(expected)
        pages = [c.pk for number in paginator.page_range for c in paginator.page(number).object_list]
        assert pages == expected, query


def test_a_search_by_text_or_another_sort_is_not_driven_by_the_band(staff_user, book):
    from customers import filters as search_filters
    from customers.results import DrivenBy

    assert not isinstance(search_filters.search_results({"risk": "high", "q": "客户"}, staff_user)[1], DrivenBy)
    assert not isinstance(search_filters.search_results({"risk": "high", "o": "name"}, staff_user)[1], DrivenBy)
