"""A card's whole life — close, reinstate, archive, erase — shows on its timeline and in the audit
log with who, when and why, and afterwards no personal data is left anywhere."""

import csv
import io

import pytest
from django.urls import reverse

from closures import erasure, operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def _reason(action: str) -> ClosureReason:
    return ClosureReason.objects.active().for_action(action).exclude(category__in=["other", "duplicate"]).first()


@pytest.fixture
def lived(staff_user, manager_user, admin_user):
    card = CustomerFactory(
        name="欧阳娜娜", phone="+8613512348888", email="nana@example.cn", address="上海市静安区南京西路 1 号"
    )
    InteractionFactory(customer=card, summary="欧阳娜娜来电，留下新地址")
    operations.close_customer(card, ClosureChoice("close", _reason("close"), notes="客户搬去外地"), by=staff_user)
    operations.reinstate(card, by=manager_user, note="客户回来了")
    operations.close_customer(card, ClosureChoice("archive", _reason("archive"), notes="长期未活跃"), by=staff_user)
    erasure.erase_customer(
        card,
        ClosureChoice("erase", _reason("erase"), notes="客户要求删除"),
        by=admin_user,
        confirmation=card.customer_no,
    )
    card.refresh_from_db()
    return card


STEPS = ["closure.close", "closure.reinstate", "closure.archive", "closure.erase"]


def test_every_step_is_in_the_audit_trail_with_who_and_why(lived, staff_user, manager_user, admin_user):
    entries = list(AuditEntry.objects.for_customer(lived.pk).filter(action__in=STEPS).order_by("at", "id"))
    assert [e.action for e in entries] == STEPS
    assert [e.actor for e in entries] == [staff_user, manager_user, staff_user, admin_user]
    assert all(e.at for e in entries)
    assert entries[0].data["reason"] and entries[2].data["reason"] and entries[3].data["reason"]


def test_the_timeline_and_the_audit_page_show_the_sequence(lived, manager_client):
    card_page = manager_client.get(reverse("customers:card", args=[lived.pk])).content.decode()
    for label in ("Card closed", "Card reinstated", "Card archived", "Personal data deleted"):
        assert label in card_page
    audit_page = manager_client.get(reverse("closures:audit"), {"customer": lived.customer_no})
    shown = [entry.action for entry in audit_page.context["page_obj"].object_list]
    assert set(STEPS) <= set(shown)


def test_after_erasure_no_personal_data_is_left_anywhere(lived, admin_client):
    personal = ["欧阳娜娜", "13512348888", "nana@example.cn", "南京西路", "留下新地址"]
    assert lived.status == Customer.Status.ERASED
    pages = [
        admin_client.get(reverse("customers:card", args=[lived.pk])).content.decode(),
        admin_client.get(reverse("customers:search"), {"status": "erased"}).content.decode(),
        admin_client.get(reverse("closures:audit"), {"customer": lived.customer_no}).content.decode(),
    ]
    export = admin_client.get(reverse("customers:export"), {"format": "csv", "status": "erased"})
    pages.append(
        b"".join(export.streaming_content).decode("utf-8-sig")
        if export.streaming
        else export.content.decode("utf-8-sig")
    )
    # Positive controls: the erased card is listed, exported and audited, just without personal data.
    assert lived.customer_no in pages[1] and lived.customer_no in pages[2] and lived.customer_no in pages[3]
    audit_details = [str(e.changes) + e.notes + e.summary for e in AuditEntry.objects.for_customer(lived.pk)]
    for value in personal:
        for text in pages + audit_details:
            assert value not in text
    # The search by the old name or phone finds nothing.
    for query in ("欧阳娜娜", "8888"):
        response = admin_client.get(reverse("customers:search"), {"q": query, "status": ["erased", "active"]})
        assert lived.customer_no not in response.content.decode()
    assert list(csv.reader(io.StringIO(pages[3])))  # the export itself is a readable CSV
