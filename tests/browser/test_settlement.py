"""Issue 18's settlement end to end: a card closed with 1,000.55 refunded in cash holds 0.00, stays at
0.00 when a Manager reinstates it (the pages say why), and the closure export says how it was settled."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from closures.models import Closure
from customers.models import Customer, LedgerEntry
from tests.browser.conftest import open_action
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refunded_balance_stays_settled_after_reinstating_and_the_export_says_how(page, login):
    customer = CustomerFactory(name="钱多多", balance=Decimal("1000.55"), points=0)
    login("Manager")

    open_action(page, customer, "Close card")
    select = page.get_by_label("Reason")
    values = select.locator("option").evaluate_all("(opts) => opts.map(o => o.value).filter(v => v)")
    select.select_option(values[0])
    page.get_by_label("Notes").fill("客户来电要求销卡")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert "The card still holds a balance of ¥1,000.55" in page.content()
    page.get_by_role("button", name="Confirm").click()  # no settlement chosen: refused next to the field
    page.wait_for_load_state()
    assert "choose how they are settled" in page.content()
    page.get_by_label("Refund", exact=True).check()
    page.get_by_label("Refund method").select_option("cash")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()

    expect(page.locator(".message.success")).to_be_visible()
    customer.refresh_from_db()
    assert (customer.status, customer.balance) == (Customer.Status.CLOSED, Decimal("0.00"))
    refund = LedgerEntry.objects.get(customer=customer, kind="refund")
    assert (refund.amount, refund.method) == (Decimal("-1000.55"), "cash")

    open_action(page, customer, "Reinstate")
    assert "Refunded ¥1,000.55 in cash on " in page.content()
    page.get_by_label("Note").fill("客户回来了")
    page.get_by_role("button", name="Reinstate").click()
    page.wait_for_load_state()
    customer.refresh_from_db()
    assert (customer.status, customer.balance) == (Customer.Status.ACTIVE, Decimal("0.00"))
    assert Closure.objects.get(customer=customer).reverted_at is not None
    card_page = page.content()
    assert "Refunded" in card_page and "-¥1,000.55" in card_page  # the card's latest balance entries

    page.context.clear_cookies()
    login("Admin")  # exports are the Admin's
    page.goto(reverse("analytics:closure_list") + "?period=all&reverted=on")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = {row["Customer number"]: row for row in csv.DictReader(io.StringIO(text))}
    row = rows[customer.customer_no]
    assert (row["Balance at closure"], row["Settlement"], row["Settled amount"]) == (
        "1000.55",
        "refunded, cash",
        "1000.55",
    )
