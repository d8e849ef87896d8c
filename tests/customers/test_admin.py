import pytest
from django.urls import reverse

from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory, PurchaseFactory

pytestmark = pytest.mark.django_db


def test_admins_find_customers_in_the_django_admin_by_number_name_or_phone(admin_client):
    CustomerFactory(customer_no="C000321", name="欧阳娜娜", phone="+8613812345678")
    url = reverse("admin:customers_customer_changelist")
    for term in ["C000321", "欧阳", "138 1234 5678", "+8613812345678"]:
        assert "C000321" in admin_client.get(url, {"q": term}).content.decode(), term


def test_status_is_read_only_and_cards_cannot_be_deleted_in_the_admin(admin_client):
    customer = CustomerFactory(status=Customer.Status.CLOSED)
    html = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert 'name="status"' not in html
    delete = admin_client.get(reverse("admin:customers_customer_delete", args=[customer.pk]))
    assert delete.status_code == 403


def test_an_edit_in_the_admin_is_normalised_and_audited(admin_client, admin_user):
    customer = CustomerFactory(city="上海", phone="+8613900000001")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = {
        "customer_no": customer.customer_no.lower(),
        "name": customer.name,
        "gender": "",
        "phone": "139 0000 0002",
        "email": "NEW@Example.CN",
        "city": "杭州",
        "segment": customer.segment,
        "stage": customer.stage,
        "balance": "0",
        "points": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.phone, customer.email, customer.city) == ("+8613900000002", "new@example.cn", "杭州")
    entry = AuditEntry.objects.get(action="customer.update", customer_id=customer.pk)
    assert entry.actor == admin_user
    assert entry.changes["city"] == ["上海", "杭州"]


def test_purchases_are_view_only_in_the_admin(admin_client):
    purchase = PurchaseFactory()
    response = admin_client.get(reverse("admin:customers_purchase_change", args=[purchase.pk]))
    assert response.status_code == 200
    assert 'type="submit"' not in response.content.decode().split('id="purchase_form"')[-1].split("</form>")[0]
