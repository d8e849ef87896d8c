"""Staff find a card by a Chinese name and by the last digits of a phone, open it, edit it."""

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cards():
    return {
        "zhang": CustomerFactory(name="张伟", phone="+8613812345678", customer_no="C000101"),
        "wang": CustomerFactory(name="王伟", phone="+8613900001111", customer_no="C000102"),
        "li": CustomerFactory(name="李娜", phone="+8613700002222", customer_no="C000103"),
    }


def _search(page, text):
    page.goto("/")
    page.get_by_label("Search customers").fill(text)
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_load_state()


def test_search_by_a_chinese_name_and_by_one_character(page, login, cards):
    login("Staff")
    _search(page, "张伟")
    results = page.locator("table")
    assert results.get_by_text("张伟").count() == 1
    assert results.get_by_text("李娜").count() == 0
    _search(page, "伟")
    assert page.locator("table").get_by_text("张伟").count() == 1
    assert page.locator("table").get_by_text("王伟").count() == 1
    assert page.locator("table").get_by_text("李娜").count() == 0


def test_search_by_the_last_four_digits_then_open_and_edit_the_card(page, login, cards):
    login("Staff")
    _search(page, "5678")
    page.get_by_role("link", name="张伟").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("张伟")
    page.get_by_text("Actions", exact=True).click()
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("City").fill("杭州")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "杭州" in page.content()
    cards["zhang"].refresh_from_db()
    assert cards["zhang"].city == "杭州"


def test_an_invalid_phone_shows_the_error_next_to_the_field(page, login, cards):
    login("Staff")
    page.goto(f"/customers/{cards['li'].pk}/edit/")
    page.get_by_label("Mobile phone").fill("1381234567")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    error = page.locator("#id_phone_error")
    expect(error).to_be_visible()
    assert "11" in error.inner_text()
    cards["li"].refresh_from_db()
    assert cards["li"].phone == "+8613700002222"


def test_creating_a_customer_with_a_known_phone_warns_and_links_the_existing_card(page, login, cards):
    login("Staff")
    page.goto("/customers/new/")
    page.get_by_label("Name", exact=True).fill("张伟伟")
    page.get_by_label("Mobile phone").fill("138 1234 5678")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="C000101").count() >= 1
    assert Customer.objects.filter(name="张伟伟").count() == 0


def test_the_advanced_filters_load_when_opened_and_narrow_the_list(page, login, cards):
    CustomerFactory(name="赵伟", customer_no="C000104", city="杭州")
    login("Staff")
    _search(page, "伟")
    assert page.locator("#id_city").count() == 0  # not on the page until the panel opens
    page.get_by_text("Advanced filters", exact=True).click()
    page.get_by_label("City").fill("杭州")  # waits for the fetched fields
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    table = page.locator("table")
    assert table.get_by_text("赵伟").count() == 1
    assert table.get_by_text("张伟").count() == 0 and table.get_by_text("王伟").count() == 0
    assert "q=%E4%BC%9F" in page.url and "city=" in page.url
    assert page.locator("details.filters").get_attribute("open") is not None
