"""The events webhooks are made of: the card gate, imports and the closure requests write them in their
own transaction, with ids and field names only; an endpoint hears only the events (and, for card.updated,
the changed fields) it chose."""

import io

import pytest

from api import delivery
from api.models import WebhookDelivery
from closures import operations
from closures.models import ClosureReason, ClosureSettings
from closures.rules import ClosureChoice
from crm import outbox
from crm.models import AuditEntry, Event, EventReceipt
from customers import gate, imports
from customers.gate import FORM
from customers.models import Customer
from tests.factories import CustomerFactory
from tests.fixtures.customer_files import csv_bytes

pytestmark = pytest.mark.django_db


def test_a_new_card_is_an_event_naming_its_fields_and_audit_entry_not_their_values(staff_user):
    card = gate.create_card({"name": "赵敏", "phone": "13912345678", "city": "上海"}, by=staff_user, source=FORM)
    event = Event.objects.get()
    entry = AuditEntry.objects.get(action="customer.create", customer_id=card.pk)
    assert (event.type, event.customer_id, event.actor) == ("card.created", card.pk, staff_user)
    assert event.payload == {"fields": sorted(entry.changes), "audit": entry.pk}
    assert "赵敏" not in str(event.payload) and "13912345678" not in str(event.payload)


def test_a_change_is_an_event_and_a_change_that_changes_nothing_is_none(staff_user):
    card = CustomerFactory(city="上海", email="a@example.com")
    gate.update_card(card, {"city": "上海"}, by=staff_user, source=FORM)
    assert not Event.objects.exists()
    gate.update_card(card, {"city": "北京", "email": "b@example.com"}, by=staff_user, source=FORM)
    event = Event.objects.get()
    assert event.type == "card.updated" and event.payload["fields"] == ["city", "email"]
    assert AuditEntry.objects.get(pk=event.payload["audit"]).changes["city"] == ["上海", "北京"]


def test_an_import_writes_an_event_per_card_created_or_changed(admin_user):
    card = CustomerFactory(customer_no="TEL-0001", name="张伟")
    CustomerFactory(customer_no="TEL-0002", name="李娜")
    rows = [["TEL-0001", "张伟伟"], ["TEL-0002", "李娜"], ["TEL-0003", "王芳"]]
    data = csv_bytes([], header=["customer_no", "name"], raw_rows=rows)
    imports.import_customers(io.BytesIO(data), "cards.csv", user=admin_user, commit=True)

    new = Customer.objects.get(customer_no="TEL-0003")
    events = {(e.type, e.customer_id): e for e in Event.objects.all()}
    assert set(events) == {("card.updated", card.pk), ("card.created", new.pk)}  # not the unchanged card
    updated = events[("card.updated", card.pk)]
    assert updated.payload["fields"] == ["name"] and updated.actor == admin_user
    assert AuditEntry.objects.get(pk=updated.payload["audit"]).changes == {"name": ["张伟", "张伟伟"]}
    assert AuditEntry.objects.get(pk=events[("card.created", new.pk)].payload["audit"]).customer_id == new.pk


def test_closure_requests_and_their_decisions_are_events(staff_user, manager_user):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    price = ClosureReason.objects.get(code="price")
    first, second = CustomerFactory(), CustomerFactory()
    asked = operations.request_closure(first, ClosureChoice("close", price, notes="客户要求"), by=staff_user)
    operations.approve(asked, by=manager_user)
    refused = operations.request_closure(second, ClosureChoice("close", price), by=staff_user)
    operations.reject(refused, by=manager_user, note="再联系一次")

    types = list(Event.objects.filter(type__startswith="closure.").order_by("id").values_list("type", "customer_id"))
    assert types == [
        ("closure.requested", first.pk),
        ("closure.approved", first.pk),
        ("closure.requested", second.pk),
        ("closure.rejected", second.pk),
    ]
    approved = Event.objects.get(type="closure.approved")
    asked.refresh_from_db()
    assert approved.payload["request"] == asked.pk and approved.payload["state"] == "approved"
    assert approved.payload["closure"] == asked.closure_id and approved.actor == manager_user
    assert "客户要求" not in str(approved.payload) and "再联系一次" not in str(Event.objects.values_list("payload"))


def test_a_field_filter_lets_through_only_changes_of_the_chosen_fields(receiver, subscribe, staff_user):
    subscribe(receiver, events=["card.updated"], fields=["phone", "email"])
    card = CustomerFactory(city="上海", phone="13900000000")
    gate.update_card(card, {"city": "北京"}, by=staff_user, source=FORM)
    gate.update_card(card, {"phone": "13911111111", "city": "广州"}, by=staff_user, source=FORM)
    outbox.dispatch()
    delivery.send_due()
    [envelope] = receiver.envelopes
    assert set(envelope["data"]["changes"]) == {"phone", "city"}
    assert envelope["data"]["changes"]["phone"] == {"old": "13900000000", "new": "13911111111"}


def test_an_endpoint_hears_only_the_events_it_chose(receiver, subscribe, staff_user):
    subscribe(receiver, events=["card.closed"])
    card = CustomerFactory(city="上海")
    gate.update_card(card, {"city": "北京"}, by=staff_user, source=FORM)
    operations.close_customer(card, ClosureChoice("close", ClosureReason.objects.get(code="price")), by=staff_user)
    outbox.dispatch()
    delivery.send_due()
    assert [e["type"] for e in receiver.envelopes] == ["card.closed"]
    assert WebhookDelivery.objects.count() == 1


def import_cards(numbers, by):
    rows = [[f"TEL-{n:04}", f"客户{n}"] for n in numbers]
    data = csv_bytes([], header=["customer_no", "name"], raw_rows=rows)
    imports.import_customers(io.BytesIO(data), "cards.csv", user=by, commit=True)


def test_with_no_endpoint_listening_card_events_are_not_read_at_all(receiver, subscribe, admin_user):
    import_cards(range(60), admin_user)
    outbox.dispatch()
    assert Event.objects.filter(type="card.created").count() == 60
    assert not EventReceipt.objects.filter(consumer="webhooks").exists()  # an import costs webhooks nothing

    subscribe(receiver, events=["card.created"])
    outbox.dispatch()
    assert not WebhookDelivery.objects.exists()  # what happened before the endpoint was made is not its
    import_cards(range(60, 65), admin_user)
    outbox.dispatch()
    assert WebhookDelivery.objects.count() == 5


def test_a_balance_entry_is_a_card_event_so_finance_hears_of_it(staff_user):
    from decimal import Decimal

    from customers import ledger

    card = CustomerFactory()
    ledger.post(card, "top_up", amount=Decimal("120.00"), points=30, by=staff_user, note="cash")
    event = Event.objects.get()
    assert (event.type, event.customer_id, event.payload["fields"]) == ("card.updated", card.pk, ["balance", "points"])
    assert AuditEntry.objects.get(pk=event.payload["audit"]).changes["balance"] == ["0.00", "120.00"]
    assert "cash" not in str(event.payload)


def test_a_merged_duplicate_is_an_event_for_the_card_that_took_in_its_data(staff_user):
    from customers import merge

    survivor = CustomerFactory(email="")
    duplicate = CustomerFactory(email="dup@example.com")
    merge.merge_into(duplicate, survivor, by=staff_user)
    events = {e.customer_id: e for e in Event.objects.filter(type="card.updated")}
    assert "email" in events[survivor.pk].payload["fields"]
    entry = AuditEntry.objects.get(pk=events[survivor.pk].payload["audit"])
    assert entry.action == "customer.merge_in" and entry.changes["email"] == ["", "dup@example.com"]
