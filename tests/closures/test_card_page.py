"""What the customer card shows: the closure actions menu, the closure panel and the timeline."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from closures import erasure, operations
from closures.models import ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from closures.templatetags.closure_tags import closure_state
from tests.factories import ClosureFactory, CustomerFactory

from .steps import card_url, close_through_pages, reason, start_url

pytestmark = pytest.mark.django_db


def menu_of(client, customer) -> str:
    response = client.get(card_url(customer))
    assert response.status_code == 200
    return response.content.decode()


def test_staff_see_close_void_and_archive_on_an_active_card(staff_client):
    customer = CustomerFactory()
    page = menu_of(staff_client, customer)
    for action in ("close", "void", "archive"):
        assert start_url(customer, action) in page
    assert ">Close card<" in page and ">Void record<" in page and ">Archive<" in page
    assert start_url(customer, "erase") not in page
    assert reverse("closures:reinstate", kwargs={"pk": customer.pk}) not in page


def test_only_admins_see_delete(admin_client, manager_client):
    customer = CustomerFactory()
    assert start_url(customer, "erase") in menu_of(admin_client, customer)
    assert start_url(customer, "erase") not in menu_of(manager_client, customer)


def test_a_closed_card_offers_reinstate_to_managers_and_no_closing(manager_client, staff_client, manager_user):
    customer = CustomerFactory()
    operations.close_customer(customer, ClosureChoice("close", reason("price")), by=manager_user)
    manager_page = menu_of(manager_client, customer)
    assert reverse("closures:reinstate", kwargs={"pk": customer.pk}) in manager_page
    assert start_url(customer, "close") not in manager_page
    assert reverse("closures:reinstate", kwargs={"pk": customer.pk}) not in menu_of(staff_client, customer)


def test_after_confirming_the_card_shows_the_message_the_closure_and_its_timeline_entry(staff_client):
    survivor = CustomerFactory(customer_no="K000009")
    customer = CustomerFactory(customer_no="K000001")
    choice = {"reason": reason("duplicate").pk, "notes": "同一人两张卡", "duplicate_of": "K000009"}
    page = staff_client.post(start_url(customer, "void"), choice)
    token = page.context["form"]["token"].value()

    response = staff_client.post(
        reverse("closures:confirm", kwargs={"pk": customer.pk, "action": "void"}), {"token": token}, follow=True
    )

    html = response.content.decode()
    assert "Record K000001 was voided." in html
    assert "Record voided" in html  # the timeline entry
    assert reason("duplicate").label_en in html
    assert "同一人两张卡" in html
    assert card_url(survivor) in html  # the duplicate-of link in the panel
    assert "Li Na" in html


def test_the_panel_shows_a_pending_request_and_hides_the_closing_actions(staff_client, staff_user):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    customer = CustomerFactory()
    close_through_pages(staff_client, customer, "close", reason=reason("price"))
    page = menu_of(staff_client, customer)
    assert "Pending approval" in page
    assert start_url(customer, "close") not in page


@pytest.mark.parametrize(("closed", "queries"), [(True, 2), (False, 1)], ids=["closed card", "active card"])
def test_the_closure_panel_and_menu_cost_a_query_or_two_however_long_the_history(
    closed, queries, django_assert_num_queries, staff_user, manager_user
):
    customer = CustomerFactory()
    for _ in range(5):
        ClosureFactory(customer=customer, reverted_at=customer.created_at)
    if closed:
        operations.close_customer(customer, ClosureChoice("close", reason("price")), by=manager_user)
        customer.refresh_from_db()
    request = RequestFactory().get("/")
    request.user = staff_user
    context = {"customer": customer, "user": staff_user}
    staff_user.get_all_permissions()  # loaded once per request by the permission check already

    # A closed card: its open closure, then my last request. An active card: the pending request and mine, together.
    with django_assert_num_queries(queries):
        render_to_string("closures/_card_panel.html", context, request=request)
        render_to_string("closures/_card_actions.html", context, request=request)


def test_the_erased_card_page_shows_no_personal_data(admin_client, admin_user):
    customer = CustomerFactory(
        customer_no="K000002", name="钱多多", phone="+8613712345678", email="qdd@example.cn", address="北京路1号"
    )
    erasure.erase_customer(
        customer, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation="K000002"
    )

    html = menu_of(admin_client, customer)
    for value in ("钱多多", "+8613712345678", "137 1234 5678", "qdd@example.cn", "北京路1号"):
        assert value not in html
    assert "K000002" in html
    assert reverse("closures:reinstate", kwargs={"pk": customer.pk}) not in html
    assert start_url(customer, "erase") not in html
    found = admin_client.get(reverse("customers:search"), {"q": "钱多多", "status": ["erased"]}).content.decode()
    assert "K000002" not in found


def _state(customer, user):
    return closure_state({"user": user}, customer)


def _request(customer, user, state, minutes_ago):
    return ClosureRequest.objects.create(
        customer=customer,
        action="close",
        reason=reason("price"),
        requested_by=user,
        requested_at=timezone.now() - timedelta(minutes=minutes_ago),
        state=state,
    )


def test_an_active_card_knows_someone_elses_pending_request_and_my_last_decided_one(staff_user, manager_user):
    customer = CustomerFactory()
    _request(customer, staff_user, "rejected", minutes_ago=90)
    mine = _request(customer, staff_user, "rejected", minutes_ago=60)
    theirs = _request(customer, manager_user, "pending", minutes_ago=30)
    state = _state(customer, staff_user)
    assert state.pending == theirs
    assert state.my_last_request == mine and state.outcome == mine


def test_my_own_pending_request_is_both_the_pending_one_and_my_last(staff_user):
    customer = CustomerFactory()
    _request(customer, staff_user, "rejected", minutes_ago=60)
    pending = _request(customer, staff_user, "pending", minutes_ago=5)
    state = _state(customer, staff_user)
    assert state.pending == pending and state.my_last_request == pending
    assert state.outcome is None
