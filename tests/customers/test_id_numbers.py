"""ID document numbers (证件号码): encrypted at rest, found by exact match through a keyed hash,
masked on the card page, in the audit trail and never in exports; erased with the card; in clear
in the customer's own access export (SECURITY.md, "Sensitive fields")."""

import io
import json

import openpyxl
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from closures import erasure
from closures.rules import ClosureChoice
from crm import crypto
from crm.audit_display import describe
from crm.models import ERASED_MARKER, AuditEntry
from customers import exports, gate, identity
from customers.filters import filtered_customers, search_results
from customers.forms import CustomerForm
from customers.models import Customer
from privacy import access
from tests.closures.steps import reason
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

RESIDENT_ID = "11010519491231002X"  # the example of GB 11643 itself: its check character is X
MASKED = "1101**********002X"
OTHER_ID = "440524188001010014"  # the standard's other example
PASSPORT = "E12345678"


def stored(customer) -> tuple[str, str]:
    """The columns as the database holds them, read around the model field."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_hash FROM customers_customer WHERE id = %s", [customer.pk])
        return cursor.fetchone()


def found(text: str) -> list[str]:
    _filterset, customers = filtered_customers({"q": text}, user=None)
    return [c.customer_no for c in customers]


def shown(text: str) -> list[str]:
    """What the search page lists (its own reading path, exact matches first)."""
    _filterset, results = search_results({"q": text}, user=None)
    return [c.customer_no for c in results[:25]]


@pytest.fixture
def carded():
    return CustomerFactory(customer_no="C000201", name="张伟", id_number=RESIDENT_ID)


# --- at rest ---------------------------------------------------------------------------------------


def test_the_column_holds_a_fernet_token_and_the_hash_not_the_number(carded):
    token, digest = stored(carded)
    assert RESIDENT_ID not in token and token.startswith("gAAAA")  # Fernet's version byte, base64
    assert crypto.decrypt(token) == RESIDENT_ID
    assert digest == crypto.keyed_hash(RESIDENT_ID) and len(digest) == 64 and RESIDENT_ID not in digest


def test_the_number_reads_back_in_clear_and_no_number_stores_nothing(carded):
    assert Customer.objects.get(pk=carded.pk).id_number == RESIDENT_ID
    assert Customer.objects.filter(pk=carded.pk).values_list("id_number", flat=True).get() == RESIDENT_ID
    empty = CustomerFactory()
    assert stored(empty) == ("", "")
    assert Customer.objects.get(pk=empty.pk).id_number == ""


def test_each_save_encrypts_anew_and_the_hash_follows_the_number(carded):
    first, _digest = stored(carded)
    carded.save()
    assert stored(carded)[0] != first  # a random IV: equal numbers cannot be told apart in the table
    gate.update_card(carded, {"id_number": "440524-18800101 0014"}, by=None, source=gate.FORM)
    carded.refresh_from_db()
    assert carded.id_number == OTHER_ID
    assert stored(carded)[1] == crypto.keyed_hash(OTHER_ID)


def test_the_encrypted_field_takes_no_lookup_but_whether_it_is_empty(carded):
    with pytest.raises(FieldError, match="encrypted"):
        list(Customer.objects.filter(id_number=RESIDENT_ID))
    with pytest.raises(FieldError):
        list(Customer.objects.filter(id_number__icontains="1101"))
    assert list(Customer.objects.exclude(id_number="").values_list("customer_no", flat=True)) == ["C000201"]


# --- keys --------------------------------------------------------------------------------------------


def test_rotating_the_key_keeps_every_number_readable_and_changes_the_tokens():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(CRM_FIELD_KEYS=[old]):
        cards = [CustomerFactory(id_number=RESIDENT_ID), CustomerFactory(id_number=PASSPORT), CustomerFactory()]
        before = {card.pk: stored(card) for card in cards}
        versions = dict(Customer.objects.values_list("pk", "updated_at"))
    with override_settings(CRM_FIELD_KEYS=[new, old]):
        out = io.StringIO()
        call_command("rotate_field_keys", "--batch-size", "1", stdout=out)
        assert "2 ID document numbers re-encrypted" in out.getvalue()
    with override_settings(CRM_FIELD_KEYS=[new]):  # the old key removed
        assert [Customer.objects.get(pk=card.pk).id_number for card in cards] == [RESIDENT_ID, PASSPORT, ""]
        for card in cards[:2]:
            token, digest = stored(card)
            assert token != before[card.pk][0] and digest == before[card.pk][1]
        assert dict(Customer.objects.values_list("pk", "updated_at")) == versions  # not an edit
    with override_settings(CRM_FIELD_KEYS=[old]), pytest.raises(crypto.UnreadableValue):
        Customer.objects.get(pk=cards[0].pk)
    assert not AuditEntry.objects.exists()


def test_a_new_hash_key_finds_nothing_until_the_hashes_are_recomputed(carded):
    with override_settings(CRM_HASH_KEY="another-hash-key-of-at-least-32-characters"):
        assert found(RESIDENT_ID) == []
        call_command("rotate_field_keys", "--rehash", stdout=io.StringIO())
        assert found(RESIDENT_ID) == ["C000201"]
    assert stored(carded)[1] != crypto.keyed_hash(RESIDENT_ID)


def test_unset_keys_are_derived_from_the_secret_key():
    assert crypto.derived_settings() == ["CRM_FIELD_KEYS", "CRM_HASH_KEY"]
    keys, digest = crypto.field_keys(), crypto.keyed_hash("X1234")
    Fernet(keys[0])  # a valid Fernet key
    assert crypto.field_keys() == keys and crypto.keyed_hash("X1234") == digest  # the same on every start
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-only-0123456789"):
        assert crypto.field_keys() != keys and crypto.keyed_hash("X1234") != digest


# --- search --------------------------------------------------------------------------------------------


def test_the_search_box_finds_a_card_by_its_whole_id_number_however_it_is_typed(carded):
    CustomerFactory(customer_no="C000202", name="李娜", id_number=OTHER_ID)
    for typed in (RESIDENT_ID, "110105 19491231 002x", "110105-19491231-002X"):
        assert found(typed) == ["C000201"], typed
        assert shown(typed) == ["C000201"], typed


def test_part_of_an_id_number_finds_nothing(carded):
    for part in ("110105", "1101051949", "19491231", "002X", RESIDENT_ID[:-1], RESIDENT_ID[1:]):
        assert found(part) == [], part
        assert shown(part) == [], part


def test_a_passport_number_is_found_as_typed_and_the_search_page_lists_it(staff_client):
    CustomerFactory(customer_no="C000203", name="Anna Smith", id_number=PASSPORT)
    assert found("e1234 5678") == ["C000203"]
    response = staff_client.get(reverse("customers:search"), {"q": PASSPORT})
    assert "C000203" in response.content.decode()


# --- the card form --------------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = {"name": "张伟", "segment": "regular", "stage": "repeat", "balance": "0", "points": "0", "id_number": ""}
    return {**data, **overrides}


def test_a_wrong_check_character_is_refused_next_to_the_field():
    form = CustomerForm(form_data(id_number="110105194912310021"))
    assert not form.is_valid()
    assert form.errors["id_number"] == [
        "This resident ID card number's check character (the last one) does not match the other 17: "
        "check the number for a typing mistake."
    ]


@pytest.mark.parametrize("typed", ["1234", "E1234567890123456789012345678901", "护照12345", "E1234.5678"])
def test_a_number_that_is_no_document_number_is_refused(typed):
    form = CustomerForm(form_data(id_number=typed))
    assert not form.is_valid()
    assert form.errors["id_number"] == ["Enter an ID document number of 5 to 30 letters and digits."]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("110105 19491231 002x", RESIDENT_ID), ("e-1234 5678", PASSPORT), ("", ""), ("11010519491231002A", None)],
)
def test_a_valid_number_is_kept_in_its_normal_form(typed, kept):
    form = CustomerForm(form_data(id_number=typed))
    assert form.is_valid(), form.errors
    # 17 digits and a letter other than X is not a resident ID card: accepted as another document.
    assert form.cleaned_data["id_number"] == (kept if kept is not None else typed)


def test_the_card_page_shows_the_number_masked_and_the_edit_form_in_full(staff_client, carded):
    page = staff_client.get(reverse("customers:card", args=[carded.pk])).content.decode()
    assert MASKED in page and RESIDENT_ID not in page
    form = staff_client.get(reverse("customers:edit", args=[carded.pk])).content.decode()
    assert f'value="{RESIDENT_ID}"' in form


def test_a_short_number_is_mostly_masked():
    assert identity.mask(PASSPORT) == "E*******8"
    assert identity.mask("AB") == "**"
    assert identity.mask(RESIDENT_ID) == MASKED


def test_an_edit_through_the_card_page_stores_the_number(staff_client, carded):
    data = {
        "customer_no": carded.customer_no,
        "name": carded.name,
        "phone": carded.phone,
        "email": carded.email,
        "segment": carded.segment,
        "stage": carded.stage,
        "id_number": "440524 18800101 0014",
        "version": carded.updated_at.isoformat(),
    }
    response = staff_client.post(reverse("customers:edit", args=[carded.pk]), data)
    assert response.status_code == 302
    assert Customer.objects.get(pk=carded.pk).id_number == OTHER_ID
    assert AuditEntry.objects.get(action="customer.update").changes["id_number"] == [MASKED, "4405**********0014"]


# --- exports and the audit trail ---------------------------------------------------------------------


def test_the_customer_export_holds_no_id_number(carded):
    queryset = Customer.objects.filter(pk=carded.pk)
    xlsx, csv = io.BytesIO(), io.BytesIO()
    exports.write_xlsx(queryset, xlsx)
    exports.write_csv(queryset, csv)
    cells = [str(c.value) for row in openpyxl.load_workbook(xlsx).worksheets[0].iter_rows() for c in row]
    assert "C000201" in cells
    assert not [c for c in cells if RESIDENT_ID in c or MASKED in c or "002X" in c]
    assert RESIDENT_ID not in csv.getvalue().decode("utf-8-sig")


def test_the_audit_trail_records_the_change_masked_never_in_clear_nor_encrypted(carded):
    token, _digest = stored(carded)
    gate.update_card(carded, {"id_number": OTHER_ID}, by=None, source=gate.FORM)
    entry = AuditEntry.objects.get(action="customer.update")
    assert entry.changes == {"id_number": [MASKED, "4405**********0014"]}
    with connection.cursor() as cursor:
        cursor.execute("SELECT changes FROM crm_auditentry")
        raw = " ".join(str(row[0]) for row in cursor.fetchall())
    assert RESIDENT_ID not in raw and OTHER_ID not in raw and token not in raw and stored(carded)[0] not in raw
    change = describe([entry], unmasked=True)[0].changes[0]
    assert (str(change.label), change.old, change.new) == ("ID document number", MASKED, "4405**********0014")


def test_a_new_cards_entry_holds_its_number_masked():
    customer = gate.create_card({"name": "王芳", "id_number": PASSPORT}, by=None, source=gate.FORM)
    assert AuditEntry.objects.get(customer_id=customer.pk).changes["id_number"] == [None, "E*******8"]


# --- erasure and the access export -------------------------------------------------------------------


def test_erasure_blanks_the_number_and_its_hash_and_its_masked_history(admin_user):
    customer = CustomerFactory(customer_no="E000201", id_number=PASSPORT)
    gate.update_card(customer, {"id_number": RESIDENT_ID}, by=None, source=gate.FORM)
    erasure.erase_customer(
        customer, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation="E000201"
    )
    assert stored(customer) == ("", "")
    assert Customer.objects.get(pk=customer.pk).id_number == ""
    assert found(RESIDENT_ID) == []
    edit = AuditEntry.objects.get(action="customer.update")
    assert edit.changes["id_number"] == [ERASED_MARKER, ERASED_MARKER]


def test_erasure_forgets_the_number_where_a_search_quoted_it(admin_user):
    customer = CustomerFactory(customer_no="E000202", id_number=RESIDENT_ID)
    quoted = AuditEntry.objects.create(action="customer.export", summary=f"q={RESIDENT_ID}", data={"q": RESIDENT_ID})
    erasure.erase_customer(
        customer, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation="E000202"
    )
    quoted.refresh_from_db()
    assert RESIDENT_ID not in json.dumps([quoted.summary, quoted.data], ensure_ascii=False)


def test_the_access_export_holds_the_number_in_clear_and_not_its_hash(carded):
    card = access.collect(carded)["sections"]["card"][0]
    assert card["id_number"] == RESIDENT_ID
    assert "id_number_hash" not in card
    out = io.BytesIO()
    access.write_xlsx(access.collect(carded), out)
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert RESIDENT_ID in [c.value for row in sheet.iter_rows() for c in row]
