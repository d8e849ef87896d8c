"""Each closure action end to end in a browser, by a role that may, and refused to one that may not."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from closures.models import Closure
from customers.models import Customer
from tests.browser.conftest import open_action
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _choose_reason_and_continue(page, notes="客户来电要求销卡"):
    select = page.get_by_label("Reason")
    values = select.locator("option").evaluate_all("(opts) => opts.map(o => o.value).filter(v => v)")
    select.select_option(values[0])
    page.get_by_label("Notes").fill(notes)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("label", "action", "status"),
    [("Close card", "close", "closed"), ("Void record", "void", "void"), ("Archive", "archive", "archived")],
)
def test_staff_closes_voids_and_archives_a_card(page, login, label, action, status):
    customer = CustomerFactory(name="陈静")
    login("Staff")
    open_action(page, customer, label)
    _choose_reason_and_continue(page)
    expect(page.get_by_text("Active").first).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    expect(page.locator(".message.success")).to_be_visible()
    customer.refresh_from_db()
    assert customer.status == status
    assert Closure.objects.get(customer=customer).action == action
    assert "客户来电要求销卡" in page.locator(".timeline").inner_text()


def test_cancel_on_the_confirmation_changes_nothing(page, login):
    customer = CustomerFactory(name="赵敏")
    login("Staff")
    open_action(page, customer, "Close card")
    _choose_reason_and_continue(page)
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_load_state()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert not Closure.objects.filter(customer=customer).exists()


def test_manager_reinstates_a_closed_card(page, login):
    customer = CustomerFactory(name="孙丽")
    login("Manager")
    open_action(page, customer, "Close card")
    _choose_reason_and_continue(page)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    open_action(page, customer, "Reinstate")
    page.get_by_label("Note").fill("客户回来了")
    page.get_by_role("button", name="Reinstate").click()
    page.wait_for_load_state()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert Closure.objects.get(customer=customer).reverted_at is not None


def test_admin_deletes_a_card_with_typed_confirmation(page, login):
    customer = CustomerFactory(name="周杰", customer_no="C000777", phone="+8613655556666")
    login("Admin")
    open_action(page, customer, "Delete")
    _choose_reason_and_continue(page, notes="客户要求删除个人信息")
    page.get_by_label("Type the customer number to confirm").fill("C000777")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ERASED
    assert customer.name != "周杰" and customer.phone == ""
    assert "周杰" not in page.content() and "13655556666" not in page.content()


def test_staff_see_no_delete_or_reinstate_and_cannot_open_them(page, login):
    customer = CustomerFactory(name="吴刚")
    login("Staff")
    page.goto(reverse("customers:card", args=[customer.pk]))
    page.get_by_text("Actions", exact=True).click()
    assert page.get_by_role("link", name="Delete", exact=True).count() == 0
    assert page.get_by_role("link", name="Reinstate", exact=True).count() == 0
    response = page.goto(reverse("closures:start", args=[customer.pk, "erase"]))
    assert response.status == 403


def test_manager_sees_the_dashboard_and_staff_get_403(page, login):
    login("Manager")
    response = page.goto(reverse("analytics:dashboard"))
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.context.clear_cookies()
    login("Staff", username="browser_staff_2")
    assert page.goto(reverse("analytics:dashboard")).status == 403
