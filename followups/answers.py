"""What a customer says about leaving, recorded once per follow-up: from the exit survey page
(no user: the customer) or from a callback (the staff member who called).

    record_answer(followup, *, source, reason=None, other_reason="", csat=None, nps=None,
                  come_back="", contact_again=None, by=None, request=None) -> Answer

Atomic and row-locked: the follow-up is locked and must not be answered yet (a survey link is
single-use; a second submit gets "already answered"). The answer attaches to the closure, the
follow-up is marked answered (and done), "may we contact you again" updates the customer's
marketing consent on the follow-up's channel through customers.consent.change, and one audit
entry on the card (``followup.answer``) puts it on the card's timeline.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit
from customers import consent
from customers.gate import Source

from . import summary
from .models import Answer, Followup


def record_answer(
    followup,
    *,
    source: str,
    reason=None,
    other_reason: str = "",
    csat: int | None = None,
    nps: int | None = None,
    come_back: str = "",
    contact_again: bool | None = None,
    by=None,
    request=None,
) -> Answer:
    with transaction.atomic():
        locked = (
            Followup.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=getattr(followup, "pk", followup))
        )
        if locked.answered_at is not None:
            raise ValidationError(_("This survey has already been answered. Thank you."), code="answered")
        if locked.customer.is_erased:
            raise ValidationError(_("This card's personal data was deleted."), code="erased")
        now = timezone.now()
        answer = Answer.objects.create(
            followup=locked,
            closure_id=locked.closure_id,
            customer_id=locked.customer_id,
            source=source,
            reason=reason,
            other_reason=(other_reason or "").strip()[:500],
            csat=csat,
            nps=nps,
            come_back=(come_back or "").strip()[:2000],
            contact_again=contact_again,
            answered_at=now,
            recorded_by=by,
        )
        locked.answered_at = now
        update = ["answered_at"]
        if locked.state in (Followup.State.PENDING, Followup.State.SENT):
            locked.state = Followup.State.DONE
            locked.done_at = now
            locked.done_by = by
            update += ["state", "done_at", "done_by"]
        locked.save(update_fields=update)
        if contact_again is not None:
            channel = locked.channel if locked.channel != "phone" or source == "callback" else "email"
            consent.change(
                locked.customer,
                channel,
                by=None,
                source=Source(source),
                request=request,
                how=_("Answer to the exit survey") if source == Answer.Source.SURVEY else _("On a callback"),
                marketing=contact_again,
            )
        audit.record(
            "followup.answer",
            actor=by,
            request=request,
            obj=answer,
            customer_id=locked.customer_id,
            data={
                "source": source,
                "closure": locked.closure_id,
                "reason": answer.reason_id,
                "csat": csat,
                "nps": nps,
                "contact_again": contact_again,
            },
            notes="\n".join(text for text in (answer.other_reason, answer.come_back) if text),
        )
        summary.refresh([locked.closure_id])
        return answer
