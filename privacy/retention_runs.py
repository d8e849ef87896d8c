"""Retention runs: the switched-on rules applied to their eligible cards, as a job (crm.jobs).

:func:`start` queues a run (an Admin's "Run now", or the nightly schedule through
:func:`start_scheduled`); :func:`run_job` is the runner. For each switched-on rule that changes
data (anonymise, wipe interaction notes), in order, it takes the rule's eligible cards
(privacy.retention.eligible, the selection the preview counted) in batches of ``BATCH`` by
primary key:

- anonymise: each card through the one erasure there is (closures.erasure.erase_customer, with
  the reason "Retention period ended"), so its rules, lock and audit are the erasure's own; the
  batch's copies elsewhere (audit entries not tied to a card, jobs, files) are forgotten in one pass;
- wipe notes: the free text of the cards' interactions, there and in their audit entries.

A batch is one transaction: a worker killed mid-batch leaves no card half-erased, and the next
run (a retry, or the next night) finds the batch's cards still eligible and starts over with them.
A card an erasure refuses (its state changed since the selection) is skipped and reported, never
retried in the same run. Progress is written between batches; the job's result is the run report.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closures.erasure import erase_customer, forget_elsewhere
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import audit, jobs
from crm.models import ERASED_MARKER, AuditEntry, Job
from customers.models import Customer, Interaction

from . import retention
from .models import RetentionRule

JOB_KIND = Job.Kind.PRIVACY_RETENTION
PERMISSION = "privacy.manage_retention"
REASON = "retention-ended"
BATCH = 200
SKIPPED_SHOWN = 100  # the report lists this many skipped cards by number, and counts the rest
CHANGING = (RetentionRule.Act.ERASE, RetentionRule.Act.WIPE_NOTES)
audit.ACTION_LABELS.update(
    {
        "privacy.retention_rule": gettext_lazy("Retention rule changed"),
        "privacy.retention_run": gettext_lazy("Retention run finished"),
        "privacy.retention_wipe": gettext_lazy("Interaction notes wiped by retention"),
    }
)


def live_run() -> Job | None:
    """The retention run queued or running now, if any: one at a time. A run whose worker died (no
    heartbeat for ``crm.jobs.STALE_AFTER``) is marked failed first, so the next run can resume."""
    live = Job.objects.filter(kind=JOB_KIND, state__in=[Job.State.QUEUED, Job.State.RUNNING])
    jobs.mark_dead_jobs_failed(live.filter(state=Job.State.RUNNING))
    return live.first()


def start(*, by) -> Job:
    """Queue a run of the switched-on rules, as ``by`` (who must be allowed to erase)."""
    _check_runner(by)
    if not RetentionRule.objects.filter(enabled=True, action__in=CHANGING).exists():
        raise ValidationError(_("No rule that changes data is switched on: there is nothing to run."))
    if live_run() is not None:
        raise ValidationError(_("A retention run is already queued or running; wait for it to finish."))
    return jobs.start(JOB_KIND, user=by, params={"language": translation.get_language() or "en"})


def start_scheduled() -> Job | None:
    """The nightly run (Celery beat, or ``manage.py run_retention`` from cron), as the Admin who last
    changed a switched-on rule; None when no such rule is on or a run is live already."""
    rule = (
        RetentionRule.objects.filter(enabled=True, action__in=CHANGING, changed_by__isnull=False)
        .select_related("changed_by")
        .order_by("-changed_at")
        .first()
    )
    if rule is None or live_run() is not None:
        return None
    return start(by=rule.changed_by)


def _check_runner(by) -> None:
    if not (by.is_active and by.has_perms([PERMISSION, "closures.erase_customer"])):
        raise ValidationError(
            _("%(name)s may no longer erase cards; an Admin must switch the rules on again.")
            % {"name": by.get_username()}
        )


def run_job(job: Job, progress) -> dict:
    """The runner: every switched-on rule that changes data, batch by batch; returns the report."""
    by = job.created_by
    _check_runner(by)
    reason = ClosureReason.objects.filter(code=REASON).first()
    if reason is None or not reason.is_active:
        raise ValidationError(_("The closure reason “Retention period ended” is missing or retired; restore it first."))
    rules = list(RetentionRule.objects.filter(enabled=True, action__in=CHANGING).order_by("id"))
    today = timezone.localdate()
    previews = [retention.preview(rule, sample=0, today=today) for rule in rules]
    total = sum(p.eligible for p in previews)
    done = 0
    progress(done, total)
    report = []
    with translation.override((job.params or {}).get("language") or "en"):
        for item in previews:
            outcome = {
                "rule": item.rule.pk,
                "eligible": item.eligible,
                "held": item.held,
                "changed": 0,
                "skipped": [],
                "skipped_count": 0,
            }
            for batch in _batches(item.rule, today):
                changed, skipped = _apply(item.rule, batch, reason, by, job)
                outcome["changed"] += changed
                outcome["skipped_count"] += len(skipped)
                outcome["skipped"] += skipped[: max(0, SKIPPED_SHOWN - len(outcome["skipped"]))]
                done += len(batch)
                progress(min(done, total), max(total, done))
            report.append(outcome)
    changed = sum(o["changed"] for o in report)
    audit.record(
        "privacy.retention_run",
        actor=by,
        object_type="job",
        object_id=job.pk,
        data={"rules": [{k: o[k] for k in ("rule", "changed", "skipped_count")} for o in report]},
    )
    return {"rows": done, "changed": changed, "rules": report}


def _batches(rule: RetentionRule, today):
    """The rule's eligible cards, ``BATCH`` at a time by primary key, each batch selected afresh
    (a card that became held meanwhile, or erased by someone else, is no longer in it)."""
    after = 0
    while True:
        batch = list(
            retention.eligible(rule, today).filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )
        if not batch:
            return
        yield batch
        after = batch[-1]


def _apply(rule: RetentionRule, batch: list[int], reason, by, job: Job) -> tuple[int, list[list[str]]]:
    if rule.action == RetentionRule.Act.WIPE_NOTES:
        return _wipe_notes(rule, batch, by, job), []
    return _erase(rule, batch, reason, by, job)


def _erase(rule: RetentionRule, batch: list[int], reason, by, job: Job) -> tuple[int, list[list[str]]]:
    """Each card of the batch through erase_customer, in one transaction with the batch's forgetting."""
    notes = _("Retention rule: %(rule)s after %(months)s months (run %(run)s).") % {
        "rule": f"{rule.get_status_display()}, {rule.get_action_display()}",
        "months": rule.after_months,
        "run": str(job.pk)[:8],
    }
    erased, skipped = [], []
    with transaction.atomic():
        for card in Customer.objects.filter(pk__in=batch).order_by("pk"):
            to_forget = []  # kept for the batch only once the card's erasure has gone through
            try:
                with transaction.atomic():
                    choice = ClosureChoice("erase", reason, notes=notes)
                    erase_customer(
                        card,
                        choice,
                        by=by,
                        confirmation=card.customer_no,
                        forget=lambda locked, values, into=to_forget: into.append((locked, values)),
                    )
            except ValidationError as refusal:
                skipped.append([card.customer_no, " ".join(refusal.messages)])
            else:
                erased += to_forget
        forget_elsewhere(erased)
    return len(erased), skipped


def _wipe_notes(rule: RetentionRule, batch: list[int], by, job: Job) -> int:
    """The free text of the batch's interactions becomes the marker, there and in their audit entries."""
    with transaction.atomic():
        rows = retention.notes_to_wipe().filter(customer_id__in=batch).select_for_update()
        texts: dict[int, list[str]] = {}
        for customer_id, summary, outcome in rows.values_list("customer_id", "summary", "outcome"):
            texts.setdefault(customer_id, []).extend(v for v in (summary, outcome) if v and v != ERASED_MARKER)
        Interaction.objects.filter(customer_id__in=list(texts)).update(summary=ERASED_MARKER, outcome="")
        for customer_id, values in texts.items():
            AuditEntry.objects.redact_customer(customer_id, values)
        entries = [
            {
                "action": "privacy.retention_wipe",
                "object_type": "customer",
                "object_id": customer_id,
                "customer_id": customer_id,
                "data": {"rule": rule.pk, "run": str(job.pk), "months": rule.after_months},
            }
            for customer_id in texts
        ]
        audit.record_many(entries, actor=by)
    return len(texts)
