"""Who reaches the Django admin, and what they can change there: nobody in a role, and nothing.

The admin is a read-only window for superusers. Cards change only through the card gate and the
closure operations, reasons and settings only on the CRM's pages (audited), so no admin page may
write anything — an erased card given back its name through the admin was the reproduction.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from closures.models import ClosureReason, ClosureSettings
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory, PurchaseFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    return client


def test_anonymous_visitors_are_sent_to_the_crms_own_login_page(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["Staff", "Manager", "Admin"])
def test_no_role_reaches_the_admin(role):
    user = UserFactory(role=role)
    assert not user.is_staff
    client = Client()
    client.force_login(user)
    assert client.get("/admin/", follow=True).status_code == 403
    assert client.get(reverse("admin:customers_customer_changelist"), follow=True).status_code == 403


def test_a_superuser_reads_cards_and_finds_them_by_number_name_or_phone(superuser_client):
    CustomerFactory(customer_no="C000321", name="欧阳娜娜", phone="+8613812345678")
    url = reverse("admin:customers_customer_changelist")
    for term in ["C000321", "欧阳", "138 1234 5678", "+8613812345678"]:
        assert "C000321" in superuser_client.get(url, {"q": term}).content.decode(), term


def test_an_erased_card_cannot_get_personal_data_back_through_the_admin(superuser_client):
    customer = CustomerFactory(status=Customer.Status.ERASED, name="[erased]", phone="", email="", balance=0)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = {
        "customer_no": customer.customer_no,
        "name": "Back Again",
        "phone": "13900000002",
        "segment": customer.segment,
        "stage": customer.stage,
        "balance": "50",
        "points": "0",
    }
    response = superuser_client.post(url, data)
    assert response.status_code == 403
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.balance) == ("[erased]", "", 0)
    assert not AuditEntry.objects.filter(customer_id=customer.pk).exists()


def test_reasons_and_closure_settings_cannot_be_changed_in_the_admin(superuser_client):
    reason = ClosureReason.objects.first()
    response = superuser_client.post(
        reverse("admin:closures_closurereason_change", args=[reason.pk]),
        {"label_en": "Changed behind the audit trail", "label_zh": "x", "category": reason.category},
    )
    assert response.status_code == 403
    assert ClosureReason.objects.get(pk=reason.pk).label_en == reason.label_en
    settings_url = reverse("admin:closures_closuresettings_change", args=[ClosureSettings.load().pk])
    assert superuser_client.post(settings_url, {"approval_required": "on"}).status_code == 403
    assert not ClosureSettings.load().approval_required


def test_purchases_are_shown_without_a_save_button(superuser_client):
    purchase = PurchaseFactory()
    response = superuser_client.get(reverse("admin:customers_purchase_change", args=[purchase.pk]))
    assert response.status_code == 200
    assert 'type="submit"' not in response.content.decode().split('id="purchase_form"')[-1].split("</form>")[0]


def test_no_model_of_the_crm_can_be_added_changed_or_deleted_in_the_admin_even_by_a_superuser(rf):
    """django-axes' lockout records stay deletable: that is how a superuser lifts a lockout."""
    request = rf.get("/admin/")
    request.user = UserFactory(username="root2", is_staff=True, is_superuser=True)
    ours = {"auth", "crm", "customers", "closures", "analytics"}
    writable = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ours
        and any(
            allowed(request)
            for allowed in (
                model_admin.has_add_permission,
                model_admin.has_change_permission,
                model_admin.has_delete_permission,
            )
        )
    ]
    assert writable == []
    assert len(admin.site._registry) >= 8
