"""After a retention run, no table of the database holds the erased customer's name, phone or e-mail.

The customer has a long history (tests/privacy/history.py) plus the copies that travel beyond the
card: a webhook delivery carrying the card, an audit entry of an export that searched for the name,
a survey answer quoting it, a released legal hold naming it. The check reads every text and JSON
column of every model, not a list of places known to be cleaned, so a new copy is caught too.
"""

import json

import pytest
from django.apps import apps
from django.db import connection, models

from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks import new_secret
from closures.models import Closure
from crm import audit, outbox
from customers.models import NameGram
from followups.models import Answer
from privacy import holds, retention_runs
from privacy.models import DataRequest
from service.models import Ticket

from .history import long_history
from .retention_world import months_ago, switch_on

pytestmark = pytest.mark.django_db

TEXT = (models.CharField, models.TextField, models.JSONField)


def leaks(values: list[str]) -> dict[str, list[str]]:
    """Each model field (``app.Model.field``) holding any of ``values``, with the values found."""
    found: dict[str, list[str]] = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, TEXT)]
        for name in names:
            for stored in model._default_manager.values_list(name, flat=True).iterator():
                text = stored if isinstance(stored, str) else json.dumps(stored, ensure_ascii=False)
                hits = [v for v in values if text and v in text]
                if hits:
                    found.setdefault(f"{model._meta.label}.{name}", []).extend(hits)
    return {key: sorted(set(hits)) for key, hits in found.items()}


def _copies_beyond_the_card(card, admin_user):
    endpoint = WebhookEndpoint.objects.create(
        name="shop",
        url="https://shop.example/hook",
        secret=new_secret(),
        events=["card.updated"],
        created_by=admin_user,
    )
    event = outbox.emit("card.updated", obj=card, customer_id=card.pk, payload={"fields": ["name"]})
    card_data = {"number": card.customer_no, "name": card.name, "phone": card.phone}
    body = json.dumps({"type": "card.updated", "data": {"card": card_data}}, ensure_ascii=False)
    WebhookDelivery.objects.create(endpoint=endpoint, event=event, customer_id=card.pk, type="card.updated", body=body)
    audit.record("customers.export", actor=admin_user, object_type="export", notes=f"search: {card.name}")
    Answer.objects.filter(customer=card).update(come_back=f"{card.name} 说价格降了就回来")
    hold = holds.place(card, f"{card.name} 的退款纠纷", by=admin_user)
    holds.release(hold, "纠纷已解决", by=admin_user)


def test_a_run_leaves_no_copy_of_the_customer_anywhere_and_the_other_customer_whole(
    staff_user, manager_user, admin_user, django_capture_on_commit_callbacks
):
    people = {"staff": staff_user, "manager": manager_user, "admin": admin_user}
    with django_capture_on_commit_callbacks(execute=True):  # their events handed out as they commit
        card = long_history(**people, name="欧阳娜娜", phone="+8613911112222")
        other = long_history(**people, name="司马光明", phone="+8613933334444")
        _copies_beyond_the_card(card, admin_user)
    # What would hold it is settled: its tickets closed, its request answered; closed 40 months ago.
    Ticket.objects.filter(customer=card).update(status="closed")
    DataRequest.objects.filter(customer=card).update(state=DataRequest.State.DONE)
    Closure.objects.filter(customer=card, reverted_at__isnull=True).update(performed_at=months_ago(40))
    switch_on("closed", "erase", 36, by=admin_user)
    values = [card.name, card.phone, card.phone[3:], card.email]
    assert leaks(values)  # the scan sees them before the run
    name_grams = {"欧", "阳", "娜", "欧阳", "阳娜", "娜娜"}
    if connection.vendor == "postgresql":  # SQLite keeps no grams
        assert name_grams <= set(NameGram.objects.filter(customer_id=card.pk).values_list("gram", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        job = retention_runs.start(by=admin_user)
    # The test's transaction never commits, and the capture above left its executed callbacks listed,
    # where the outbox's one-dispatch-per-transaction guard finds them: dispatch as the commit would.
    outbox.dispatch()
    job.refresh_from_db()

    assert job.result["changed"] == 1, job.result
    assert leaks(values) == {}
    # The name's grams (the search index of one- and two-character names, PostgreSQL only) are gone too.
    grams = set(NameGram.objects.filter(customer_id=card.pk).values_list("gram", flat=True))
    assert not grams & name_grams
    assert "customers.Customer.name" in leaks([other.name])  # the other customer is untouched
