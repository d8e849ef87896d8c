"""The scoring runs: what Celery beat (insights/tasks.py) and ``manage.py score_customers`` call.

    score_customers(today=None, using=None) -> int   # full: every active card, models fitted anew
    score_changed(today=None, using=None) -> int     # incremental: the cards changed since the last run

A **full run** (nightly) fits the purchase model and the RFM cut points on every active card and
keeps them on its ``ScoringRun``. An **incremental run** (every few minutes) rescores, with the last
full run's models, the cards whose history changed since the last run of either kind began: a
purchase, an interaction or a ticket recorded or changed, or the card itself changed (edited,
closed, reinstated, erased). So no score is older than one run: the next incremental run for a
change, the next night for time passing (recency grows for everyone every day). Without a full run
yet, the incremental run does a full one.

Each run writes, in one transaction per batch of cards:
- the scores (upserted on the card's key); closed, void and archived cards keep the score they had
  when they left (the analytics of closures read it), erased cards lose theirs;
- the warnings (``RiskWarning``): raised when a card first reaches medium risk, marked when it reaches
  high, cleared when it is back to low (raised and reaching high are news to the card's owner:
  ``alerted_at``, read by their inbox and their daily digest, insights/inbox.py and digest.py);
and at the end, the day's ``RiskDay`` rows (a recount of the active cards' scores by band, segment
and owner), the outcomes of the retention actions whose outcome is known (insights/actions.py), and
the inbox counts of the owners whose cards became news (one query for them, one cache write).
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connections, router, transaction
from django.db.models import Count, JSONField, Sum
from django.utils import timezone

from crm import inbox
from crm.copying import copy_rows
from customers.models import Customer, Interaction, Purchase, local_today
from service.models import Ticket

from . import actions, risk
from .inbox import NEW_AT_RISK
from .models import RiskDay, RiskWarning, Score, ScoringRun
from .scoring import Fitted, Run, assess

BATCH = 10_000


def score_customers(today: date | None = None, *, using: str | None = None) -> int:
    """Score every active card from its history up to ``today``; returns how many were scored."""
    using = using or router.db_for_write(Score)
    today = today or local_today()
    record = ScoringRun(kind=ScoringRun.Kind.FULL, as_of=today, started_at=timezone.now())
    run, fitted = assess(today, using=using)
    Score.objects.using(using).filter(customer__status=Customer.Status.ERASED).delete()
    _write(run, using)
    scored = _finish(record, fitted, len(run), today, using)
    _tidy(using)
    return scored


def _tidy(using: str) -> None:
    """VACUUM ANALYZE the scores after a full run on PostgreSQL: the run rewrote every row, and the
    customer search's index-only lookups (score_customer_covering) read the table again until the
    visibility map is set. Not inside a transaction (VACUUM cannot be): the tests' runs skip it."""
    connection = connections[using]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(Score._meta.db_table)}")


def score_changed(today: date | None = None, *, using: str | None = None) -> int:
    """Rescore the cards changed since the last run began, with the last full run's models."""
    using = using or router.db_for_write(Score)
    today = today or local_today()
    runs = ScoringRun.objects.using(using).exclude(finished_at=None)
    full = runs.filter(kind=ScoringRun.Kind.FULL).first()
    last = runs.first()
    if full is None or last is None:
        return score_customers(today, using=using)
    record = ScoringRun(kind=ScoringRun.Kind.CHANGED, as_of=today, started_at=timezone.now())
    ids = changed_cards(last.started_at, using=using)
    fitted = Fitted.from_json(full.model)
    run, _same = assess(today, using=using, ids=ids, fitted=fitted)
    gone = Customer.objects.using(using).filter(pk__in=ids, status=Customer.Status.ERASED)
    Score.objects.using(using).filter(customer__in=gone).delete()
    _write(run, using)
    return _finish(record, fitted, len(run), today, using)


def changed_cards(since: datetime, *, using: str) -> list[int]:
    """The cards whose history or fields changed at or after ``since`` (each through its own index)."""
    found: set[int] = set()
    cards = Customer.objects.using(using)
    for status in Customer.Status.values:  # one range of the (status, updated_at) index each
        found.update(cards.filter(status=status, updated_at__gte=since).values_list("pk", flat=True))
    for model, field in ((Purchase, "created_at"), (Interaction, "created_at"), (Ticket, "updated_at")):
        rows = model.objects.using(using).filter(**{f"{field}__gte": since}).order_by()
        found.update(rows.values_list("customer_id", flat=True).distinct())
    return sorted(found)


def _finish(record: ScoringRun, fitted: Fitted, cards: int, today: date, using: str) -> int:
    with transaction.atomic(using=using):
        recount_day(today, using=using)
        actions.settle(today, using=using)
        alerted = RiskWarning.objects.using(using).filter(cleared_on=None, alerted_at__gte=record.started_at)
        owners = alerted.order_by().values_list("customer__owner_id", flat=True).distinct()
        inbox.changed(NEW_AT_RISK, users=list(owners))
        record.model, record.cards, record.finished_at = fitted.as_json(), cards, timezone.now()
        record.save(using=using)
    return cards


def _write(run: Run, using: str) -> None:
    upsert = _copy_upsert if connections[using].vendor == "postgresql" else _bulk_upsert
    for begin in range(0, len(run), BATCH):
        scores = [run.score(i) for i in range(begin, min(begin + BATCH, len(run)))]
        with transaction.atomic(using=using):
            upsert(scores, using)
            warn(scores, run.today, using=using)


def _bulk_upsert(scores: list[Score], using: str) -> None:
    fields = [field.name for field in Score._meta.concrete_fields if field.name != "customer"]
    Score.objects.using(using).bulk_create(
        scores, update_conflicts=True, unique_fields=["customer"], update_fields=fields
    )


def _copy_upsert(scores: list[Score], using: str) -> None:
    """The scores COPYed into a temporary table, then upserted from it in one statement. A million
    scores through bulk_create(update_conflicts=True) took about 150 s of the nightly run, most of it
    Django preparing each of the twenty values of each row and psycopg quoting arrays element by
    element; COPY sends the rows as they are."""
    quote = connections[using].ops.quote_name
    fields = Score._meta.concrete_fields
    columns = [quote(field.column) for field in fields]
    listed = ", ".join(columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != quote("customer_id"))
    table = quote(Score._meta.db_table)
    with connections[using].cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS scores_in (LIKE {table}) ON COMMIT DELETE ROWS")
        copy_rows(
            cursor,
            "scores_in",
            [field.column for field in fields],
            ([getattr(score, field.attname) for field in fields] for score in scores),
            json_columns=[field.column for field in fields if isinstance(field, JSONField)],
        )
        cursor.execute(
            f"INSERT INTO {table} ({listed}) SELECT {listed} FROM scores_in "
            f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        )
        cursor.execute("TRUNCATE scores_in")


def warn(scores: list[Score], today: date, *, using: str) -> None:
    """Raise, escalate and clear the warnings of these freshly scored cards."""
    open_ = RiskWarning.objects.using(using).filter(customer_id__in=[s.customer_id for s in scores], cleared_on=None)
    by_card = {w.customer_id: w for w in open_}
    medium, high_from = risk.lowest("medium"), risk.lowest("high")
    raised, changed = [], []
    now = timezone.now()
    for score in scores:
        warning = by_card.get(score.customer_id)
        if score.risk < medium:
            if warning is not None:
                warning.cleared_on = today
                changed.append(warning)
            continue
        high = score.risk >= high_from
        if warning is None:
            raised.append(
                RiskWarning(
                    customer_id=score.customer_id,
                    raised_on=today,
                    high_on=today if high else None,
                    risk=score.risk,
                    peak_risk=score.risk,
                    reasons=score.reasons,
                    value_at_risk=score.value_at_risk,
                    alerted_at=now,
                )
            )
        elif score.risk > warning.peak_risk or (high and warning.high_on is None):
            if high and warning.high_on is None:
                warning.high_on, warning.alerted_at = today, now
            warning.peak_risk = max(warning.peak_risk, score.risk)
            changed.append(warning)
    RiskWarning.objects.using(using).bulk_create(raised)
    RiskWarning.objects.using(using).bulk_update(changed, ["cleared_on", "peak_risk", "high_on", "alerted_at"])


def recount_day(today: date, *, using: str) -> int:
    """Rewrite ``today``'s RiskDay rows from the active cards' scores; returns how many rows."""
    rows = (
        Score.objects.using(using)
        .filter(customer__status=Customer.Status.ACTIVE)
        .order_by()
        .values("band", "segment", "customer__owner_id")
        .annotate(n=Count("pk"), var=Sum("value_at_risk"), ev=Sum("expected_value"))
    )
    days = [
        RiskDay(
            day=today,
            band=row["band"],
            segment=row["segment"],
            owner_id=row["customer__owner_id"],
            customers=row["n"],
            value_at_risk=row["var"] or 0,
            expected_value=row["ev"] or 0,
        )
        for row in rows
    ]
    RiskDay.objects.using(using).filter(day=today).delete()
    RiskDay.objects.using(using).bulk_create(days)
    return len(days)
