"""Erasing a card (删除) takes the customer's words out of its tickets and keeps the service facts."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from closures import erasure
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm.models import ERASED_MARKER, AuditEntry
from service import operations
from service.models import Status, Step, Ticket
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the attachment is deleted once the erasure commits

WORDS = ["赵敏家的洗衣机漏水", "楼下邻居投诉，请尽快上门", "已联系赵女士约周六上门", "更换进水阀", "zhao-leak.png"]


def test_erasure_cancels_open_tickets_wipes_their_words_and_attachments_and_keeps_the_facts(desk, complaint):
    admin = UserFactory(username="admin_erase", role="Admin")
    done = operations.open_ticket(
        desk["card"],
        by=desk["agent"],
        subject=WORDS[0],
        category=complaint,
        channel="phone",
        priority="high",
        need=WORDS[1],
    )
    step = operations.add_step(
        done,
        by=desk["agent"],
        kind="reply",
        content=WORDS[2],
        result=WORDS[3],
        attachment=SimpleUploadedFile(WORDS[4], b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
    )
    operations.resolve(done, by=desk["agent"], note="修好了")
    still_open = operations.open_ticket(
        desk["card"], by=desk["agent"], subject="又漏了", category=complaint, channel="wechat", priority="normal"
    )
    stored = Step.objects.get(pk=step.pk).attachment.name
    assert default_storage.exists(stored)
    before = list(Ticket.objects.order_by("pk").values_list("number", "category", "channel", "priority", "created_at"))

    erasure.erase_customer(
        desk["card"],
        ClosureChoice("erase", ClosureReason.objects.get(code="erasure-request")),
        by=admin,
        confirmation=desk["card"].customer_no,
    )

    assert Ticket.objects.get(pk=still_open.pk).status == Status.CANCELLED
    assert Ticket.objects.get(pk=done.pk).status == Status.RESOLVED
    after = list(Ticket.objects.order_by("pk").values_list("number", "category", "channel", "priority", "created_at"))
    assert after == before
    assert set(Ticket.objects.values_list("subject", flat=True)) == {ERASED_MARKER}
    text = [f"{t.subject} {t.need}" for t in Ticket.objects.all()]
    text += [f"{s.content} {s.result} {s.attachment_name} {s.attachment}" for s in Step.objects.all()]
    text += [f"{e.summary} {e.notes} {e.changes}" for e in AuditEntry.objects.filter(customer_id=desk["card"].pk)]
    for word in WORDS + ["又漏了"]:
        assert not any(word in part for part in text), word
    assert not default_storage.exists(stored)
