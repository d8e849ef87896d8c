"""The retention figures of ``manage.py bench``: the rules page (every rule's preview counted over
the million cards) is timed like any page; this module measures the run's cost per card.

One batch (``retention_runs.BATCH`` cards) of the "closed cards: anonymise" rule, at an age that
finds cards on the data set (``MONTHS``, on an unsaved copy of the rule), goes through the run's
own batch step (each card through ``erase_customer``, the batch's copies elsewhere forgotten once)
inside a transaction that is rolled back: the data set keeps its cards, and the figure is the
time a run spends per card. A run's length is about this times the preview's count.
"""

import time

from django.db import transaction

from .lib import Unavailable

MONTHS = 6
TARGET_MS_PER_CARD = None  # no target in the issue: reported so a run's length can be planned


class _RolledBack(Exception):
    pass


def measure_erase_batch(user) -> dict:
    from closures.models import ClosureReason
    from crm.models import Job
    from privacy import retention, retention_runs
    from privacy.models import RetentionRule

    rule = RetentionRule.objects.get(status="closed", action="erase")
    rule.after_months = MONTHS  # not saved
    reason = ClosureReason.objects.filter(code=retention_runs.REASON).first()
    if reason is None:
        raise Unavailable("the reason 'retention-ended' is missing: run migrate")
    batch = list(retention.eligible(rule).order_by("pk").values_list("pk", flat=True)[: retention_runs.BATCH])
    if not batch:
        raise Unavailable(f"no closed card older than {MONTHS} months without a hold")
    job = Job(kind=Job.Kind.PRIVACY_RETENTION, created_by=user)  # never saved: the notes name its id
    outcome = {}
    began = time.perf_counter()
    try:
        with transaction.atomic():
            changed, skipped = retention_runs._erase(rule, batch, reason, user, job)
            outcome = {"changed": changed, "skipped": len(skipped)}
            elapsed = time.perf_counter() - began
            raise _RolledBack
    except _RolledBack:
        pass
    per_card = elapsed * 1000 / max(1, outcome["changed"])
    return {"ms": round(per_card, 1), "cards": outcome["changed"], "skipped": outcome["skipped"]}
