"""Every list, and every other page an Admin reaches from the menu, at a phone's width (390 px) and a
laptop's (1366 px), in English and in Chinese: no page scrolls sideways, no list squeezes a column to a
character or two, and at 1366 px the customer list shows all its columns without scrolling.

The data is the widest a list is likely to get: long Chinese and English names, long emails, tags,
owners with long names, pending requests, audit entries with changes, an import with a long file name.
"""

import os
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from closures import operations
from closures.models import Action, ClosureRequest
from closures.rules import ClosureChoice
from customers import gate
from tests.browser.conftest import PHONE, WIDER_THAN_THE_SCREEN
from tests.browser.sample import LONG_NAME, LONG_NOTES, shop
from tests.factories import TEST_PASSWORD, CustomerFactory, ImportBatchFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"phone": PHONE, "laptop": {"width": 1366, "height": 768}}
LOCALES = {"en": "en-US", "zh": "zh-CN"}
NARROWEST_TEXT = 40  # px: narrower, a column shows a character or two per line

# Each cell of a list whose text wraps in a content box (the cell less its padding, which holds a card's
# label on a phone) narrower than NARROWEST_TEXT: a column squeezed to a character or two a line. A short
# value ("是", "12") in a narrow cell is fine as long as it keeps to one line.
SQUEEZED_CELLS = """(narrowest) => {
  const out = [];
  for (const cell of document.querySelectorAll('main table.table td')) {
    if (!cell.innerText.trim() || cell.getClientRects().length === 0) continue;
    const style = getComputedStyle(cell);
    const width = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (width >= narrowest) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    // Lines: boxes that start below the bottom of the line before (a badge is taller than its text).
    const boxes = Array.from(range.getClientRects()).filter((r) => r.width > 0).sort((a, b) => a.top - b.top);
    let lines = 0, bottom = -Infinity;
    for (const r of boxes) {
      if (r.top >= bottom - 1) { lines += 1; bottom = r.bottom; } else { bottom = Math.max(bottom, r.bottom); }
    }
    if (lines > 1) {
      const head = cell.getAttribute('data-label') || cell.cellIndex;
      const text = cell.innerText.trim().slice(0, 20);
      out.push(`${cell.closest('table').className} [${head}] ${Math.round(width)}px: ${text}`);
    }
  }
  return out.slice(0, 8);
}"""


SCROLLING_TABLES = """() => Array.from(document.querySelectorAll('main .table-wrap'))
  .filter((wrap) => wrap.scrollWidth > wrap.clientWidth + 1 && !wrap.closest('.chart, .cohorts'))
  .map((wrap) => `${wrap.querySelector('table').className}: ${wrap.scrollWidth} > ${wrap.clientWidth}`)"""


def crowded_lists() -> dict:
    """shop()'s cards and closures, and what makes every other list wide."""
    sample = shop()
    lead = UserFactory(
        username="ouyang.nana.customer-service-team-lead",
        first_name="娜娜·阿卜杜热合曼",
        last_name="欧阳",
        email="ouyang.nana.customer-service-team-lead@shanghai-pudong-branch.example-company.com.cn",
        role="Manager",
    )
    owner = UserFactory(
        username="christopher.montgomery",
        first_name="Christopher-Alexander",
        last_name="Montgomery-Smithson",
        email="christopher-alexander.montgomery-smithson@example.com",
        role="Staff",
    )
    tags = [TagFactory(name=name) for name in ("VIP", "wechat-group-2024", "生日月客户", "高价值-线上-复购")]
    cards = [
        CustomerFactory(
            name=name,
            customer_no=f"C0002{n:02d}",
            email=email,
            city=city,
            owner=owner if n % 2 else lead,
            purchase_total=Decimal("12345678.90") / (n + 1),
        )
        for n, (name, email, city) in enumerate(
            [
                (LONG_NAME, "christopher-alexander.montgomery-smithson@example-company.com.cn", "乌鲁木齐市"),
                ("司马相如", "sima.xiangru.customer.relations@hangzhou-west-lake-branch.example.cn", "杭州"),
                ("Maximilian-Alexander Featherstonehaugh", "max.featherstonehaugh@example.co.uk", "Shanghai"),
                ("诸葛孔明", "zhuge@example.cn", "内蒙古自治区呼和浩特市"),
            ]
        )
    ]
    for card in cards:
        card.tags.set(tags)
    new_values = {"city": "浙江省杭州市西湖区", "email": "new.address@example.cn"}
    gate.update_card(cards[1], new_values, by=lead, source=gate.FORM)
    reason = sample["reasons"][0]
    for card, by in ((cards[2], owner), (cards[3], sample["staff"][1])):
        ClosureRequest.objects.create(
            customer=card,
            action=Action.CLOSE,
            reason=reason,
            notes=LONG_NOTES,
            requested_by=by,
            balance_seen=Decimal("12999.00"),
            points_seen=123456,
        )
    choice = ClosureChoice(Action.CLOSE, reason, notes=LONG_NOTES)
    operations.close_customer(CustomerFactory(name=LONG_NAME), choice, by=lead)
    batch = ImportBatchFactory(
        file_name="2026年第一季度-上海浦东分店-会员卡迁移-customer-card-migration-final-v3.xlsx", created_by=lead
    )
    batch.rows, batch.created_count, batch.updated_count = 1234567, 1200000, 34567
    batch.save()
    return {**sample, "cards": cards, "lead": lead, "owner": owner, "batch": batch}


def pages(sample) -> dict[str, str]:
    """The lists, and every other page an Admin reaches from the menu (and one step further)."""
    card = sample["zhang"]
    ids = "&".join(f"ids={c.pk}" for c in sample["cards"])
    return {
        "customer search": "/?o=customer_no",
        "customer search, a query": "/?q=C0002",
        "an import's customers": sample["batch"].get_absolute_url(),
        "closure list": f"{reverse('analytics:closure_list')}?period=all",
        "approvals": reverse("closures:request_queue"),
        "users": reverse("users:list"),
        "audit log": reverse("closures:audit"),
        "import batches": reverse("customers:import_batches"),
        "reasons": reverse("closures:reason_list"),
        "dashboard": f"{reverse('analytics:dashboard')}?period=all",
        "new customer": reverse("customers:create"),
        "card": reverse("customers:card", args=[card.pk]),
        "card edit": reverse("customers:edit", args=[card.pk]),
        "contact preferences": reverse("customers:consent", args=[card.pk]),
        "close a card": reverse("closures:start", args=[card.pk, "close"]),
        "bulk action": f"{reverse('closures:bulk')}?{ids}",
        "decide a request": reverse("closures:request_decide", args=[ClosureRequest.objects.first().pk]),
        "import": reverse("customers:import"),
        "import past closures": reverse("closures:import"),
        "new user": reverse("users:create"),
        "edit a user": reverse("users:edit", args=[sample["lead"].pk]),
        "new reason": reverse("closures:reason_create"),
        "approval settings": reverse("closures:settings"),
        "new category": reverse("closures:category_create"),
        "password change": reverse("password_change"),
    }


LISTS = {
    "customer search",
    "customer search, a query",
    "an import's customers",
    "closure list",
    "approvals",
    "users",
    "audit log",
    "import batches",
    "reasons",
}


def open_page(browser, live_server, viewport, *, language="en", phone=False):
    context = browser.new_context(
        locale=LOCALES[language], base_url=live_server.url, viewport=viewport, is_mobile=phone
    )
    context.set_default_timeout(10_000)
    return context, context.new_page()


def log_in(page, username: str) -> None:
    page.goto(reverse("login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def screenshot(page, size: str, language: str, name: str) -> None:
    folder = os.environ.get("CRM_SCREENSHOTS")  # to look at the pages: CRM_SCREENSHOTS=/tmp/shots
    if folder:
        file = re.sub(r"\W+", "-", f"{size}-{language}-{name}")
        height = min(page.evaluate("document.documentElement.scrollHeight"), 2 * SIZES[size]["height"])
        clip = {"x": 0, "y": 0, "width": SIZES[size]["width"], "height": height}
        page.screenshot(path=f"{folder}/{file}.png", full_page=True, clip=clip)


@pytest.mark.parametrize("language", list(LOCALES))
@pytest.mark.parametrize("size", list(SIZES))
def test_no_page_scrolls_sideways_and_no_list_squeezes_a_column(browser, live_server, size, language):
    sample = crowded_lists()
    admin = UserFactory(username="list_admin", role="Admin")
    context, page = open_page(browser, live_server, SIZES[size], language=language, phone=size == "phone")
    problems = {}
    try:
        log_in(page, admin.username)
        for name, url in pages(sample).items():
            response = page.goto(url)
            assert response.status == 200, name
            screenshot(page, size, language, name)
            # A phone widens its layout to the widest element (and zooms out): innerWidth says so.
            width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            found = []
            if max(width, inner) > SIZES[size]["width"]:
                found = [f"page {width} px wide", *page.evaluate(WIDER_THAN_THE_SCREEN)]
            if name in LISTS:
                found += page.evaluate(SQUEEZED_CELLS, NARROWEST_TEXT)
                found += page.evaluate(SCROLLING_TABLES)
            if found:
                problems[name] = found
    finally:
        context.close()
    assert problems == {}


def test_the_users_list_fits_a_530_px_window_as_cards(browser, live_server):
    sample = crowded_lists()
    admin = UserFactory(username="list_admin", role="Admin")
    context, page = open_page(browser, live_server, {"width": 530, "height": 900})
    try:
        log_in(page, admin.username)
        page.goto(reverse("users:list"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 530, page.evaluate(WIDER_THAN_THE_SCREEN)
        card = page.locator("main tbody tr").filter(has_text=sample["lead"].username)
        title = card.locator("td.primary")
        email = card.locator("td", has_text=sample["lead"].email)
        assert box(title)["y"] < box(email)["y"]  # the username is the card's title, the email a line below
        assert email.evaluate("td => getComputedStyle(td, '::before').content") == '"Email"'
        expect(page.locator("main thead").get_by_text("Email")).not_to_be_visible()
    finally:
        context.close()


def test_on_a_phone_the_checkboxes_and_buttons_of_the_cards_are_44_px_targets(browser, live_server):
    sample = crowded_lists()
    admin = UserFactory(username="list_admin", role="Admin")
    context, page = open_page(browser, live_server, SIZES["phone"], phone=True)
    try:
        log_in(page, admin.username)
        page.goto("/?o=customer_no")
        card = page.locator("#results tbody tr").filter(has_text="司马相如")
        card.scroll_into_view_if_needed()
        target = box(card.locator("label.tap"))
        assert target["width"] >= 44 and target["height"] >= 44
        assert box(card.locator("td.primary"))["y"] < box(card.get_by_text(sample["cards"][1].customer_no))["y"]
        page.mouse.click(target["x"] + 2, target["y"] + 2)  # the edge of the target, not the box itself
        assert card.get_by_role("checkbox").is_checked()
        page.goto(reverse("closures:request_queue"))
        review = page.get_by_role("link", name="Review").first
        assert box(review)["height"] >= 44
    finally:
        context.close()


def test_at_1366_px_the_customer_list_shows_its_key_columns_without_scrolling(browser, live_server):
    crowded_lists()
    admin = UserFactory(username="list_admin", role="Admin")
    context, page = open_page(browser, live_server, SIZES["laptop"])
    try:
        log_in(page, admin.username)
        page.goto("/?o=customer_no")
        wrap = page.locator("#results .table-wrap")
        assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")
        right = box(wrap)["x"] + box(wrap)["width"]
        for heading in ("Customer number", "Name", "Status", "Phone", "Email", "Owner", "Last interaction"):
            column = box(page.locator("#results thead th", has_text=heading))
            assert column["x"] + column["width"] <= right, heading
        total = box(page.locator("#results thead th", has_text="Purchase total"))
        assert total["x"] + total["width"] <= right
    finally:
        context.close()


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, "not visible"
    return found
