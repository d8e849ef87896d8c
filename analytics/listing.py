"""One page of the closure list: no COUNT(*) of everything, no query per row.

The page's rows are fetched with one joined query (LIMIT per_page + 1 tells whether a
next page exists) and the total is counted only up to a cap, so a list over hundreds of
thousands of closures costs two cheap queries per view.
"""

from dataclasses import dataclass

from django.utils import translation

from . import followup_labels, service_links
from .filters import ClosureFilter

PER_PAGE = 25
COUNT_CAP = 10_000
MAX_PAGE = 10_000

# ?o=<key> or ?o=-<key>; a tie-breaker on id keeps pages stable.
SORTS = {
    "when": "performed_at",
    "customer": "customer__customer_no",
    "action": "action",
    "category": "category",
    "reason": "reason__label_{lang}",
    "by": "performed_by__username",
    "reverted": "reverted_at",
}
DEFAULT_SORT = "-when"


DRILL_PARAMS = (
    *("own", "svc", "svc_from", "svc_to", "svc_category", "svc_team"),
    *("svc_channel", "svc_priority", "svc_sla", "svc_reopened"),
)


def drill_params(params) -> dict[str, str]:
    """The drill-down parameters in ``params`` (what an export of a drilled-down list must repeat)."""
    return {name: str(params[name]) for name in DRILL_PARAMS if params.get(name)}


def describe_drill(params, *, using: str) -> str:
    """A drill-down in words (the list's heading; an export's audit entry), in the reader's language."""
    parts = []
    if followup_labels.own_reason_closures(params.get(followup_labels.OWN_PARAM, ""), using=using) is not None:
        parts.append(followup_labels.own_reason_text(params[followup_labels.OWN_PARAM], using=using))
    if service_links.closures_for(params, using=using) is not None:
        parts.append(service_links.describe(params, using=using))
    return "; ".join(parts)


def drill_down(params, *, using: str):
    """The closure list's drill-downs in ``params``: the customer's own reason from the exit survey
    (``own``), what service they had before (``svc`` and ``svc_*``). Returns the closures they leave,
    as a queryset for ClosureFilter(queryset=...), or None when there is none; and whether the
    service narrowing applied. The page and the API's closure list read the same parameters."""
    narrowed = followup_labels.own_reason_closures(params.get(followup_labels.OWN_PARAM, ""), using=using)
    service = service_links.closures_for(params, using=using)
    if service is not None:
        narrowed = service if narrowed is None else narrowed.filter(pk__in=service.values("pk"))
    return narrowed, service is not None


@dataclass
class ClosurePage:
    object_list: list
    number: int
    has_next: bool
    total: int
    total_capped: bool
    per_page: int = PER_PAGE

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)


def ordering(sort: str) -> list[str]:
    """The ORDER BY for a ?o= value; anything unknown falls back to newest first."""
    key = (sort or DEFAULT_SORT).lstrip("-")
    if key not in SORTS:
        sort, key = DEFAULT_SORT, DEFAULT_SORT.lstrip("-")
    lang = "zh" if (translation.get_language() or "").lower().startswith("zh") else "en"
    column = SORTS[key].format(lang=lang)
    descending = (sort or DEFAULT_SORT).startswith("-")
    return [f"-{column}", "-id"] if descending else [column, "id"]


def page_number(raw) -> int:
    try:
        return min(max(int(raw), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def closure_page(fs: ClosureFilter, *, sort: str = "", page=1) -> ClosurePage:
    number = page_number(page)
    rows = (
        fs.qs.select_related("customer", "reason", "performed_by", "reverted_by")
        .only(
            "action",
            "category",
            "notes",
            "performed_at",
            "reverted_at",
            "customer_erased",
            "customer",
            "reason",
            "performed_by",
            "performed_by_name",
            "reverted_by",
            "customer__customer_no",
            "customer__name",
            "customer__status",
            "reason__label_en",
            "reason__label_zh",
            "reason__is_active",
            "performed_by__username",
            "performed_by__first_name",
            "performed_by__last_name",
            "reverted_by__username",
            "reverted_by__first_name",
            "reverted_by__last_name",
        )
        .order_by(*ordering(sort))
    )
    offset = (number - 1) * PER_PAGE
    found = list(rows[offset : offset + PER_PAGE + 1])
    total = fs.qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    return ClosurePage(
        object_list=found[:PER_PAGE],
        number=number,
        has_next=len(found) > PER_PAGE,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
    )
