import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import gate
from customers.forms import CustomerForm, InteractionForm, PurchaseForm
from customers.models import Customer, Tag
from customers.numbers import next_customer_no
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def valid_data(**overrides) -> dict:
    data = {
        "customer_no": "",
        "name": "张伟",
        "gender": "m",
        "birth_date": "1985-06-01",
        "phone": "138 1234 5678",
        "email": "Zhang.Wei@Example.CN",
        "city": "上海",
        "segment": "regular",
        "stage": "repeat",
        "tags": "VIP, 生日关怀",
        "balance": "120.5",
        "points": "300",
    }
    data.update(overrides)
    return data


def created(form: CustomerForm) -> Customer:
    """What the create view does with a valid form: the card gate writes it."""
    assert form.is_valid(), form.errors
    return gate.create_card(form.card_values(), by=None, source=gate.FORM)


def errors_for(data: dict, instance=None) -> dict:
    form = CustomerForm(data, instance=instance)
    form.is_valid()
    return form.errors


def test_a_valid_card_is_saved_with_domain_values():
    customer = created(CustomerForm(valid_data()))
    customer.refresh_from_db()
    assert customer.phone == "+8613812345678"
    assert customer.phone_rev == "8765432183168"
    assert customer.email == "zhang.wei@example.cn"
    assert customer.balance == Decimal("120.50")
    assert sorted(t.name for t in customer.tags.all()) == ["VIP", "生日关怀"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "Enter the customer's name."),
        ("phone", "1381234567", "This mobile number has 10 digits; Chinese mobiles have 11."),
        ("phone", "010 1234 5678", "is a landline number; enter a mobile number."),
        ("email", "not-an-email", "Enter a valid email address, such as name@example.com."),
        ("birth_date", "2999-01-01", "The birth date cannot be in the future."),
        ("birth_date", "1850-01-01", "Enter a birth date after 1 January 1900."),
        ("birth_date", "31/02/1990", "Enter a valid date."),
        ("balance", "-1", "The balance cannot be negative."),
        ("balance", "lots", "Enter the balance as a number, such as 120.50."),
        ("points", "-5", "Points cannot be negative."),
        ("points", "1.5", "Enter the points as a whole number."),
        ("customer_no", "C 123", "A customer number may contain only letters, digits"),
        ("customer_no", "会员1", "A customer number may contain only letters, digits"),
        ("tags", "x" * 41, "is longer than 40 characters."),
        ("tags", ",".join(f"t{i}" for i in range(21)), "A card can have at most 20 tags."),
        ("segment", "gold", "Select a valid choice."),
    ],
)
def test_each_field_says_what_is_wrong_next_to_it(field, value, message):
    errors = errors_for(valid_data(**{field: value}))
    assert field in errors
    assert any(message in error for error in errors[field]), errors[field]


def test_a_future_birth_date_is_refused_but_today_is_fine():
    today = timezone.localdate()
    assert "birth_date" not in errors_for(valid_data(birth_date=today.isoformat()))
    tomorrow = today + dt.timedelta(days=1)
    assert "birth_date" in errors_for(valid_data(birth_date=tomorrow.isoformat()))


def test_a_blank_number_is_generated_and_is_never_one_in_use(fresh_numbers):
    for number in ("C000001", "C000002", "C000041", "VIP-9"):
        CustomerFactory(customer_no=number)
    assert created(CustomerForm(valid_data())).customer_no == "C000042"


def test_generated_numbers_jump_past_numbers_taken_by_imported_cards(fresh_numbers):
    for number in ("C000001", "C000002", "C000003", "C000500"):
        CustomerFactory(customer_no=number)
    assert next_customer_no() == "C000501"


def test_the_form_itself_never_writes_a_card():
    form = CustomerForm(valid_data())
    assert form.is_valid()
    with pytest.raises(NotImplementedError):
        form.save()
    assert not Customer.objects.exists()


def test_the_first_generated_number_is_c000001(fresh_numbers):
    assert next_customer_no() == "C000001"


def test_an_explicit_number_is_stored_upper_case():
    assert created(CustomerForm(valid_data(customer_no=" vip-0042 "))).customer_no == "VIP-0042"


def test_a_number_already_used_by_another_card_is_refused_whatever_its_case():
    CustomerFactory(customer_no="C000123")
    errors = errors_for(valid_data(customer_no="c000123"))
    assert errors["customer_no"] == ["Customer number C000123 is already used by another card."]


def test_a_card_keeps_its_own_number_on_edit():
    customer = CustomerFactory(customer_no="C000123")
    assert "customer_no" not in errors_for(valid_data(customer_no="C000123"), instance=customer)


def test_the_number_is_required_on_edit():
    customer = CustomerFactory()
    assert "customer_no" in errors_for(valid_data(customer_no=""), instance=customer)


def test_tags_link_existing_ones_case_insensitively_and_create_the_rest():
    vip = TagFactory(name="VIP")
    customer = created(CustomerForm(valid_data(tags="vip，新客户、VIP")))
    assert {t.name for t in customer.tags.all()} == {"VIP", "新客户"}
    assert customer.tags.get(name="VIP") == vip
    assert Tag.objects.count() == 2


def test_owner_is_limited_to_active_users_in_a_role(staff_user):
    outsider = UserFactory(username="no_role_user")
    gone = UserFactory(username="gone", role="Staff", is_active=False)
    owners = set(CustomerForm().fields["owner"].queryset)
    assert staff_user in owners
    assert outsider not in owners
    assert gone not in owners


def test_a_card_keeps_an_owner_who_has_left(staff_user):
    gone = UserFactory(username="gone", role="Staff", is_active=False)
    customer = CustomerFactory(owner=gone)
    assert gone in set(CustomerForm(instance=customer).fields["owner"].queryset)


# --- duplicates ------------------------------------------------------------------------------
def test_a_phone_that_belongs_to_another_card_warns_and_links_it():
    existing = CustomerFactory(phone="+8613812345678", name="王芳")
    form = CustomerForm(valid_data(phone="138-1234-5678", email="new@example.cn"))
    assert not form.is_valid()
    assert form.duplicates == [existing]
    assert "Another card already has this phone number or email" in form.errors["save_anyway"][0]


def test_an_email_that_belongs_to_another_card_warns_whatever_its_case():
    existing = CustomerFactory(email="zhang.wei@example.cn")
    form = CustomerForm(valid_data(phone="13900001111", email="ZHANG.WEI@example.cn"))
    assert not form.is_valid()
    assert form.duplicates == [existing]


def test_ticking_save_anyway_saves_the_duplicate():
    CustomerFactory(phone="+8613812345678")
    created(CustomerForm(valid_data(save_anyway="on")))
    assert Customer.objects.filter(phone="+8613812345678").count() == 2


def test_an_erased_card_is_not_a_duplicate():
    CustomerFactory(phone="+8613812345678", status=Customer.Status.ERASED)
    assert CustomerForm(valid_data()).is_valid()


def test_editing_without_touching_phone_or_email_does_not_warn_about_existing_duplicates():
    CustomerFactory(phone="+8613812345678")
    customer = CustomerFactory(phone="+8613812345678", email="mine@example.cn")
    data = valid_data(customer_no=customer.customer_no, phone="+8613812345678", email="mine@example.cn")
    data["version"] = customer.updated_at.isoformat()
    form = CustomerForm(data, instance=customer)
    assert form.is_valid(), form.errors


def test_changing_the_phone_on_edit_to_another_cards_warns():
    other = CustomerFactory(phone="+8613900001111")
    customer = CustomerFactory(phone="+8613812345678")
    form = CustomerForm(valid_data(customer_no=customer.customer_no, phone="13900001111"), instance=customer)
    assert not form.is_valid()
    assert form.duplicates == [other]


def test_an_edit_based_on_an_old_version_of_the_card_is_refused(manager_client):
    customer = CustomerFactory(city="上海")
    data = valid_data(customer_no=customer.customer_no, phone=customer.phone, email=customer.email, city="杭州")
    data["version"] = (customer.updated_at - dt.timedelta(minutes=5)).isoformat()
    response = manager_client.post(reverse("customers:edit", kwargs={"pk": customer.pk}), data)
    assert response.status_code == 200
    assert "Someone else changed this card after you opened it." in response.content.decode()
    customer.refresh_from_db()
    assert customer.city == "上海"


# --- interactions and purchases ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "", "Choose the type of interaction."),
        ("kind", "fax", "Select a valid choice."),
        ("occurred_at", "", "Enter when it happened."),
        ("occurred_at", "yesterday", "Enter the date and time as YYYY-MM-DD HH:MM."),
        ("occurred_at", "2999-01-01T10:00", "An interaction cannot be in the future."),
        ("summary", "   ", "Write a short summary of the interaction."),
    ],
)
def test_interaction_form_messages(field, value, message):
    data = {"kind": "call", "occurred_at": "2026-01-05T10:30", "summary": "回访", "outcome": ""}
    data[field] = value
    form = InteractionForm(data)
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field]), form.errors


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("product", " ", "Enter the product."),
        ("quantity", "0", "The quantity must be at least 1."),
        ("quantity", "two", "Enter the quantity as a whole number."),
        ("amount", "-3", "The amount cannot be negative."),
        ("amount", "abc", "Enter the amount as a number, such as 199.00."),
        ("purchased_on", "2999-01-01", "The purchase date cannot be in the future."),
        ("purchased_on", "", "Enter the date of the purchase."),
    ],
)
def test_purchase_form_messages(field, value, message):
    data = {"product": "会员年卡", "quantity": "1", "amount": "199.00", "purchased_on": "2026-01-05"}
    data[field] = value
    form = PurchaseForm(data)
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field]), form.errors
