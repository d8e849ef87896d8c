"""The audit page: every change, filterable by who, what, when and customer; read-only."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import audit
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(staff_user, manager_user):
    first = CustomerFactory(customer_no="C100001")
    second = CustomerFactory(customer_no="C100002")
    audit.record(
        "customer.update", actor=staff_user, obj=first, customer_id=first.pk, changes={"city": ["上海", "北京"]}
    )
    audit.record(
        "closure.close",
        actor=manager_user,
        obj=second,
        customer_id=second.pk,
        reason="Price too high",
        notes="<script>alert(1)</script>",
    )
    return first, second


def test_managers_see_every_entry_with_who_what_and_changes(manager_client, entries):
    response = manager_client.get(reverse("closures:audit"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Card edited" in body and "Card closed" in body
    assert "上海" in body and "北京" in body
    assert "C100001" in body


def test_notes_are_escaped(manager_client, entries):
    body = manager_client.get(reverse("closures:audit")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_filter_by_customer_number_who_and_what(manager_client, entries, staff_user):
    def shown(query):
        page = manager_client.get(reverse("closures:audit"), query).context["page_obj"]
        return [entry.action for entry in page.object_list]

    assert shown({"customer": "c100002"}) == ["closure.close"]
    assert shown({"actor": staff_user.pk}) == ["customer.update"]
    assert shown({"action": "closure.close"}) == ["closure.close"]


def test_filter_by_date_range(manager_client, entries):
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    body = manager_client.get(reverse("closures:audit"), {"since": tomorrow}).content.decode()
    assert "No audit entries match these filters." in body


@pytest.mark.parametrize("query", [{"since": "not-a-date"}, {"actor": "999999"}, {"page": "abc"}, {"page": "-5"}])
def test_bad_filter_values_give_a_message_not_a_500(manager_client, entries, query):
    response = manager_client.get(reverse("closures:audit"), query)
    assert response.status_code == 200


def test_staff_cannot_see_the_audit_log(staff_client):
    assert staff_client.get(reverse("closures:audit")).status_code == 403
