"""Customers through the API: the search page's meaning, cursor pages, masking, and writes through the card gate."""

from decimal import Decimal

import pytest

from crm.models import AuditEntry
from customers.models import Customer
from tests.api.test_api_walk import assert_matches_schema
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["customer_no"] for row in response.json()["results"]]


@pytest.fixture
def people():
    return {
        "zhang_wei": CustomerFactory(
            customer_no="C000101", name="张伟", phone="+8613812345678", email="zhang.wei@example.cn"
        ),
        "zhang_weiming": CustomerFactory(customer_no="C000102", name="张伟明", phone="+8613900005678"),
        "li_wei": CustomerFactory(customer_no="C000103", name="李伟", phone="+8613700001234"),
        "wang_fang": CustomerFactory(customer_no="C000104", name="王芳", phone="+8618600009999"),
    }


@pytest.fixture
def staff_api(token_client, staff_user):
    return token_client(staff_user, "Staff")


@pytest.fixture
def admin_api(token_client, admin_user):
    return token_client(admin_user, "Admin")


# --- The search's meaning ---------------------------------------------------------------------------


def test_one_chinese_character_finds_every_name_containing_it_newest_first(staff_api, people):
    assert numbers(staff_api.get(CUSTOMERS, {"q": "伟"})) == ["C000103", "C000102", "C000101"]


def test_two_chinese_characters_find_the_names_containing_them(staff_api, people):
    assert numbers(staff_api.get(CUSTOMERS, {"q": "张伟"})) == ["C000102", "C000101"]


def test_the_last_digits_of_a_phone_find_every_card_ending_with_them(staff_api, people):
    assert numbers(staff_api.get(CUSTOMERS, {"q": "5678"})) == ["C000102", "C000101"]


def test_a_full_phone_in_another_format_finds_its_card(staff_api, people):
    assert numbers(staff_api.get(CUSTOMERS, {"q": "138-1234-5678"})) == ["C000101"]


def test_a_customer_number_in_any_case_finds_its_card(staff_api, people):
    assert numbers(staff_api.get(CUSTOMERS, {"q": "c000103"})) == ["C000103"]


def test_only_active_cards_unless_a_status_is_asked_for(staff_api, people):
    CustomerFactory(customer_no="C000201", name="张伟", status=Customer.Status.CLOSED)
    assert "C000201" not in numbers(staff_api.get(CUSTOMERS, {"q": "张伟"}))
    assert numbers(staff_api.get(CUSTOMERS, {"q": "张伟", "status": "closed"})) == ["C000201"]


def test_an_advanced_filter_applies_as_on_the_page(staff_api, people):
    CustomerFactory(customer_no="C000301", name="赵六", city="北京")
    assert numbers(staff_api.get(CUSTOMERS, {"city": "北"})) == ["C000301"]


def test_a_bad_filter_value_is_named_instead_of_ignored(staff_api, people):
    response = staff_api.get(CUSTOMERS, {"total_min": "lots"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["total_min"][0]["code"] == "invalid"


def test_the_sort_of_the_page_is_refused(staff_api, people):
    response = staff_api.get(CUSTOMERS, {"o": "name"})
    assert response.status_code == 400
    assert "o" in response.json()["error"]["fields"]


# --- Cursor pages -------------------------------------------------------------------------------------


def test_cursor_pages_stay_stable_when_a_newer_card_arrives_between_them(staff_api):
    made = [CustomerFactory(customer_no=f"P{n:05d}", name="周同") for n in range(7)]
    first = staff_api.get(CUSTOMERS, {"q": "周同", "limit": 3}).json()
    assert [r["customer_no"] for r in first["results"]] == ["P00006", "P00005", "P00004"]
    CustomerFactory(customer_no="P99999", name="周同")  # newer than every card listed
    seen = [r["customer_no"] for r in first["results"]]
    url = first["next"]
    while url:
        page = staff_api.get(url).json()
        seen += [r["customer_no"] for r in page["results"]]
        url = page["next"]
    assert seen == [c.customer_no for c in reversed(made)]  # no duplicate, no gap, the newcomer not mixed in
    assert numbers(staff_api.get(CUSTOMERS, {"q": "周同", "limit": 1})) == ["P99999"]


def test_a_forged_cursor_is_refused_in_the_error_shape(staff_api):
    response = staff_api.get(CUSTOMERS, {"cursor": "nonsense!"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["cursor"][0]["message"].startswith("This cursor is not valid")


# --- Masking --------------------------------------------------------------------------------------------


def test_staff_see_contacts_masked_in_the_search_as_on_the_page(staff_api, people):
    row = staff_api.get(CUSTOMERS, {"q": "C000101"}).json()["results"][0]
    assert row["phone"] == "+86138****5678"
    assert row["email"] == "z***@example.cn"


def test_admins_see_contacts_in_full_in_the_search(admin_api, people):
    row = admin_api.get(CUSTOMERS, {"q": "C000101"}).json()["results"][0]
    assert (row["phone"], row["email"]) == ("+8613812345678", "zhang.wei@example.cn")


def test_one_card_shows_its_contacts_in_full_as_its_page_does(staff_api, people):
    card = staff_api.get(f"{CUSTOMERS}c000101/").json()
    assert (card["phone"], card["email"], card["status"], card["closure"]) == (
        "+8613812345678",
        "zhang.wei@example.cn",
        "active",
        None,
    )


def test_an_unknown_card_is_a_404_in_the_error_shape(staff_api):
    response = staff_api.get(f"{CUSTOMERS}NOPE/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- Writes through the card gate ---------------------------------------------------------------------------


def test_a_card_is_created_through_the_gate_and_audited_with_the_token(staff_api, staff_user):
    response = staff_api.post(
        CUSTOMERS, {"name": "  陈  静 ", "phone": "138 0000 1111", "tags": ["VIP", "newsletter"]}, format="json"
    )
    assert response.status_code == 201, response.content
    card = Customer.objects.get(customer_no=response.json()["customer_no"])
    assert (card.name, card.phone) == ("陈 静", "+8613800001111")
    assert sorted(t.name for t in card.tags.all()) == ["VIP", "newsletter"]
    entry = AuditEntry.objects.get(action="customer.create", customer_id=card.pk)
    assert entry.actor == staff_user
    assert entry.data["source"] == {"kind": "api"} and entry.data["api_token"].startswith("Staff system")
    assert response["Location"].endswith(f"/api/v1/customers/{card.customer_no}/")
    assert_matches_schema("/api/v1/customers/", "post", response)


def test_a_create_is_validated_as_the_card_form_validates(staff_api):
    response = staff_api.post(CUSTOMERS, {"name": "", "email": "nope", "birth_date": "2999-01-01"}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["name"][0]["message"] == "Enter the customer's name."
    assert fields["email"][0]["message"] == "Enter a valid email address, such as name@example.com."
    assert fields["birth_date"][0]["code"] == "birth_future"
    assert not Customer.objects.exists()


def test_a_duplicate_phone_needs_save_anyway_as_on_the_page(staff_api, people):
    body = {"name": "张伟", "phone": "+8613812345678"}
    refused = staff_api.post(CUSTOMERS, body, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["save_anyway"][0]["code"] == "duplicate"
    assert staff_api.post(CUSTOMERS, {**body, "save_anyway": True}, format="json").status_code == 201


def test_staff_cannot_give_a_new_card_a_balance(staff_api):
    response = staff_api.post(CUSTOMERS, {"name": "陈静", "balance": "100.00"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only a Manager or an Admin can change a card's balance and points."
    assert not Customer.objects.exists()


def test_unknown_fields_are_named(staff_api):
    response = staff_api.post(CUSTOMERS, {"name": "陈静", "nickname": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["nickname"][0]["code"] == "unknown_field"


def test_the_api_neither_takes_nor_shows_an_id_document_number(staff_api):
    response = staff_api.post(CUSTOMERS, {"name": "陈静", "id_number": "11010519491231002X"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["id_number"][0]["code"] == "unknown_field"
    CustomerFactory(customer_no="C000901", id_number="11010519491231002X")
    body = staff_api.get(f"{CUSTOMERS}C000901/").content.decode()
    assert "C000901" in body and "002X" not in body and "id_number" not in body


def test_a_patch_changes_only_the_fields_sent_through_the_gate(staff_api, people):
    card = people["li_wei"]
    etag = staff_api.get(f"{CUSTOMERS}C000103/")["ETag"]
    response = staff_api.patch(f"{CUSTOMERS}C000103/", {"city": "杭州"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    card.refresh_from_db()
    assert (card.city, card.name, card.phone) == ("杭州", "李伟", "+8613700001234")
    entry = AuditEntry.objects.get(action="customer.update", customer_id=card.pk)
    assert entry.changes == {"city": ["上海", "杭州"]}


def test_a_patch_with_an_old_version_is_refused_as_stale(staff_api, people):
    etag = staff_api.get(f"{CUSTOMERS}C000103/")["ETag"]
    assert (
        staff_api.patch(f"{CUSTOMERS}C000103/", {"city": "杭州"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    )
    response = staff_api.patch(f"{CUSTOMERS}C000103/", {"city": "南京"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale"
    people["li_wei"].refresh_from_db()
    assert people["li_wei"].city == "杭州"


def test_a_closed_card_cannot_be_patched(staff_api):
    CustomerFactory(customer_no="C000900", status=Customer.Status.CLOSED)
    response = staff_api.patch(f"{CUSTOMERS}C000900/", {"city": "杭州"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "not_active"
    assert error["message_en"] == "Card C000900 is closed: reinstate it first to change it."
    assert error["message_zh"] != "" and "C000900" in error["message_zh"]


def test_money_of_an_existing_card_is_not_changed_by_a_patch(token_client, manager_user, people):
    api = token_client(manager_user, "Manager")
    response = api.patch(f"{CUSTOMERS}C000103/", {"balance": "500.00"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["balance"][0]["code"] == "ledger"
    people["li_wei"].refresh_from_db()
    assert people["li_wei"].balance == 0


def test_a_manager_may_open_a_new_card_with_a_balance(token_client, manager_user):
    response = token_client(manager_user, "Manager").post(
        CUSTOMERS, {"name": "陈静", "balance": "88.50", "points": 10}, format="json"
    )
    assert response.status_code == 201, response.content
    card = Customer.objects.get(customer_no=response.json()["customer_no"])
    assert (card.balance, card.points) == (Decimal("88.50"), 10)
    assert response.json()["balance"] == "88.50"


def test_a_later_page_costs_what_the_first_does_and_nothing_is_counted(staff_api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(9):
        CustomerFactory(customer_no=f"Q{n:05d}", name="钱多")
    costs, url, params = [], CUSTOMERS, {"q": "钱多", "limit": 3}
    while url:
        with CaptureQueriesContext(connection) as queries:
            page = staff_api.get(url, params).json()
        params = None
        # The token's lookup is per call; the data scopes are read once, then cached (crm/scopes.py).
        sql = [
            q["sql"]
            for q in queries.captured_queries
            if not {"api_apitoken", "crm_datascope"} & set(q["sql"].replace('"', " ").split())
        ]
        assert not [s for s in sql if "COUNT(" in s.upper()]
        costs.append(len(sql))
        url = page["next"]
    assert len(costs) == 3 and len(set(costs)) == 1, costs


def test_the_version_may_be_sent_in_the_body_instead_of_if_match(staff_api, people):
    seen = staff_api.get(f"{CUSTOMERS}C000104/").json()["updated_at"]
    first = staff_api.patch(f"{CUSTOMERS}C000104/", {"city": "杭州", "updated_at": seen}, format="json")
    assert first.status_code == 200
    again = staff_api.patch(f"{CUSTOMERS}C000104/", {"city": "苏州", "updated_at": seen}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "stale"


def test_a_short_name_pages_its_matches_and_exact_matches_together_newest_first(staff_api):
    """One or two characters are read as two id lists (name-gram matches, exact matches such as a
    customer number) merged newest first (customers.filters.found_newest_first); the pages hold
    each card once, in id order, across the cursor."""
    made = [
        CustomerFactory(customer_no="C000201", name="陈伟"),
        CustomerFactory(customer_no="W1", name="赵敏"),  # the number "w1" is an exact match only
        CustomerFactory(customer_no="C000203", name="伟"),  # the whole name: a match and exact
        CustomerFactory(customer_no="C000204", name="周杰"),
        CustomerFactory(customer_no="C000205", name="伟华"),
    ]
    seen, url = [], f"{CUSTOMERS}?q=伟&limit=2"
    while url:
        body = staff_api.get(url).json()
        seen += [row["customer_no"] for row in body["results"]]
        url = body["next"]
    assert seen == ["C000205", "C000203", "C000201"]
    w1 = staff_api.get(CUSTOMERS, {"q": "w1", "limit": 1}).json()
    assert [row["customer_no"] for row in w1["results"]] == ["W1"] and made


def test_the_last_digits_page_newest_first_across_the_cursor(staff_api, people):
    """Read from the covering indexes as the page reads them (customers.results.LastDigits), in id order."""
    seen, url = [], f"{CUSTOMERS}?q=5678&limit=1"
    while url:
        body = staff_api.get(url).json()
        seen += [row["customer_no"] for row in body["results"]]
        url = body["next"]
    assert seen == ["C000102", "C000101"]
