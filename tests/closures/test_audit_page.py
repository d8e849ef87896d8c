"""The audit page: every change, filterable by who, what, when and customer; read-only."""

import datetime as dt
import html
import re

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


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"since": "not-a-date"}, "since", "Enter a valid date."),
        ({"until": "2024-02-30"}, "until", "Enter a valid date."),
        ({"actor": "999999"}, "actor", "Select a valid choice. That choice is not one of the available choices."),
        ({"action": "closure.explode"}, "action", "Select a valid choice. closure.explode is not one of the available"),
    ],
)
def test_bad_filter_values_give_a_message_not_a_500(manager_client, entries, query, field, message):
    response = manager_client.get(reverse("closures:audit"), query)
    assert response.status_code == 200
    body = response.content.decode()
    error = re.search(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', body)
    assert error and message in html.unescape(error.group(1))  # next to the field that caused it
    assert "No audit entries match these filters." in body and "C100001" not in body


@pytest.mark.parametrize("page", ["abc", "-5", "0"])
def test_a_bad_page_value_shows_the_first_page(manager_client, entries, page):
    response = manager_client.get(reverse("closures:audit"), {"page": page})
    assert response.status_code == 200
    body = response.content.decode()
    assert "No audit entries match these filters." not in body
    assert body.index("C100002") < body.index("C100001")  # both entries, newest first


def test_staff_cannot_see_the_audit_log(staff_client):
    assert staff_client.get(reverse("closures:audit")).status_code == 403
