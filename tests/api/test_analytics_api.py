"""The Closure analytics figures through the API: the dashboard's numbers for the dashboard's filters."""

import pytest
from django.http import QueryDict

from analytics import figures
from analytics.filters import ClosureFilter
from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

FIGURES = "/api/v1/analytics/closures/"


@pytest.fixture
def closures(manager_user):
    for n, (code, segment) in enumerate([("price", "vip"), ("price", "regular"), ("service", "regular")]):
        card = CustomerFactory(customer_no=f"F00000{n}", segment=segment)
        operations.close_customer(card, ClosureChoice("close", ClosureReason.objects.get(code=code)), by=manager_user)


def test_the_figures_count_the_closures_by_reason_and_category(token_client, manager_user, closures):
    data = token_client(manager_user, "Manager").get(FIGURES).json()
    assert data["total"] == 3
    by_reason = {row["label"]: row["count"] for row in data["by_reason"]}
    assert by_reason == {"Price too high": 2, "Dissatisfied with service": 1}
    assert {row["key"]: row["count"] for row in data["by_category"]} == {"price": 2, "service": 1}
    assert data["by_staff"][0]["count"] == 3 and data["by_staff"][0]["label"] == "Wang Fang"
    assert sum(month["total"] for month in data["months"]) == 3


def test_the_figures_are_the_dashboards_for_the_same_filters(token_client, manager_user, closures):
    params = {"segment": "regular", "period": "90d"}
    data = token_client(manager_user, "Manager").get(FIGURES, params).json()
    query = QueryDict(mutable=True)
    query.update(params)
    page = figures.compute(ClosureFilter(query))
    assert data["total"] == page.total == 2
    assert [(row["key"], row["count"]) for row in data["by_reason"]] == [(str(s.key), s.count) for s in page.by_reason]
    assert data["period"]["first"] == page.period.first.isoformat()


def test_labels_follow_the_request_language(token_client, manager_user, closures):
    data = token_client(manager_user, "Manager").get(FIGURES, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "价格过高" in [row["label"] for row in data["by_reason"]]


def test_a_bad_filter_is_named(token_client, manager_user):
    response = token_client(manager_user, "Manager").get(FIGURES, {"period": "custom", "start": "yesterday"})
    assert response.status_code == 400
    assert "start" in response.json()["error"]["fields"]
