"""Approving or rejecting several requests at once from the approval queue, with one note."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from closures.batch import decide_many
from closures.models import Closure, ClosureRequest
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory

from .asking import ask

pytestmark = pytest.mark.django_db

BATCH = reverse("closures:request_batch")
QUEUE = reverse("closures:request_queue")


def levels(response) -> list[str]:
    return [m.level_tag for m in get_messages(response.wsgi_request)]


def test_batch_approval_of_three_requests_writes_three_decisions(manager_client, manager_user, staff_user):
    requests = [ask(staff_user, CustomerFactory(customer_no=f"B00000{n}")) for n in (1, 2, 3)]

    response = manager_client.post(BATCH, {"ids": [r.pk for r in requests], "decision": "approve", "note": "月底清理"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "3 requests approved." in page
    assert "0 requests refused." in page
    assert levels(response) == ["success"]
    assert Closure.objects.filter(requested_by=staff_user, performed_by=manager_user).count() == 3
    approved = ClosureRequest.objects.filter(state="approved", decided_by=manager_user, decision_note="月底清理")
    assert approved.count() == 3
    assert AuditEntry.objects.filter(action="closure.approve").count() == 3
    assert set(Customer.objects.filter(customer_no__startswith="B").values_list("status", flat=True)) == {"closed"}


def test_one_refused_inside_a_batch_leaves_the_others_decided_and_is_listed(manager_client, staff_user):
    requests = [ask(staff_user, CustomerFactory(customer_no=f"B00001{n}")) for n in (1, 2, 3)]
    Customer.objects.filter(pk=requests[1].customer_id).update(balance=88)  # money changed since the request

    response = manager_client.post(BATCH, {"ids": [r.pk for r in requests], "decision": "approve", "note": ""})

    page = response.content.decode()
    assert "2 requests approved." in page
    assert "1 request refused." in page
    assert "The card&#x27;s balance or points changed since the request" in page
    assert "B000012" in page
    assert levels(response) == ["warning"]
    states = dict(ClosureRequest.objects.values_list("customer__customer_no", "state"))
    assert states == {"B000011": "approved", "B000012": "pending", "B000013": "approved"}
    assert Closure.objects.count() == 2


def test_a_managers_own_request_and_an_already_decided_one_are_refused_with_why(manager_user, staff_user):
    own = ask(manager_user)
    theirs = ask(staff_user)
    decided = ask(staff_user)
    decide_many([decided.pk], by=manager_user, approving=False, note="先拒绝")

    result = decide_many([own.pk, theirs.pk, decided.pk], by=manager_user, approving=False, note="不同意")

    assert [r.pk for r in result.decided] == [theirs.pk]
    why = {r.pk: text for r, text in result.refused}
    assert why[own.pk] == "You asked for this closure; another Manager must decide it."
    assert why[decided.pk].startswith("This request was already decided (Rejected by Wang Fang")
    decided.refresh_from_db()
    assert decided.decision_note == "先拒绝"


def test_rejecting_in_a_batch_needs_the_note_and_keeps_the_ticks(manager_client, staff_user):
    first, second = ask(staff_user), ask(staff_user)

    response = manager_client.post(BATCH, {"ids": [first.pk], "decision": "reject", "note": ""})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Write why the request is rejected; the requester will see it." in page
    assert f'value="{first.pk}" id="request-{first.pk}" checked' in page
    assert f'value="{second.pk}" id="request-{second.pk}" aria-label' in page
    assert set(ClosureRequest.objects.values_list("state", flat=True)) == {"pending"}


def test_batch_rejection_with_a_note_rejects_every_ticked_request(manager_client, staff_user):
    requests = [ask(staff_user) for _ in range(3)]
    manager_client.post(BATCH, {"ids": [r.pk for r in requests[:2]], "decision": "reject", "note": "客户已续费"})
    states = [r.state for r in ClosureRequest.objects.order_by("requested_at", "id")]
    assert states == ["rejected", "rejected", "pending"]


def test_nothing_ticked_says_so(manager_client, staff_user):
    ask(staff_user)
    response = manager_client.post(BATCH, {"decision": "approve", "note": ""})
    assert "Tick the requests to approve or reject." in response.content.decode()


def test_the_queue_offers_the_batch_decision_with_select_all(manager_client, staff_user):
    pending = ask(staff_user)
    page = manager_client.get(QUEUE).content.decode()
    assert 'data-select-all="ids"' in page
    assert f'name="ids" value="{pending.pk}"' in page
    assert f'action="{BATCH}"' in page
    assert "Approve the ticked requests" in page
