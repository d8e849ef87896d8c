"""Staff cannot delete, reinstate, approve or bulk-close, even by posting the form by hand."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from closures import bulk, operations, rules, tokens
from closures.models import Closure, ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory

from .steps import confirm_url, reason, start_url

pytestmark = pytest.mark.django_db


def nothing_recorded(*customers) -> bool:
    return (
        not AuditEntry.objects.filter(customer_id__in=[c.pk for c in customers])
        .exclude(action__in=["closure.close", "closure.request"])
        .exists()
    )


def test_staff_cannot_delete_a_card(staff_client):
    customer = CustomerFactory(customer_no="P000001", name="赵敏")
    token = tokens.sign_preview(
        tokens.Preview.new(customer, action="erase", reason_id=reason("erasure-request").pk, notes="")
    )

    assert staff_client.get(start_url(customer, "erase")).status_code == 403
    assert staff_client.post(start_url(customer, "erase"), {"reason": reason("erasure-request").pk}).status_code == 403
    posted = staff_client.post(confirm_url(customer, "erase"), {"token": token, "confirmation": "P000001"})

    assert posted.status_code == 403
    customer.refresh_from_db()
    assert (customer.status, customer.name) == ("active", "赵敏")
    assert not Closure.objects.exists()


@pytest.mark.parametrize("client_name", ["staff_client", "manager_client"])
def test_only_admins_see_delete_and_managers_get_403_too(request, client_name):
    client = request.getfixturevalue(client_name)
    customer = CustomerFactory()
    assert client.get(start_url(customer, "erase")).status_code == 403


def test_staff_cannot_reinstate_a_card(staff_client, manager_user):
    customer = CustomerFactory()
    operations.close_customer(customer, ClosureChoice("close", reason("service")), by=manager_user)

    response = staff_client.post(reverse("closures:reinstate", kwargs={"pk": customer.pk}), {"note": "hand-made"})

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.status == "closed"
    assert Closure.objects.get().reverted_at is None
    assert nothing_recorded(customer)


def test_staff_cannot_approve_or_reject_requests(staff_client, staff_user):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    customer = CustomerFactory()
    pending = operations.request_closure(customer, ClosureChoice("close", reason("price")), by=staff_user)
    url = reverse("closures:request_decide", kwargs={"pk": pending.pk})

    assert staff_client.get(reverse("closures:request_queue")).status_code == 403
    assert staff_client.post(url, {"decision": "approve"}).status_code == 403
    assert staff_client.post(url, {"decision": "reject", "note": "no"}).status_code == 403

    pending.refresh_from_db()
    assert pending.state == ClosureRequest.State.PENDING
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Closure.objects.exists()


def test_staff_cannot_bulk_close(staff_client):
    customers = [CustomerFactory(), CustomerFactory()]
    ids = [c.pk for c in customers]
    seen = {c.pk: rules.version(c) for c in customers}
    token = tokens.sign_bulk(ClosureChoice("close", reason("service").pk, seen=seen, nonce=tokens.new_nonce()))

    assert staff_client.get(reverse("closures:bulk") + f"?ids={ids[0]}").status_code == 403
    assert (
        staff_client.post(
            reverse("closures:bulk"),
            {"selection": tokens.sign_selection(ids), "choice": f"close:{reason('service').pk}"},
        ).status_code
        == 403
    )
    assert staff_client.post(reverse("closures:bulk_confirm"), {"token": token}).status_code == 403
    assert not Closure.objects.exists()
    assert set(Customer.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"active"}


def test_the_operations_refuse_staff_too(staff_user):
    customer = CustomerFactory(status="archived")
    with pytest.raises(ValidationError):
        operations.reinstate(customer, by=staff_user, note="x")
    with pytest.raises(ValidationError):
        bulk.bulk_close([customer.pk], ClosureChoice("close", reason("service")), by=staff_user)
    customer.refresh_from_db()
    assert customer.status == "archived"
