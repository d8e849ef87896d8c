"""Which rows of the per-closure follow-up summary (followups.models.ClosureSummary) the
dashboard's filters select: what analytics/followups.py reads instead of the closures joined to
their follow-ups and answers."""

from django.db import connections
from django.db.models import F, Value

from crm.arrays import InArray, literal
from followups.models import ActivityTally, ClosureSummary

from .filters import ClosureFilter

# The filters a closure's summary row holds: filter parameter -> summary column.
SUMMARY_FILTERS = {
    "action": "action",
    "category": "category",
    "reason": "reason_id",
    "segment": "segment",
    "owner": "owner_id",
    "by": "performed_by_id",
}
# The parameters that are not filters on closures' rows (the period and the comparison).
PERIOD_PARAMS = ("period", "start", "end", "reverted", "compare")


def _filters(fs: ClosureFilter) -> tuple[dict, bool]:
    """The filters of ``fs`` the summary holds ({summary column: value}, the period aside), and
    whether any other selects the closures (a card filter, or a narrowed queryset)."""
    held, other = {}, fs.queryset.query.has_filters()
    for name, value in fs.cleaned.items():
        if value in (None, "", [], ()) or name in PERIOD_PARAMS:
            continue
        if name in SUMMARY_FILTERS:
            held[SUMMARY_FILTERS[name]] = getattr(value, "pk", value)
        else:
            other = True
    return held, other


def summaries(fs: ClosureFilter, *, period: bool = True):
    """The summary rows (followups.models.ClosureSummary) of the closures ``fs`` selects
    (``period=False``: every filter but the period and the reverted rule, ``fs.slice_qs()``).

    The filters the summary holds apply to it directly; any other (tag, city, source, import batch,
    tenure) narrows it to the closures the same filter set selects (their ids, read once), so the rows
    are always the same."""
    rows = ClosureSummary.objects.using(fs.queryset.db).all()
    held, other = _filters(fs)
    rows = rows.filter(**held)
    if other:
        ids = _closure_ids(fs, period)
        if isinstance(ids, str):
            return rows.filter(InArray(F("closure_id"), Value(ids)))
        return rows.filter(closure_id__in=ids)
    if period:
        if not fs.include_reverted:
            rows = rows.filter(reverted_at__isnull=True)
        dates = fs.dates
        if dates.start is not None:
            rows = rows.filter(performed_at__gte=dates.start)
        rows = rows.filter(performed_at__lt=dates.end)
    return rows


def tallies(fs: ClosureFilter):
    """The activity tally's rows (followups.models.ActivityTally) of ``fs``'s filters and reverted
    rule, every month (the caller picks the months); None when a filter is not in the tally (the
    closer, a card filter): then only the summary rows can say."""
    held, other = _filters(fs)
    if other or "performed_by_id" in held:
        return None
    rows = ActivityTally.objects.using(fs.queryset.db).filter(closures__gt=0, **held)
    return rows if fs.include_reverted else rows.filter(reverted=False)


def _closure_ids(fs: ClosureFilter, period: bool):
    """The closures ``fs`` selects: on PostgreSQL their ids as one array literal, read once per filter
    set (not a subquery: there the card filters' condition names the closure table itself,
    analytics/population.py, which a subquery would alias); elsewhere a subquery."""
    closures = (fs.qs if period else fs.slice_qs()).order_by()
    if connections[closures.db].vendor != "postgresql":
        return closures.values("pk")  # (SQLite: a subquery; a list could pass its limit of parameters)
    cache = fs.__dict__.setdefault("_followup_closure_ids", {})
    if period not in cache:
        cache[period] = literal(sorted(closures.values_list("pk", flat=True)))
    return cache[period]
