"""Data retention (数据保留期限): which cards a rule touches now, which it must leave alone, and why.

A rule (:class:`~privacy.models.RetentionRule`) names a status (closed, void, archived), an action
and an age in months, counted from the card's closure in force (``Closure.performed_at``). The
selection has two parts, both here so the preview and the run can never disagree:

- :func:`candidates`: the cards of the rule's status whose closure is older than the rule's age;
- :func:`eligible`: the candidates that no hold keeps (:data:`HOLDS`): a legal hold an Admin placed,
  money still on the card (a balance or points to settle), an open ticket, an open personal-data
  request. A held card is listed with why, never touched.

:func:`preview` counts both, with a sample and what the action erases and keeps; the run
(privacy/retention_runs.py) takes the same :func:`eligible` cards, in batches.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closures.models import Closure
from crm import audit
from crm.models import ERASED_MARKER
from customers.models import Customer, Interaction
from service.models import OPEN_STATUSES, Ticket

from .models import DataRequest, LegalHold, RetentionRule

SAMPLE = 10

# Why a card is held, in the order a held card is explained: each a condition on Customer rows.
HOLDS = {
    "legal_hold": _("Legal hold"),
    "money": _("Balance or points to settle"),
    "open_ticket": _("Open ticket"),
    "open_request": _("Open personal-data request"),
}

# What each action does to a card, and what it keeps (shown on the rules page and in the preview).
MEANING = {
    RetentionRule.Act.ERASE: {
        "erased": _(
            "Name, phone, e-mail, WeChat, address, birth date, occupation, company, title, preferences and "
            "tags; the text of interactions, tickets and closure notes; these values in the audit trail, "
            "export files and follow-up messages. The card's status becomes Erased."
        ),
        "kept": _(
            "The customer number, the closure with its reason, category and dates, segment, city, "
            "customer since (the tenure band), purchases' amounts and dates: every figure of Closure "
            "analytics stays as it was."
        ),
    },
    RetentionRule.Act.WIPE_NOTES: {
        "erased": _("The free text of the card's interactions (summary and outcome), there and in the audit trail."),
        "kept": _("Everything else on the card; the interactions keep their date, channel and who made them."),
    },
    RetentionRule.Act.REVIEW: {
        "erased": _("Nothing: the cards are listed here for an Admin to decide on, one by one."),
        "kept": _("Everything."),
    },
}


def meaning(rule: RetentionRule) -> dict:
    return MEANING[RetentionRule.Act(rule.action)]


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months earlier (the month's last day where that month is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def cutoff(rule: RetentionRule, today: dt.date | None = None) -> dt.datetime:
    """The moment before which a card's closure makes it a candidate (local midnight)."""
    day = months_before(today or timezone.localdate(), rule.after_months)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def candidates(rule: RetentionRule, today: dt.date | None = None) -> QuerySet[Customer]:
    """The cards of the rule's status closed (voided, archived) before its cutoff; for a rule that
    wipes interaction notes, only those with notes still to wipe."""
    closed_before = Closure.objects.filter(
        customer=OuterRef("pk"), reverted_at__isnull=True, performed_at__lt=cutoff(rule, today)
    )
    cards = Customer.objects.filter(Exists(closed_before), status=rule.status)
    if rule.action == RetentionRule.Act.WIPE_NOTES:
        cards = cards.filter(Exists(notes_to_wipe().filter(customer=OuterRef("pk"))))
    return cards


def notes_to_wipe() -> QuerySet[Interaction]:
    return Interaction.objects.exclude(summary=ERASED_MARKER, outcome="")


def hold_conditions() -> dict[str, Q | Exists]:
    """Each hold of :data:`HOLDS` as a condition on Customer rows."""
    return {
        "legal_hold": Exists(LegalHold.objects.active().filter(customer=OuterRef("pk"))),
        "money": Q(balance__gt=0) | Q(points__gt=0),
        "open_ticket": Exists(Ticket.objects.filter(customer=OuterRef("pk"), status__in=OPEN_STATUSES)),
        "open_request": Exists(DataRequest.objects.open().filter(customer=OuterRef("pk"))),
    }


def held(cards: QuerySet[Customer]) -> QuerySet[Customer]:
    """The cards some hold keeps."""
    return cards.filter(_either(hold_conditions().values()))


def _either(conditions) -> Q:
    either = Q()
    for condition in conditions:
        either |= Q(condition)
    return either


def eligible(rule: RetentionRule, today: dt.date | None = None) -> QuerySet[Customer]:
    """The candidates no hold keeps: the cards a run of this rule touches."""
    cards = candidates(rule, today)
    for condition in hold_conditions().values():
        cards = cards.exclude(condition)
    return cards


def why_held(cards: QuerySet[Customer]) -> dict[int, list[str]]:
    """For each held card of ``cards`` (a page of them, not a million), the keys of its holds."""
    annotated = cards.annotate(**{f"hold_{key}": condition_as_value(c) for key, c in hold_conditions().items()})
    reasons: dict[int, list[str]] = {}
    for row in annotated.values("pk", *[f"hold_{key}" for key in HOLDS]):
        keys = [key for key in HOLDS if row[f"hold_{key}"]]
        if keys:
            reasons[row["pk"]] = keys
    return reasons


def condition_as_value(condition: Q | Exists) -> Exists | Case:
    if isinstance(condition, Exists):
        return condition
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


@dataclass
class RulePreview:
    rule: RetentionRule
    cutoff: dt.datetime
    candidates: int
    eligible: int
    held: dict[str, int] = field(default_factory=dict)
    sample: list[Customer] = field(default_factory=list)

    @property
    def held_total(self) -> int:
        return self.candidates - self.eligible

    @property
    def meaning(self) -> dict:
        return meaning(self.rule)

    @property
    def held_labelled(self) -> list[tuple[str, int]]:
        return labelled(self.held)


def labelled(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Counts by hold, as (label, count) in the order of :data:`HOLDS`, the zero ones left out."""
    return [(label, counts[key]) for key, label in HOLDS.items() if counts.get(key)]


def preview(rule: RetentionRule, *, sample: int = SAMPLE, today: dt.date | None = None) -> RulePreview:
    """How many cards the rule touches now, how many it holds back and why, and a sample of them.

    The counts are one aggregate over the candidates (each hold a filtered count); the eligible
    ones are the candidates no hold keeps, the same cards :func:`eligible` selects for a run."""
    found = candidates(rule, today)
    conditions = hold_conditions()
    counts = found.aggregate(
        candidates=Count("pk"),
        held=Count("pk", filter=_either(conditions.values())),
        **{key: Count("pk", filter=condition) for key, condition in conditions.items()},
    )
    shown = list(eligible(rule, today).order_by("pk")[:sample]) if sample else []
    return RulePreview(
        rule=rule,
        cutoff=cutoff(rule, today),
        candidates=counts["candidates"],
        eligible=counts["candidates"] - counts["held"],
        held={key: counts[key] for key in conditions},
        sample=shown,
    )


def list_rows(rule: RetentionRule, *, chunk: int = 2000):
    """The rule's list: a header, then every candidate card with the action it gets or the holds that
    keep it. Card numbers and non-personal fields only; read ``chunk`` cards at a time."""
    yield [
        _("Customer number"),
        _("Status"),
        _("Closed on"),
        _("Segment"),
        _("City"),
        _("Customer since"),
        _("Outcome"),
    ]
    after, fields = 0, ("pk", "customer_no", "status", "segment", "city", "customer_since")
    cards = candidates(rule).order_by("pk").only(*fields)
    while page := list(cards.filter(pk__gt=after)[:chunk]):
        after = page[-1].pk
        closed = closed_on(page)
        why = why_held(Customer.objects.filter(pk__in=[card.pk for card in page]))
        for card in page:
            moment = closed.get(card.pk)
            yield [
                card.customer_no,
                card.get_status_display(),
                timezone.localtime(moment).date().isoformat() if moment else "",
                card.get_segment_display(),
                card.city,
                card.customer_since.isoformat(),
                "; ".join(str(HOLDS[key]) for key in why[card.pk]) if card.pk in why else rule.get_action_display(),
            ]


def closed_on(cards: list[Customer]) -> dict[int, dt.datetime]:
    """The moment each card's closure in force was performed (for lists of a page's size)."""
    in_force = Closure.objects.filter(customer__in=cards, reverted_at__isnull=True)
    return dict(in_force.values_list("customer_id", "performed_at"))


def change_rule(rule: RetentionRule, *, after_months: int, enabled: bool, by, request=None) -> RetentionRule:
    """Set a rule's age and switch; audited with the old and new values. The run acts as the Admin
    who last changed a switched-on rule (privacy/retention_runs.py)."""
    with transaction.atomic():
        locked = RetentionRule.objects.select_for_update().get(pk=rule.pk)
        changes = {
            name: [getattr(locked, name), value]
            for name, value in (("after_months", after_months), ("enabled", enabled))
            if getattr(locked, name) != value
        }
        if not changes:
            return locked
        locked.after_months, locked.enabled = after_months, enabled
        locked.changed_by, locked.changed_at = by, timezone.now()
        locked.save(update_fields=["after_months", "enabled", "changed_by", "changed_at"])
        audit.record(
            "privacy.retention_rule",
            actor=by,
            request=request,
            obj=locked,
            summary=str(locked),
            changes=changes,
        )
        return locked
