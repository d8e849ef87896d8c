"""Erasure (删除): the one irreversible operation, for Admins only.

    erase_customer(customer, choice, *, by, confirmation, request=None) -> Closure

It follows the pattern of closures/operations.py (one guarded transaction: the card locked and
re-read, a used confirmation refused, the permission checked; every rule checked against the
locked row by closures/rules.py; the closure and its tallies written through closures/writes.py)
and adds what erasure alone needs: the personal fields it blanks (``PERSONAL_FIELDS``) and every
personal value of the card, earlier ones included, so they can be replaced with a marker in the
card's old audit entries and in the erasure's own notes. The card's pending requests are
withdrawn, each with its own audit entry.

Higher apps may refuse an erasure (:func:`register_check`: privacy refuses a card under a legal
hold). The copies of the card's values outside its own records are forgotten by
:func:`forget_elsewhere`, at once by default; a retention run (privacy/retention.py) collects its
batch's cards and forgets them in one pass, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm import audit, forget
from crm.models import ERASED_MARKER, AuditEntry
from customers.imports import uploads
from customers.models import ContactConsent, Customer, Interaction
from service import erasure as tickets

from . import rules, settlement, writes
from .models import Action, Closure, ClosureReason, ClosureRequest
from .rules import ClosureChoice

# Fields wiped by erasure, and the blank value each gets.
PERSONAL_FIELDS = {
    "name": ERASED_MARKER,
    "gender": "",
    "birth_date": None,
    "occupation": "",
    "company": "",
    "title": "",
    "id_number": "",
    "id_number_hash": "",
    "phone": "",
    "phone_rev": "",
    "email": "",
    "wechat": "",
    "address": "",
    "preferences": "",
}


# Checks of higher apps, called with the locked card; each raises a ValidationError to refuse.
_CHECKS: list[Callable[[Customer], None]] = []


def register_check(check: Callable[[Customer], None]) -> None:
    """A higher app's reason to refuse an erasure (privacy: a legal hold), checked on the locked card."""
    if check not in _CHECKS:
        _CHECKS.append(check)


def erase_customer(
    customer, choice: ClosureChoice, *, by, confirmation: str, request=None, forget: Callable | None = None
) -> Closure:
    """Delete (删除): irreversibly erase the customer's personal data; the closure record survives.

    The card keeps its number, segment and dates so analytics counts do not change; a balance or
    points still on it (an active card, or one archived keeping them) are settled first, as the
    choice says (closures/settlement.py): refunded, transferred or forfeited. An
    open closure stays (marked ``customer_erased``); an active card gets an "erase" closure.
    Personal values are replaced with a marker in the card's old audit entries too. Returns the
    closure that now stands for the card.

    ``forget(card, values)`` receives the card's identifying values for its copies elsewhere;
    without it they are forgotten now (:func:`forget_elsewhere`). A caller that passes it must
    forget them before its transaction commits.
    """
    with rules.guarded([customer, choice.settle_to_id], by=by, may="erase", nonce=choice.nonce) as cards:
        locked = cards[int(getattr(customer, "pk", customer))]
        target = cards.get(choice.settle_to_id)
        reason, closure = _checked(locked, choice, confirmation, target)
        old_values = _personal_values(locked) + tickets.personal_values(locked.pk)
        identifying = _identifying_values(locked, old_values)  # read before the card's history is redacted
        choice = replace(
            choice,
            action=Action.ERASE,
            notes=_redacted(choice.notes.strip(), old_values),
            settlement_note=_redacted(choice.settlement_note.strip(), old_values),
            forfeit_reason=_redacted(choice.forfeit_reason.strip(), old_values),
        )
        if closure is None:
            closure = writes.close(
                locked, choice, by=by, reason=reason, request=request, record=False, settle_to=target
            )
        elif settlement.has_money(locked):  # archived keeping its balance: settled now
            fields = settlement.settle(locked, choice, target, by=by, request=request)
            settlement.apply(closure, fields)
            closure.save(update_fields=list(fields))
        old_status = locked.status
        writes.withdraw_requests(locked, by=by, why="erased", request=request)
        _erase_personal_data(locked)
        tickets.forget_customer(locked, by=by, request=request)
        writes.write_closures(erased=[closure])
        AuditEntry.objects.redact_customer(locked.pk, old_values)
        if forget is None:
            forget_elsewhere([(locked, identifying)])
        else:
            forget(locked, identifying)
        audit.record(
            "closure.erase",
            actor=by,
            request=request,
            obj=closure,
            customer_id=locked.pk,
            changes={"status": [old_status, Customer.Status.ERASED.value]},
            notes=choice.notes,
            data={"reason": reason.pk},
        )
        return closure


def _checked(
    locked: Customer, choice: ClosureChoice, confirmation: str, target: Customer | None
) -> tuple[ClosureReason, Closure | None]:
    """Erasure's rules against the locked card: the reason as it is now and the card's open closure."""
    if locked.is_erased:
        raise rules.not_active(locked)
    for check in _CHECKS:
        check(locked)
    if (confirmation or "").strip() != locked.customer_no:
        raise ValidationError(
            _("Type the customer number %(number)s exactly to confirm.") % {"number": locked.customer_no},
            code="confirmation",
        )
    rules.check_seen(locked, choice.seen)
    reason = rules.check_reason(choice.reason_id, Action.ERASE)
    rules.check_notes(reason, choice.notes)
    closure = rules.open_closure(locked)
    # Any money left on the card is settled now: an archived card may have kept its balance.
    rules.check_money(locked, replace(choice, action=Action.ERASE), target)
    return reason, closure


def _personal_values(customer: Customer) -> list[str]:
    """Every personal value of the card, as it may appear in old audit entries."""
    skipped = ("gender", "phone_rev", "id_number_hash")
    values = [str(getattr(customer, name) or "") for name in PERSONAL_FIELDS if name not in skipped]
    if customer.birth_date:
        values.append(customer.birth_date.isoformat())
    phone = customer.phone or ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    values += [digits, digits[2:] if phone.startswith("+86") else ""]
    if phone.startswith("+86") and len(phone) == 14:
        values.append(f"+86 {phone[3:6]} {phone[6:10]} {phone[10:]}")
    values += list(customer.tags.values_list("name", flat=True))
    for summary, outcome in Interaction.objects.filter(customer=customer).values_list("summary", "outcome"):
        values += [summary, outcome]
    closures = Closure.objects.filter(customer=customer)
    for row in closures.values_list("notes", "settlement_note", "revert_note", "forfeit_reason"):
        values += list(row)
    requests = ClosureRequest.objects.filter(customer=customer)
    for row in requests.values_list("notes", "settlement_note", "decision_note", "forfeit_reason"):
        values += list(row)
    values += list(customer.ledger.exclude(note="").values_list("note", flat=True))  # typed on its balance entries
    # Earlier values too (a previous phone number or name), as the card's edit history recorded them.
    personal = set(PERSONAL_FIELDS) | {"tags"}
    for changes in AuditEntry.objects.for_customer(customer.pk).values_list("changes", flat=True):
        for name, pair in (changes or {}).items():
            if name in personal and isinstance(pair, list):
                values += [str(v) for v in pair if v]
    return [v for v in values if v and v != ERASED_MARKER and len(v) >= 2]


# The ID number's earlier values are in the card's audit entries only masked (customers.identity).
IDENTIFYING_FIELDS = ("name", "phone", "email", "wechat", "address", "id_number")


def _identifying_values(locked: Customer, personal: list[str]) -> list[str]:
    """The values that identify this customer wherever they appear (names, phones, emails, handles,
    addresses, ID numbers, earlier ones included): redacted outside the card's own records too, where generic
    values of the card (a tag, an occupation) would wrongly take other people's text with them."""
    identifying = {str(getattr(locked, name) or "") for name in IDENTIFYING_FIELDS}  # as they are now
    for changes in AuditEntry.objects.for_customer(locked.pk).values_list("changes", flat=True):
        for name, pair in (changes or {}).items():
            if name in IDENTIFYING_FIELDS and isinstance(pair, list):
                identifying |= {str(v) for v in pair if v}
    phones = [v for v in personal if v.lstrip("+").isdigit() and len(v.lstrip("+")) >= 7]
    return [v for v in identifying | set(phones) if v != ERASED_MARKER and len(v) >= 2]


def forget_elsewhere(erased: list[tuple[Customer, list[str]]]) -> None:
    """Every other copy of erased cards, each given with its identifying values: audit entries and
    jobs that quote them (now), files that name them (once the erasure has committed: a deleted
    file cannot come back with a rollback), Django's admin log. One pass for any number of cards."""
    if not erased:
        return
    forget.forget_values([value for _card, values in erased for value in values])
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id__in=[str(card.pk) for card, _ in erased]
    ).update(object_repr=ERASED_MARKER, change_message="")
    numbers = [card.customer_no for card, _values in erased]
    transaction.on_commit(lambda: (forget.forget_files(numbers), uploads.forget_customers(numbers)))


def _redacted(text: str, values: list[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, ERASED_MARKER)
    return text


def _erase_personal_data(locked: Customer) -> None:
    writes.set_status([locked], Customer.Status.ERASED)
    Customer.objects.filter(pk=locked.pk).update(**PERSONAL_FIELDS)
    for name, blank in PERSONAL_FIELDS.items():
        setattr(locked, name, blank)
    locked.tags.clear()
    Interaction.objects.filter(customer=locked).update(summary=ERASED_MARKER, outcome="")
    # How consent was given may quote the customer ("signed by 张伟 in store"); nothing is sent to an
    # erased card, so its consent rows go with the rest.
    ContactConsent.objects.filter(customer=locked).delete()
