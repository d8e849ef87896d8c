"""Create, edit, log interactions and add purchases through the pages: database state and audit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry
from customers.models import Customer, Interaction, Purchase
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def form_data(customer=None, **overrides) -> dict:
    data = {
        "customer_no": customer.customer_no if customer else "",
        "name": customer.name if customer else "陈静",
        "gender": "f",
        "phone": customer.phone if customer else "139 0000 1111",
        "email": customer.email if customer else "chen.jing@example.cn",
        "city": customer.city if customer else "成都",
        "segment": customer.segment if customer else "potential",
        "stage": customer.stage if customer else "prospect",
        "balance": str(customer.balance) if customer else "0",
        "points": str(customer.points) if customer else "0",
        "tags": "",
    }
    if customer:
        data["version"] = customer.updated_at.isoformat()
    data.update(overrides)
    return data


# --- create ------------------------------------------------------------------------------------
def test_staff_create_a_card_and_land_on_it(staff_client, staff_user, fresh_numbers):
    response = staff_client.post(reverse("customers:create"), form_data(owner=staff_user.pk, tags="VIP"))
    customer = Customer.objects.get(name="陈静")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:card", kwargs={"pk": customer.pk})
    assert customer.customer_no == "C000001"
    assert customer.phone == "+8613900001111"
    assert customer.owner == staff_user
    entry = AuditEntry.objects.get(action="customer.create")
    assert entry.customer_id == customer.pk
    assert entry.actor == staff_user
    assert entry.changes["phone"] == [None, "+8613900001111"]
    assert entry.changes["tags"] == [None, "VIP"]


def test_a_create_with_errors_shows_them_next_to_the_fields_and_writes_nothing(staff_client):
    response = staff_client.post(reverse("customers:create"), form_data(phone="1390000111", name=""))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This mobile number has 10 digits; Chinese mobiles have 11." in html
    assert "Enter the customer&#x27;s name." in html
    assert not Customer.objects.exists()
    assert not AuditEntry.objects.exclude(action__startswith="auth.").exists()


def test_a_duplicate_phone_shows_a_warning_linking_the_existing_card(staff_client):
    existing = CustomerFactory(phone="+8613900001111", name="陈静", customer_no="C000777")
    response = staff_client.post(reverse("customers:create"), form_data())
    html = response.content.decode()
    assert "Possible duplicate" in html
    assert reverse("customers:card", kwargs={"pk": existing.pk}) in html
    assert "This is a different customer; save anyway" in html
    assert Customer.objects.count() == 1


def test_a_duplicate_is_saved_once_save_anyway_is_ticked(staff_client):
    CustomerFactory(phone="+8613900001111")
    response = staff_client.post(reverse("customers:create"), form_data(save_anyway="on"))
    assert response.status_code == 302
    assert Customer.objects.filter(phone="+8613900001111").count() == 2


# --- edit ----------------------------------------------------------------------------------------
def test_an_edit_saves_and_audits_exactly_what_changed(manager_client, manager_user):
    customer = CustomerFactory(city="上海", name="刘洋")
    customer.tags.add(TagFactory(name="门店"))
    url = reverse("customers:edit", kwargs={"pk": customer.pk})
    response = manager_client.post(url, form_data(customer, city="杭州", tags="门店, VIP"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "杭州"
    entry = AuditEntry.objects.get(action="customer.update")
    assert entry.customer_id == customer.pk
    assert entry.actor == manager_user
    assert entry.data == {"source": {"kind": "form"}}
    assert entry.changes == {
        "city": ["上海", "杭州"],
        "tags": ["门店", "VIP, 门店"],
        "gender": ["", "f"],
    }


@pytest.mark.parametrize("role", ["staff", "manager", "admin"])
def test_nobody_changes_balance_or_points_on_the_edit_form(role, request):
    """Balance and points are a ledger: the edit form has no field for them, and a forged one is ignored."""
    client = request.getfixturevalue(f"{role}_client")
    customer = CustomerFactory(balance=Decimal("88.00"), points=120, city="上海")
    url = reverse("customers:edit", kwargs={"pk": customer.pk})
    assert 'name="balance"' not in client.get(url).content.decode()
    response = client.post(url, form_data(customer, city="杭州", balance="0", points="0"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.city, customer.balance, customer.points) == ("杭州", Decimal("88.00"), 120)
    assert set(AuditEntry.objects.get(action="customer.update").changes) == {"city", "gender"}


def test_staff_create_cards_without_a_balance(staff_client):
    response = staff_client.post(reverse("customers:create"), form_data(balance="500", points="9"))
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (customer.balance, customer.points) == (Decimal("0.00"), 0)


def test_an_edit_that_changes_nothing_writes_no_audit_entry(staff_client):
    customer = CustomerFactory(gender="f")
    url = reverse("customers:edit", kwargs={"pk": customer.pk})
    staff_client.post(url, form_data(customer))
    assert not AuditEntry.objects.filter(action="customer.update").exists()


def test_the_edit_form_shows_the_current_values(staff_client):
    customer = CustomerFactory(name="周杰", phone="+8613812345678")
    customer.tags.add(TagFactory(name="VIP"))
    html = staff_client.get(reverse("customers:edit", kwargs={"pk": customer.pk})).content.decode()
    assert 'value="周杰"' in html
    assert 'value="+8613812345678"' in html
    assert 'value="VIP"' in html


@pytest.mark.parametrize("status", ["closed", "void", "archived", "erased"])
@pytest.mark.parametrize("route", ["customers:edit", "customers:add_interaction", "customers:add_purchase"])
def test_non_active_cards_refuse_changes_with_a_clear_message(staff_client, status, route):
    customer = CustomerFactory(status=status, city="上海")
    url = reverse(route, kwargs={"pk": customer.pk})
    expected = "can never be changed again" if status == "erased" else "reinstate it first to change it"
    for response in (staff_client.get(url, follow=True), staff_client.post(url, form_data(customer), follow=True)):
        assert response.redirect_chain[-1][0] == reverse("customers:card", kwargs={"pk": customer.pk})
        assert expected in response.content.decode()
    customer.refresh_from_db()
    assert customer.city == "上海"
    assert not Purchase.objects.exists() and not Interaction.objects.exists()
    assert not AuditEntry.objects.exclude(action__startswith="auth.").exists()


# --- interactions and purchases -------------------------------------------------------------------
def test_logging_an_interaction_moves_last_interaction_and_is_audited(staff_client, staff_user):
    customer = CustomerFactory()
    when = timezone.localtime() - dt.timedelta(hours=2)
    response = staff_client.post(
        reverse("customers:add_interaction", kwargs={"pk": customer.pk}),
        {"kind": "visit", "occurred_at": when.strftime("%Y-%m-%dT%H:%M"), "summary": "到店试穿", "outcome": "已购买"},
    )
    assert response.status_code == 302
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.by == staff_user
    assert interaction.kind == "visit"
    customer.refresh_from_db()
    assert customer.last_interaction_at == interaction.occurred_at
    entry = AuditEntry.objects.get(action="interaction.create")
    assert entry.customer_id == customer.pk
    assert entry.changes["summary"] == [None, "到店试穿"]


def test_an_older_interaction_does_not_move_last_interaction_back(staff_client):
    recent = timezone.now() - dt.timedelta(hours=1)
    customer = CustomerFactory(last_interaction_at=recent)
    staff_client.post(
        reverse("customers:add_interaction", kwargs={"pk": customer.pk}),
        {"kind": "call", "occurred_at": "2025-01-01T09:00", "summary": "补录", "outcome": ""},
    )
    customer.refresh_from_db()
    assert customer.last_interaction_at == recent


def test_adding_purchases_keeps_the_card_figures_current(staff_client, staff_user):
    customer = CustomerFactory()
    url = reverse("customers:add_purchase", kwargs={"pk": customer.pk})
    today = timezone.localdate()
    staff_client.post(
        url,
        {
            "product": "护肤套装",
            "quantity": "2",
            "amount": "736.00",
            "purchased_on": (today - dt.timedelta(days=3)).isoformat(),
        },
    )
    staff_client.post(
        url,
        {
            "product": "茶叶礼盒",
            "quantity": "1",
            "amount": "299.00",
            "purchased_on": (today - dt.timedelta(days=9)).isoformat(),
        },
    )
    customer.refresh_from_db()
    assert customer.purchase_count == 2
    assert customer.purchase_total == Decimal("1035.00")
    assert customer.last_purchase_on == today - dt.timedelta(days=3)
    assert Purchase.objects.filter(customer=customer, recorded_by=staff_user).count() == 2
    assert AuditEntry.objects.filter(action="purchase.create", customer_id=customer.pk).count() == 2


def test_a_bad_purchase_is_shown_with_its_error_and_not_recorded(staff_client):
    customer = CustomerFactory()
    response = staff_client.post(
        reverse("customers:add_purchase", kwargs={"pk": customer.pk}),
        {"product": "护肤套装", "quantity": "0", "amount": "10", "purchased_on": "2026-01-01"},
    )
    assert "The quantity must be at least 1." in response.content.decode()
    customer.refresh_from_db()
    assert customer.purchase_count == 0
    assert not Purchase.objects.exists()
