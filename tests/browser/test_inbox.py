"""The inbox in a browser: the header's count visible on a phone, the inbox page within a phone's
width, and a Manager approving several requests at once with "Select all on this page"."""

import os

import pytest

from closures import operations
from closures.models import ClosureReason, ClosureRequest
from closures.rules import ClosureChoice
from tests.browser.conftest import PHONE
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def ask(by, number: str) -> ClosureRequest:
    choice = ClosureChoice("close", ClosureReason.objects.get(code="customer-request"), notes="客户要求")
    return operations.request_closure(CustomerFactory(customer_no=number), choice, by=by)


def shot(page, name: str) -> None:
    if os.environ.get("CRM_SCREENSHOTS"):  # to look at the pages: CRM_SCREENSHOTS=/tmp/shots
        page.screenshot(path=f"{os.environ['CRM_SCREENSHOTS']}/{name}.png", full_page=True)


@pytest.fixture
def phone(phone_page):
    return phone_page


def test_on_a_phone_the_requester_sees_the_count_and_reads_the_outcome(phone, manager_user):
    from tests.factories import TEST_PASSWORD, UserFactory

    staff = UserFactory(username="phone_staff", role="Staff")
    operations.reject(ask(staff, "P000001"), by=manager_user, note="客户已续费，请保留")
    phone.goto("/accounts/login/")
    phone.get_by_label("Username").fill("phone_staff")
    phone.get_by_label("Password").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="Log in").click()

    link = phone.get_by_role("link", name="1 item waiting for you")
    link.wait_for()
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    shot(phone, "inbox-phone-header")

    link.click()
    phone.wait_for_load_state()
    assert "客户已续费，请保留" in phone.content()
    shot(phone, "inbox-phone-page")
    width = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    assert phone.get_by_role("link", name="0 items waiting for you").count() == 1


def test_a_manager_approves_every_request_on_the_page_at_once(page, login, staff_user):
    for n in range(3):
        ask(staff_user, f"Q00000{n}")
    login("Manager")
    page.goto("/closures/requests/")
    page.get_by_label("Select all on this page").check()
    page.get_by_label("Note").fill("月底清理")
    shot(page, "inbox-queue-desktop")
    page.get_by_role("button", name="Approve the ticked requests").click()
    page.wait_for_load_state()
    assert "3 requests approved." in page.content()
    assert ClosureRequest.objects.filter(state="approved").count() == 3
