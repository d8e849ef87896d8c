"""A closure through the API follows the page's rules: the scenarios of tests/closures, driven through /api/v1/.

Approval (with the setting on), the balance acknowledgement and its settlement, retired reasons, a
replay (with and without an Idempotency-Key), void as duplicate, reinstatement, the approval queue and
erasure (Admin tokens only).
"""

from decimal import Decimal

import pytest

from closures import operations
from closures.models import Closure, ClosureReason, ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from crm.models import AuditEntry
from customers.models import Customer, LedgerEntry
from tests.api.test_api_walk import assert_matches_schema
from tests.factories import ClosureReasonFactory, CustomerFactory

pytestmark = pytest.mark.django_db

CLOSURES = "/api/v1/closures/"
REQUESTS = "/api/v1/closure-requests/"


def reason(code: str) -> ClosureReason:
    return ClosureReason.objects.get(code=code)


@pytest.fixture
def customer():
    return CustomerFactory(customer_no="A000001")


@pytest.fixture
def staff_api(token_client, staff_user):
    return token_client(staff_user, "Staff")


@pytest.fixture
def manager_api(token_client, manager_user):
    return token_client(manager_user, "Manager")


@pytest.fixture
def admin_api(token_client, admin_user):
    return token_client(admin_user, "Admin")


def close(api, number="A000001", action="close", reason_code="customer-request", headers=None, **fields):
    body = {"customer": number, "action": action, "reason": reason_code, **fields}
    return api.post(CLOSURES, body, format="json", **(headers or {}))


def approval(policy=ClosureSettings.Policy.ALL) -> None:
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": policy})


# --- Close, void, archive ------------------------------------------------------------------------------


def test_a_staff_token_closes_a_card_through_the_operation(staff_api, staff_user, customer):
    response = close(staff_api, notes="客户要求")
    assert response.status_code == 201, response.content
    customer.refresh_from_db()
    assert customer.status == "closed"
    closure = Closure.objects.get(customer=customer)
    assert (closure.action, closure.performed_by, closure.notes) == ("close", staff_user, "客户要求")
    assert response.json()["id"] == closure.pk
    assert response.json()["customer_status"] == "closed"
    assert_matches_schema("/api/v1/closures/", "post", response)
    entry = AuditEntry.objects.get(action="closure.close")
    assert entry.data["api_token"].startswith("Staff system")


def test_the_card_shows_its_closure_summary_afterwards(staff_api, customer):
    close(staff_api)
    card = staff_api.get("/api/v1/customers/A000001/").json()
    assert card["status"] == "closed"
    assert card["closure"]["action"] == "close" and card["closure"]["reason"] == "customer-request"


def test_with_approval_on_a_staff_closure_becomes_a_pending_request_answered_202(staff_api, staff_user, customer):
    approval()
    response = close(staff_api, notes="客户要求")
    assert response.status_code == 202, response.content
    pending = ClosureRequest.objects.get(customer=customer)
    assert (pending.state, pending.requested_by, pending.notes) == ("pending", staff_user, "客户要求")
    assert response.json()["state"] == "pending" and response.json()["id"] == pending.pk
    assert_matches_schema("/api/v1/closures/", "post", response)
    customer.refresh_from_db()
    assert customer.status == "active"
    assert not Closure.objects.exists()


def test_managers_are_not_subject_to_approval(manager_api, customer):
    approval()
    assert close(manager_api).status_code == 201
    customer.refresh_from_db()
    assert customer.status == "closed"


def test_a_manager_approves_a_request_from_the_queue(staff_api, manager_api, staff_user, manager_user, customer):
    approval()
    close(staff_api)
    listed = manager_api.get(REQUESTS).json()["results"]
    assert [r["customer"] for r in listed] == ["A000001"]
    response = manager_api.post(f"{REQUESTS}{listed[0]['id']}/approve/", {"note": "同意"}, format="json")
    assert response.status_code == 200, response.content
    closure = Closure.objects.get(customer=customer)
    assert (closure.performed_by, closure.requested_by) == (manager_user, staff_user)
    assert response.json()["state"] == "approved" and response.json()["closure"] == closure.pk


def test_rejecting_needs_a_note(staff_api, manager_api, customer):
    approval()
    pending_id = close(staff_api).json()["id"]
    refused = manager_api.post(f"{REQUESTS}{pending_id}/reject/", {"note": ""}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Write why the request is rejected; the requester will see it."
    assert manager_api.post(f"{REQUESTS}{pending_id}/reject/", {"note": "客户已续费"}, format="json").status_code == 200
    assert ClosureRequest.objects.get(pk=pending_id).decision_note == "客户已续费"


def test_the_requester_withdraws_their_pending_request_and_no_one_else_may(staff_api, token_client, customer):
    from tests.factories import UserFactory

    approval()
    pending_id = close(staff_api).json()["id"]
    colleague = token_client(UserFactory(role="Staff"), "Staff")
    refused = colleague.post(f"{REQUESTS}{pending_id}/withdraw/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_yours"
    response = staff_api.post(f"{REQUESTS}{pending_id}/withdraw/", {"note": "客户改主意了"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "withdrawn"
    customer.refresh_from_db()
    assert customer.status == "active" and ClosureRequest.objects.get(pk=pending_id).state == "withdrawn"
    again = staff_api.post(f"{REQUESTS}{pending_id}/withdraw/", {}, format="json")
    assert again.status_code in (400, 409) and again.json()["error"]["message_zh"]


def test_staff_may_not_decide_requests(staff_api, customer):
    approval()
    pending_id = close(staff_api).json()["id"]
    assert staff_api.post(f"{REQUESTS}{pending_id}/approve/", {}, format="json").status_code == 403


def test_a_retired_reason_is_refused_next_to_the_reason(staff_api, customer):
    retired = ClosureReasonFactory(code="old-churn", label_en="Old churn", is_active=False)
    response = close(staff_api, reason_code=retired.code)
    assert response.status_code == 400
    field = response.json()["error"]["fields"]["reason"][0]
    assert field["code"] == "retired"
    assert field["message_en"].startswith("The reason “Old churn” was retired")
    customer.refresh_from_db()
    assert customer.status == "active"


def test_a_reason_meant_for_another_action_is_refused(staff_api, customer):
    response = close(staff_api, action="void", reason_code="customer-request")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["reason"][0]["code"] == "reason"


def test_notes_are_required_where_the_reason_says_so(staff_api, customer):
    response = close(staff_api, reason_code="other", notes="  ")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["notes"][0]["message"] == "This reason needs notes explaining it."
    assert not Closure.objects.exists()


def test_a_card_with_a_balance_needs_it_acknowledged_and_settled(staff_api, customer):
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("300.00"), points=50)
    refused = close(staff_api)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "balance_acknowledgement_required"
    assert set(error["fields"]) == {"balance_seen", "points_seen"}

    unsettled = close(staff_api, balance_seen="300.00", points_seen=50)
    assert unsettled.status_code == 400
    assert set(unsettled.json()["error"]["fields"]) == {"settlement"}

    done = close(
        staff_api, balance_seen="300.00", points_seen=50, settlement="forfeit", forfeit_reason="停用",
        settlement_note="余额已退回原卡",
    )  # fmt: skip
    assert done.status_code == 201, done.content
    closure = Closure.objects.get(customer=customer)
    assert (closure.balance_at_closure, closure.points_at_closure) == (Decimal("300.00"), 50)
    assert (closure.settlement, closure.settlement_note) == ("forfeit", "余额已退回原卡")


def test_a_balance_that_changed_since_it_was_seen_is_refused(staff_api, customer):
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("300.00"), points=50)
    response = close(staff_api, balance_seen="200.00", points_seen=50, settlement="forfeit", forfeit_reason="停用")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale"
    customer.refresh_from_db()
    assert customer.status == "active"


def test_a_refund_leaves_the_card_at_zero_with_a_refund_entry(manager_api, customer):
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("120.00"))
    response = close(manager_api, balance_seen="120.00", points_seen=0, settlement="refund", settlement_method="cash")
    assert response.status_code == 201, response.content
    customer.refresh_from_db()
    assert customer.balance == 0
    assert LedgerEntry.objects.filter(customer=customer, kind="refund").exists()


def test_void_as_duplicate_links_the_surviving_card(staff_api, customer):
    survivor = CustomerFactory(customer_no="C000007")
    response = close(staff_api, action="void", reason_code="duplicate", duplicate_of=" c000007 ")
    assert response.status_code == 201, response.content
    assert Closure.objects.get(customer=customer).duplicate_of == survivor
    assert response.json()["duplicate_of"] == "C000007"


def test_void_as_duplicate_of_itself_is_refused(staff_api, customer):
    response = close(staff_api, action="void", reason_code="duplicate", duplicate_of="A000001")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["duplicate_of"][0]["message"] == "A card cannot be a duplicate of itself."


# --- Replays ------------------------------------------------------------------------------------------------


def test_a_second_closure_without_a_key_is_refused_naming_who_closed_it(staff_api, customer):
    assert close(staff_api).status_code == 201
    again = close(staff_api)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already"
    assert again.json()["error"]["message"].startswith("This card was already closed by Li Na at ")
    assert Closure.objects.filter(customer=customer).count() == 1
    assert AuditEntry.objects.filter(action="closure.close").count() == 1


def test_a_replay_with_the_same_idempotency_key_returns_the_first_answer(staff_api, customer):
    first = close(staff_api, headers={"HTTP_IDEMPOTENCY_KEY": "close-A000001"})
    again = close(staff_api, headers={"HTTP_IDEMPOTENCY_KEY": "close-A000001"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Closure.objects.filter(customer=customer).count() == 1
    assert Closure.objects.get().nonce.startswith("api-")


def test_a_replay_after_reinstatement_does_not_close_the_card_again(staff_api, manager_user, customer):
    close(staff_api, headers={"HTTP_IDEMPOTENCY_KEY": "k1"})
    operations.reinstate(customer, by=manager_user, note="误操作")
    again = close(staff_api, headers={"HTTP_IDEMPOTENCY_KEY": "k1"})
    assert again.status_code == 201  # the first answer, replayed
    customer.refresh_from_db()
    assert customer.status == "active"
    assert Closure.objects.filter(customer=customer).count() == 1


def test_a_card_archived_by_someone_else_is_refused_saying_so(staff_api, manager_user, customer):
    operations.close_customer(customer, ClosureChoice("archive", reason("moved-away")), by=manager_user)
    response = close(staff_api)
    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith("This card was already archived by Wang Fang at ")


# --- Reinstate, read, list --------------------------------------------------------------------------------


def test_a_manager_reinstates_a_closure_with_a_note(staff_api, manager_api, customer):
    closure_id = close(staff_api).json()["id"]
    refused = manager_api.post(f"{CLOSURES}{closure_id}/reinstate/", {"note": ""}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()["error"]["fields"]
    response = manager_api.post(f"{CLOSURES}{closure_id}/reinstate/", {"note": "误操作"}, format="json")
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert customer.status == "active"
    assert response.json()["reverted_at"] is not None and response.json()["revert_note"] == "误操作"
    again = manager_api.post(f"{CLOSURES}{closure_id}/reinstate/", {"note": "again"}, format="json")
    assert again.status_code == 409


def test_staff_may_not_reinstate(staff_api, customer):
    closure_id = close(staff_api).json()["id"]
    assert staff_api.post(f"{CLOSURES}{closure_id}/reinstate/", {"note": "x"}, format="json").status_code == 403


def test_the_list_takes_the_dashboards_filters(manager_api, manager_user):
    for n, code in enumerate(["customer-request", "price", "price"]):
        card = CustomerFactory(customer_no=f"L00000{n}")
        operations.close_customer(card, ClosureChoice("close", reason(code)), by=manager_user)
    rows = manager_api.get(CLOSURES, {"reason": reason("price").pk}).json()["results"]
    assert [r["customer"] for r in rows] == ["L000002", "L000001"]
    assert manager_api.get(CLOSURES, {"period": "nonsense"}).status_code == 400


def test_staff_read_one_closure_but_not_the_list(staff_api, customer):
    closure_id = close(staff_api).json()["id"]
    assert staff_api.get(f"{CLOSURES}{closure_id}/").json()["customer"] == "A000001"
    assert staff_api.get(CLOSURES).status_code == 403


# --- Erase ----------------------------------------------------------------------------------------------------


def test_an_admin_token_erases_a_card_with_the_typed_confirmation(admin_api, customer):
    url = "/api/v1/customers/A000001/erase/"
    wrong = admin_api.post(url, {"reason": "erasure-request", "confirmation": "A000002"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["fields"]["confirmation"][0]["message"] == (
        "Type A000001 exactly; deletion cannot be undone."
    )
    response = admin_api.post(url, {"reason": "erasure-request", "confirmation": "A000001"}, format="json")
    assert response.status_code == 201, response.content
    customer.refresh_from_db()
    assert customer.is_erased and customer.phone == ""


def test_a_manager_token_cannot_erase(manager_api, customer):
    body = {"reason": "erasure-request", "confirmation": "A000001"}
    assert manager_api.post("/api/v1/customers/A000001/erase/", body, format="json").status_code == 403
    customer.refresh_from_db()
    assert not customer.is_erased


def test_closure_pages_are_stable_under_inserts_and_equal_moments(manager_api, manager_user):
    from django.utils import timezone

    moment = timezone.now()
    made = []
    for n in range(5):
        card = CustomerFactory(customer_no=f"K00000{n}")
        made.append(operations.close_customer(card, ClosureChoice("close", reason("price")), by=manager_user))
    Closure.objects.filter(pk__in=[c.pk for c in made[1:4]]).update(performed_at=moment)  # three at one moment
    first = manager_api.get(CLOSURES, {"limit": 2}).json()
    operations.close_customer(
        CustomerFactory(customer_no="K999999"), ClosureChoice("close", reason("price")), by=manager_user
    )
    seen, url = [r["id"] for r in first["results"]], first["next"]
    while url:
        page = manager_api.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    expected = sorted(made, key=lambda c: (Closure.objects.get(pk=c.pk).performed_at, c.pk), reverse=True)
    assert seen == [c.pk for c in expected]


def test_erasing_a_card_with_money_needs_the_balance_acknowledged_and_settled(admin_api, customer):
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("50.00"))
    url = "/api/v1/customers/A000001/erase/"
    body = {"reason": "erasure-request", "confirmation": "A000001"}
    refused = admin_api.post(url, body, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "balance_acknowledgement_required"
    done = admin_api.post(
        url, {**body, "balance_seen": "50.00", "points_seen": 0, "settlement": "refund", "settlement_method": "cash"},
        format="json",
    )  # fmt: skip
    assert done.status_code == 201, done.content
    customer.refresh_from_db()
    assert customer.is_erased and customer.balance == 0


def test_under_the_money_policy_a_card_with_a_balance_needs_approval_with_its_settlement(staff_api, customer):
    approval(ClosureSettings.Policy.KEY_OR_BALANCE)
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("5.00"))
    response = close(staff_api, balance_seen="5.00", points_seen=0, settlement="forfeit", forfeit_reason="小额")
    assert response.status_code == 202, response.content
    pending = ClosureRequest.objects.get(customer=customer)
    assert (pending.balance_seen, pending.settlement, pending.forfeit_reason) == (Decimal("5.00"), "forfeit", "小额")


def test_a_card_with_a_pending_request_cannot_be_closed_by_someone_else(staff_api, manager_api, customer):
    approval()
    close(staff_api)
    response = close(manager_api, action="archive", reason_code="long-inactive")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "pending"
    assert "waiting for a Manager's approval" in response.json()["error"]["message"]
    customer.refresh_from_db()
    assert customer.status == "active"


def test_approving_refuses_when_the_balance_changed_since_the_request(staff_api, manager_api, customer):
    approval()
    pending_id = close(staff_api).json()["id"]
    Customer.objects.filter(pk=customer.pk).update(balance=Decimal("20.00"))
    response = manager_api.post(f"{REQUESTS}{pending_id}/approve/", {}, format="json")
    assert response.status_code == 409
    assert "balance or points changed since the request" in response.json()["error"]["message"]
    assert ClosureRequest.objects.get(pk=pending_id).state == "pending"
    customer.refresh_from_db()
    assert customer.status == "active"


def test_a_request_is_decided_once(staff_api, manager_api, customer):
    approval()
    pending_id = close(staff_api).json()["id"]
    assert manager_api.post(f"{REQUESTS}{pending_id}/reject/", {"note": "不同意"}, format="json").status_code == 200
    again = manager_api.post(f"{REQUESTS}{pending_id}/approve/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already"
    assert not Closure.objects.exists()


def test_the_cards_version_as_read_lets_the_closure_through_and_an_older_one_is_refused(staff_api, customer):
    old = staff_api.get("/api/v1/customers/A000001/").json()["updated_at"]
    staff_api.patch("/api/v1/customers/A000001/", {"city": "杭州"}, format="json")
    refused = close(staff_api, updated_at=old)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "stale"
    current = staff_api.get("/api/v1/customers/A000001/").json()["updated_at"]
    assert close(staff_api, updated_at=current).status_code == 201


def test_the_closure_list_refuses_a_sort_it_cannot_page_through(manager_api):
    response = manager_api.get(CLOSURES, {"o": "reason"})
    assert response.status_code == 400
    assert "o" in response.json()["error"]["fields"]
