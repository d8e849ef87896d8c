"""Merging a duplicate through the pages, in a real browser, at a phone's width and a laptop's:
tick "Merge", read what moves, confirm; the void card says where it went."""

import os
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from customers.models import Purchase
from tests.factories import CustomerFactory, InteractionFactory, PurchaseFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 768}}


@pytest.fixture(params=list(SIZES))
def page(request, browser, live_server):
    context = browser.new_context(locale="en-US", base_url=live_server.url, viewport=SIZES[request.param])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.size_name = request.param
    yield page
    context.close()


def fits(page, step: str) -> None:
    if os.environ.get("CRM_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['CRM_SCREENSHOTS']}/merge-{step}-{page.size_name}.png", full_page=True)
    scroll_width, inner_width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width


def test_merging_a_duplicate_through_the_pages(page, login):
    login("Manager")
    dup = CustomerFactory(customer_no="C000123", email="dup@example.cn", balance=Decimal("80.00"), points=12)
    survivor = CustomerFactory(customer_no="C000124", email="")
    dup.tags.set([TagFactory(name="VIP")])
    PurchaseFactory.create_batch(3, customer=dup, amount=Decimal("100.00"))
    InteractionFactory(customer=dup)

    page.goto(reverse("closures:start", args=[dup.pk, "void"]))
    page.get_by_label("Reason").select_option(label="Duplicate record")
    page.get_by_label("Surviving card (customer number)").fill("C000124")
    assert page.get_by_label("Merge this record into the surviving card").is_checked()
    fits(page, "start")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("3 purchases (300.00)")).to_be_visible()
    expect(page.get_by_text("Reinstating this record later will not move anything back.")).to_be_visible()
    fits(page, "preview")
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_text("Record C000123 was voided.")).to_be_visible()
    expect(page.get_by_role("link", name="C000124").first).to_be_visible()
    assert page.locator(".notice.merged").inner_text().startswith("Merged into C000124 on")
    fits(page, "void-card")
    assert Purchase.objects.filter(customer=survivor).count() == 3
