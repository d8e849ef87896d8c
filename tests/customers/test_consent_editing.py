"""Contact preferences on the card: the section, the edit page, and the language for messages through the card gate."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import AuditEntry
from customers import consent, gate
from customers.models import ContactConsent, Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def card_url(customer) -> str:
    return reverse("customers:card", kwargs={"pk": customer.pk})


def edit_url(customer) -> str:
    return reverse("customers:consent", kwargs={"pk": customer.pk})


def defaults(**overrides) -> dict:
    """The edit form as it opens on a card without consent rows: service messages on, the rest off."""
    data = {"email_service": "on", "sms_service": "on", "phone_service": "on", "language": "zh-hans", "how": ""}
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def consent_entries(customer) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(customer_id=customer.pk, action="customer.consent").order_by("pk"))


# --- Editing ---------------------------------------------------------------------------------------------
def test_saving_changes_the_rows_with_one_audit_entry_per_changed_channel(staff_client, staff_user):
    customer = CustomerFactory()

    response = staff_client.post(
        edit_url(customer), defaults(email_marketing="on", sms_do_not_contact="on", how="signed form in store")
    )

    assert response.status_code == 302 and response.url == card_url(customer)
    mine = consent.consents_of(customer)
    assert mine["email"].marketing and mine["email"].marketing_how == "signed form in store"
    assert mine["email"].marketing_at is not None
    assert mine["sms"].do_not_contact and not mine["sms"].marketing
    assert not mine["phone"].pk  # unchanged: still the defaults, no row written
    entries = consent_entries(customer)
    assert [(e.data["channel"], e.changes) for e in entries] == [
        ("email", {"email.marketing": [False, True]}),
        ("sms", {"sms.do_not_contact": [False, True]}),
    ]
    assert entries[0].actor == staff_user and entries[0].data["source"] == {"kind": "form"}
    assert entries[0].data["how"] == "signed form in store"
    assert f"Contact preferences of {customer.customer_no} saved." in staff_client.get(card_url(customer)).text


def test_saving_nothing_new_writes_nothing(staff_client):
    customer = CustomerFactory()

    response = staff_client.post(edit_url(customer), defaults(), follow=True)

    assert "Nothing was changed." in response.text
    assert not ContactConsent.objects.exists() and not consent_entries(customer)


def test_turning_marketing_on_requires_how_consent_was_given(staff_client):
    customer = CustomerFactory()

    response = staff_client.post(edit_url(customer), defaults(phone_marketing="on", how="   "))

    assert response.status_code == 200
    assert "Say how the customer gave consent to surveys and offers" in response.text
    assert 'id="id_how_error"' in response.text
    assert not ContactConsent.objects.exists() and not consent_entries(customer)


def test_turning_marketing_off_needs_no_how(staff_client):
    customer = CustomerFactory()
    consent.change(customer, "email", by=None, source=gate.FORM, how="在门店签字", marketing=True)

    response = staff_client.post(edit_url(customer), defaults())

    assert response.status_code == 302
    assert not consent.consents_of(customer)["email"].marketing


def test_an_erased_card_is_refused(staff_client):
    customer = CustomerFactory(status=Customer.Status.ERASED)

    for response in (staff_client.get(edit_url(customer)), staff_client.post(edit_url(customer), defaults())):
        assert response.status_code == 302 and response.url == card_url(customer)
    assert not ContactConsent.objects.exists()
    page = staff_client.get(card_url(customer)).text
    assert edit_url(customer) not in page and 'id="h-consent"' not in page
    with pytest.raises(ValidationError):
        consent.change(customer, "email", by=None, source=gate.FORM, do_not_contact=True)


@pytest.mark.parametrize("status", ["closed", "void", "archived"])
def test_a_closed_card_stays_editable_but_its_language_does_not(staff_client, status):
    customer = CustomerFactory(status=status, language="zh-hans")

    page = staff_client.get(edit_url(customer)).text
    assert "can be changed only after it is reinstated" in page
    assert edit_url(customer) in staff_client.get(card_url(customer)).text
    response = staff_client.post(edit_url(customer), defaults(email_do_not_contact="on", language="en"))

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.language == "zh-hans"  # disabled: what was posted is ignored
    assert consent.consents_of(customer)["email"].do_not_contact


def test_the_language_is_set_through_the_card_gate_and_audited(staff_client, staff_user):
    customer = CustomerFactory(language="zh-hans")

    assert staff_client.post(edit_url(customer), defaults(language="en")).status_code == 302

    customer.refresh_from_db()
    assert customer.language == "en"
    edit = AuditEntry.objects.get(customer_id=customer.pk, action="customer.update")
    assert edit.changes == {"language": ["zh-hans", "en"]} and edit.actor == staff_user


def test_the_gate_refuses_the_language_of_a_closed_card():
    customer = CustomerFactory(status=Customer.Status.CLOSED)

    with pytest.raises(ValidationError, match="reinstate it first"):
        consent.save_preferences(customer, {}, by=None, source=gate.FORM, language="en")
    with pytest.raises(ValidationError):
        gate.update_card(customer, {"language": "en"}, by=None, source=gate.FORM)


def test_the_card_form_sets_the_language_and_keeps_it_when_left_out(staff_client):
    customer = CustomerFactory(language="zh-hans")
    form = {
        "customer_no": customer.customer_no,
        "name": customer.name,
        "phone": customer.phone,
        "segment": customer.segment,
        "stage": customer.stage,
    }

    staff_client.post(reverse("customers:edit", kwargs={"pk": customer.pk}), {**form, "language": "en"})
    customer.refresh_from_db()
    assert customer.language == "en"
    staff_client.post(reverse("customers:edit", kwargs={"pk": customer.pk}), {**form, "city": "杭州"})
    customer.refresh_from_db()
    assert (customer.language, customer.city) == ("en", "杭州")


def test_a_new_card_gets_the_language_chosen_on_the_form(staff_client):
    staff_client.post(
        reverse("customers:create"),
        {"name": "Alice Wong", "phone": "13700001111", "segment": "regular", "stage": "prospect", "language": "en"},
    )

    assert Customer.objects.get(name="Alice Wong").language == "en"


# --- The card page -----------------------------------------------------------------------------------
def test_the_card_shows_each_channel_with_when_and_how_consent_was_given(staff_client):
    customer = CustomerFactory(language="en")
    consent.change(customer, "sms", by=None, source=gate.FORM, how="signed form in store", marketing=True)
    consent.change(customer, "phone", by=None, source=gate.FORM, do_not_contact=True)

    html = staff_client.get(card_url(customer)).text
    section = html[html.index('id="h-consent"') : html.index('id="h-purchases"')]

    assert "Language for messages: <strong>English</strong>" in section
    sms = section[section.index('<tr class="sms">') :].split("</tr>")[0]
    assert "signed form in store" in sms and sms.count(">yes<") == 2  # service and marketing
    phone = section[section.index('<tr class="phone">') :].split("</tr>")[0]
    assert "<strong>yes</strong>" in phone  # do not contact
    assert 'data-label="Surveys and offers"' in section
    assert edit_url(customer) in section


def _queries_for_card(client, customer) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(card_url(customer)).status_code == 200
    return len(captured)


def test_the_contact_preferences_cost_one_query_whatever_the_card_holds(staff_client, staff_user):
    bare, full = CustomerFactory(), CustomerFactory()
    for channel in ("email", "sms", "phone"):
        consent.change(full, channel, by=None, source=gate.FORM, how="表格", marketing=True, do_not_contact=True)
    _queries_for_card(staff_client, bare)  # warm the session and permission caches

    with CaptureQueriesContext(connection) as captured:
        staff_client.get(card_url(full))
    assert _queries_for_card(staff_client, bare) == len(captured)
    assert sum("customers_contactconsent" in q["sql"] for q in captured.captured_queries) == 1
