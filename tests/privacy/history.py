"""A customer with a long history, built through the operations where there is one: purchases,
interactions, balance entries, consent, a closure reinstated and closed again, a follow-up with the
customer's answer, a ticket with steps, a churn score, a personal-data request and audit entries."""

import datetime as dt

from django.utils import timezone

from closures import operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import audit
from customers import consent, gate
from customers.models import LedgerEntry
from followups.models import Answer
from insights.models import RetentionAction, Score
from privacy import requests
from service.models import Step
from tests.factories import CustomerFactory, FollowupFactory, InteractionFactory, PurchaseFactory, TicketFactory


def long_history(*, staff, manager, admin, name: str, phone: str):
    card = CustomerFactory(owner=staff, name=name, phone=phone)
    for days in (300, 120, 20):
        PurchaseFactory(customer=card, purchased_on=timezone.localdate() - dt.timedelta(days=days))
    InteractionFactory(customer=card, summary=f"{name} 来电咨询")
    InteractionFactory(customer=card, summary="回访")
    LedgerEntry.objects.create(customer=card, kind="top_up", balance_after=0, points_after=0, note="test")
    consent.change(card, "email", by=staff, source=gate.FORM, how=f"{name} 在门店签字", marketing=True)
    price = ClosureReason.objects.get(code="price")
    operations.close_customer(card, ClosureChoice("close", price, notes="太贵"), by=manager)
    operations.reinstate(card, by=manager, note="客户回来了")
    closure = operations.close_customer(card, ClosureChoice("close", price, notes="还是太贵"), by=manager)
    card.refresh_from_db()
    followup = FollowupFactory(customer=card, closure=closure, kind="survey", channel="email")
    FollowupFactory(customer=card, closure=closure)
    Answer.objects.create(followup=followup, closure=closure, customer=card, source="survey", csat=2, nps=5)
    ticket = TicketFactory(customer=card, subject=f"{name} 的投诉")
    Step.objects.create(ticket=ticket, content="上门维修", by=staff)
    Step.objects.create(ticket=ticket, kind="reply", content="已告知客户", to_customer=True, by=staff)
    TicketFactory(customer=card)
    Score.objects.create(customer=card, computed_at=timezone.now(), as_of=timezone.localdate(), risk=71)
    RetentionAction.objects.create(customer=card, kind="attempt", note="打折", created_by=staff)
    requests.register(card, "access", timezone.localdate(), f"{name} 来信", by=admin)
    audit.record("customer.update", actor=staff, obj=card, customer_id=card.pk, changes={"city": ["上海", "北京"]})
    return card
