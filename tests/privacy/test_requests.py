"""The register's operations: register, check identity, complete, refuse; each audited on the card."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from closures.models import Closure
from crm.models import AuditEntry
from customers.models import Customer
from privacy import requests
from privacy.models import DataRequest
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _actions(card) -> list[str]:
    return list(AuditEntry.objects.filter(customer_id=card.pk).order_by("id").values_list("action", flat=True))


def test_a_request_is_due_30_days_after_it_was_received_by_default(admin_user):
    card = CustomerFactory()
    received = TODAY() - dt.timedelta(days=3)
    made = requests.register(card, "access", received, "信件", by=admin_user)
    assert made.due_on == received + dt.timedelta(days=30)
    assert made.customer_no == card.customer_no and made.state == DataRequest.State.OPEN
    assert _actions(card) == ["privacy.register"]


def test_the_due_date_follows_the_setting(admin_user, settings):
    settings.PRIVACY_REQUEST_DAYS = 15
    made = requests.register(CustomerFactory(), "correction", TODAY(), "", by=admin_user)
    assert made.due_on == TODAY() + dt.timedelta(days=15)


def test_a_request_received_in_the_future_is_refused(admin_user):
    with pytest.raises(ValidationError) as caught:
        requests.register(CustomerFactory(), "access", TODAY() + dt.timedelta(days=1), "", by=admin_user)
    assert caught.value.message_dict == {"received_on": ["A request cannot be received in the future."]}
    assert not DataRequest.objects.exists()


def test_identity_is_checked_once_and_audited(admin_user, manager_user):
    card = CustomerFactory()
    made = requests.register(card, "access", TODAY(), "", by=admin_user)
    checked = requests.check_identity(made, by=admin_user)
    assert checked.identity_checked_by == admin_user and checked.identity_checked_at is not None
    with pytest.raises(ValidationError, match="already checked"):
        requests.check_identity(made, by=admin_user)
    assert _actions(card) == ["privacy.register", "privacy.identity"]


def test_an_access_request_is_answered_only_after_the_identity_check(admin_user):
    card = CustomerFactory()
    made = requests.register(card, "access", TODAY(), "", by=admin_user)
    with pytest.raises(ValidationError, match="Check the requester's identity first"):
        requests.complete(made, by=admin_user, note="")
    requests.check_identity(made, by=admin_user)
    done = requests.complete(made, by=admin_user, note="已寄出")
    assert (done.state, done.done_by, done.outcome) == (DataRequest.State.DONE, admin_user, "已寄出")
    assert done.done_at is not None
    entry = AuditEntry.objects.get(customer_id=card.pk, action="privacy.complete")
    assert (entry.actor, entry.notes, entry.object_id) == (admin_user, "已寄出", str(made.pk))
    with pytest.raises(ValidationError, match="already marked answered by Zhao Lei"):
        requests.refuse(made, by=admin_user, note="x")


def test_a_refusal_says_why_and_is_audited(admin_user):
    card = CustomerFactory()
    made = requests.register(card, "correction", TODAY(), "", by=admin_user)
    with pytest.raises(ValidationError) as caught:
        requests.refuse(made, by=admin_user, note="  ")
    assert caught.value.message_dict == {"note": ["Write why the request is refused."]}
    refused = requests.refuse(made, by=admin_user, note="无法核验身份")
    assert refused.state == DataRequest.State.REFUSED
    assert _actions(card) == ["privacy.register", "privacy.refuse"]


def test_a_correction_is_answered_without_touching_the_card(admin_user):
    card = CustomerFactory(name="欧阳修")
    made = requests.register(card, "correction", TODAY(), "改地址", by=admin_user)
    requests.complete(made, by=admin_user, note="已在卡片上更正")
    card.refresh_from_db()
    assert card.name == "欧阳修" and card.status == Customer.Status.ACTIVE


def test_an_erasure_request_erases_the_card_with_the_data_subject_request_reason(admin_user):
    card = CustomerFactory(name="欧阳修", phone="+8613955556666")
    made = requests.register(card, "erasure", TODAY(), "欧阳修 本人来电 +8613955556666", by=admin_user)
    with pytest.raises(ValidationError, match="identity"):
        requests.complete(made, by=admin_user, note="")
    card.refresh_from_db()
    assert card.status == Customer.Status.ACTIVE
    requests.check_identity(made, by=admin_user)
    requests.complete(made, by=admin_user, note="已删除")
    card.refresh_from_db()
    made.refresh_from_db()
    assert card.status == Customer.Status.ERASED and card.name == "[erased]"
    closure = Closure.objects.get(customer=card)
    assert closure.reason.code == "erasure-request" and closure.action == "erase"
    assert made.state == DataRequest.State.DONE and made.customer_no == card.customer_no
    assert "欧阳修" not in made.notes and "+8613955556666" not in made.notes  # the register forgets them too
    assert "closure.erase" in _actions(card) and _actions(card)[-1] == "privacy.complete"


def test_an_erasure_refused_by_the_erasure_rules_leaves_the_request_open(admin_user):
    card = CustomerFactory(balance="50.00")  # money to settle first
    made = requests.register(card, "erasure", TODAY(), "", by=admin_user)
    requests.check_identity(made, by=admin_user)
    with pytest.raises(ValidationError):
        requests.complete(made, by=admin_user, note="")
    made.refresh_from_db()
    card.refresh_from_db()
    assert made.state == DataRequest.State.OPEN and card.status == Customer.Status.ACTIVE


def test_overdue_is_open_and_past_its_due_date(admin_user):
    card = CustomerFactory()
    late = requests.register(card, "access", TODAY() - dt.timedelta(days=31), "", by=admin_user)
    due_today = requests.register(card, "access", TODAY() - dt.timedelta(days=30), "", by=admin_user)
    answered = requests.register(card, "correction", TODAY() - dt.timedelta(days=60), "", by=admin_user)
    requests.complete(answered, by=admin_user, note="")
    assert list(DataRequest.objects.overdue()) == [late]
    assert late.is_overdue and not due_today.is_overdue


def test_an_erasure_from_the_card_also_clears_the_registers_notes(admin_user):
    from closures.erasure import erase_customer
    from closures.models import ClosureReason
    from closures.rules import ClosureChoice

    card = CustomerFactory(phone="+8613977778888")
    made = requests.register(card, "access", TODAY(), "本人来电 +8613977778888", by=admin_user)
    reason = ClosureReason.objects.get(code="erasure-request")
    erase_customer(card, ClosureChoice("erase", reason), by=admin_user, confirmation=card.customer_no)
    made.refresh_from_db()
    assert made.notes == "本人来电 [erased]"
