"""Bulk closing: many cards closed, voided or archived with one reason (Managers and Admins).

    bulk_close(customer_ids, choice, *, by, request=None) -> BulkResult

It follows the pattern of closures/operations.py: one guarded transaction (the cards locked in
primary-key order, a used confirmation refused, the permission checked) and every card checked
with the same rule function as the single-card flow (closures.rules.check_closing), so a card is
skipped for exactly the reasons one card would be refused, in the same words. What differs:

- the money of every card with a balance or points is settled the same way (closures/settlement.py):
  refunded in full by one method (points forfeited) or forfeited with one reason, or kept when
  archiving; never transferred (each card would need its own receiving card). Without a
  settlement those cards are skipped, saying why; the bulk form refuses to continue without one;
- a card that cannot be closed is skipped with the reason why instead of refusing the whole
  selection; so is a card whose closure by this user would need a Manager's approval (a bulk
  closure sends no requests: "close it from its card to send a request");
- what the rules need is read for all cards at once (pending requests, open closures, the
  approval settings, the reason), and the closures, statuses and audit entries are written in
  batches, so the query count does not grow with the selection and the row locks are held briefly;
- the cards' open tickets stay open (closures/tickets.py): the single-card impact page is where a
  closer chooses to resolve or cancel them; the confirmation page says so;
- the confirmation's nonce is recorded once, in a BulkClosure with the counts: a replay of the
  same confirmation is refused as a whole ("already confirmed by NAME at TIME"), and the versions
  the preview showed (``choice.seen``) make a card changed since then a skipped card.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Customer

from . import rules, settlement, writes
from .models import ACTION_STATUS, BulkClosure, Category, Closure, ClosureReason, ClosureSettings, Settlement
from .rules import CLOSING_ACTIONS, ClosureChoice

BULK_LIMIT = 5000
NEEDS_APPROVAL = gettext_lazy("needs a Manager's approval: close it from its card to send a request")

# The kinds of skip the result page groups cards by (the ValidationError codes of closures.rules,
# plus "approval"), in the order it shows them, with the group's heading.
SKIP_KINDS = {
    "balance": gettext_lazy("A balance or points that could not be settled as chosen"),
    "pending": gettext_lazy("Waiting for a Manager's approval of a request"),
    "approval": gettext_lazy("Needing a Manager's approval"),
    "stale": gettext_lazy("Changed after the preview"),
    "already": gettext_lazy("Already closed, voided or archived"),
    "status": gettext_lazy("Not active"),
    "erased": gettext_lazy("Personal data deleted"),
    "other": gettext_lazy("Other reasons"),
}
# Skipped cards that no change can make closable again: left out of "retry the skipped ones".
NEVER_CLOSABLE = frozenset({"erased"})


@dataclass
class SkipGroup:
    """Skipped cards that share a kind of reason, each with its own words (a balance, a name, a time)."""

    kind: str
    title: str
    cards: list[tuple[Customer, str]]


@dataclass
class BulkResult:
    """What a bulk closure did: the closures written, each card left alone with why, and its record.

    ``kinds`` holds the kind of each skipped card's reason (a key of SKIP_KINDS) by card id, so the
    result page can group them and offer the ones worth another try.
    """

    done: list[Closure] = field(default_factory=list)
    skipped: list[tuple[Customer, str]] = field(default_factory=list)
    run: BulkClosure | None = None
    kinds: dict[int, str] = field(default_factory=dict)

    @property
    def needs_attention(self) -> bool:
        """Nothing was done, or some cards were skipped: a warning, not a success."""
        return bool(self.skipped) or not self.done

    def skipped_by_kind(self) -> list[SkipGroup]:
        """The skipped cards grouped by the kind of reason, in SKIP_KINDS' order."""
        groups: dict[str, list[tuple[Customer, str]]] = {}
        for card, why in self.skipped:
            groups.setdefault(self.kinds.get(card.pk, "other"), []).append((card, why))
        return [SkipGroup(kind, str(title), groups[kind]) for kind, title in SKIP_KINDS.items() if kind in groups]

    @property
    def retryable_ids(self) -> list[int]:
        """The skipped cards a change (a settled balance, a decided request) may let through next time."""
        return [card.pk for card, _why in self.skipped if self.kinds.get(card.pk) not in NEVER_CLOSABLE]


def bulk_close(customer_ids: Iterable[int], choice: ClosureChoice, *, by, request=None) -> BulkResult:
    """Close, void or archive many cards with one reason, in one transaction (Managers and Admins).

    Cards that cannot be closed are skipped with the reason why (the single-card flow's refusal:
    not active, pending approval, changed since the preview, a balance or points without an
    acknowledged settlement; or needing a Manager's approval); the others are closed. At most
    5,000 cards.
    """
    ids = _selection(customer_ids)
    with rules.guarded(ids, by=by, may="bulk", nonce=choice.nonce) as cards:
        reason = _reason_for_all(choice)
        result = BulkResult()
        to_close = []
        for card, why, kind in _sorted_out(ids, cards, choice, by=by, reason=reason):
            if why:
                result.skipped.append((card, why))
                result.kinds[card.pk] = kind
            else:
                to_close.append(card)
        result.done = [writes.new_closure(card, choice, by=by, reason=reason) for card in to_close]
        for card, closure in zip(to_close, result.done, strict=True):
            if settlement.has_money(card):  # refunded or forfeited, each card's entries under its lock
                settlement.apply(closure, settlement.settle(card, choice, None, by=by, request=request))
        writes.write_closures(new=result.done)
        writes.set_status(to_close, ACTION_STATUS[choice.action])
        writes.record_bulk_closures(result.done, by=by, request=request)
        result.run = BulkClosure(
            nonce=choice.nonce or None,
            action=choice.action,
            reason=reason,
            performed_by=by,
            selected=len(ids),
            done=len(result.done),
            skipped=len(result.skipped),
        )
        writes.save_bulk_run(result.run)
    return result


def _selection(customer_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(pk) for pk in customer_ids))
    if not ids:
        raise ValidationError(_("Select at least one customer."), code="empty")
    if len(ids) > BULK_LIMIT:
        raise ValidationError(
            _("You selected %(count)s cards; at most %(limit)s can be closed at once. Narrow the selection.")
            % {"count": f"{len(ids):,}", "limit": f"{BULK_LIMIT:,}"},
            code="limit",
        )
    return ids


def _reason_for_all(choice: ClosureChoice) -> ClosureReason:
    """What is wrong for every card alike refuses the whole selection: the action, the reason, the notes."""
    if choice.action not in CLOSING_ACTIONS:
        raise ValidationError(_("Choose close, void or archive."), code="action")
    reason = rules.check_reason(choice.reason_id, choice.action)
    if reason.category == Category.DUPLICATE:
        raise ValidationError(
            _("Voiding as a duplicate needs the surviving card of each record; void duplicates one by one."),
            code="duplicate",
        )
    rules.check_notes(reason, choice.notes)
    rules.check_length(choice.settlement_note)
    if choice.settlement == Settlement.TRANSFER:
        raise ValidationError(
            _("Balances cannot be transferred in bulk: refund or forfeit them, or close those cards one by one."),
            code="settlement",
        )
    return reason


def _sorted_out(ids: list[int], cards: dict[int, Customer], choice: ClosureChoice, *, by, reason):
    """Each selected card that exists, with why it is skipped ("" when it is closed) and the kind of
    that reason (a key of SKIP_KINDS).

    What the rules need is read once for the whole selection; rules.check_closing then checks each
    card exactly as the single-card flow does.
    """
    pending = rules.pending_requests(cards)
    inactive = [pk for pk, card in cards.items() if not card.is_active and not card.is_erased]
    closures = rules.open_closures(inactive) if inactive else {}
    settings = ClosureSettings.load()
    for pk in ids:
        card = cards.get(pk)
        if card is None:
            continue
        try:
            rules.check_closing(
                card, choice, reason=reason, pending=pending.get(pk), survivor=None, closure=closures.get(pk)
            )
        except ValidationError as exc:
            yield card, " ".join(exc.messages), _kind(exc)
            continue
        if rules.approval_needed(card, by, settings):
            yield card, str(NEEDS_APPROVAL), "approval"
        else:
            yield card, "", ""


def _kind(error: ValidationError) -> str:
    code = getattr(error, "code", None) or next((e.code for e in error.error_list if e.code), None)
    return code if code in SKIP_KINDS else "other"
