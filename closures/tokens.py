"""Signed tokens that carry a preview to its confirmation.

The impact page ("Continue") signs what the user chose and what they saw; "Confirm" posts it
back. Signing (django.core.signing, with a max age) means nobody can alter the reason, the notes
or the figures in between, and the random nonce lets the operation recognise a double click, a
refresh or a replay: the nonce is stored with the closure, the request or the bulk closure
(BulkClosure) under a unique constraint.

A bulk closure's token is its ClosureChoice, with what the confirmation page listed: each card's
id and version (closures.rules.version), as ``[[id, version], ...]``, compressed: 5,000 cards
make about 75 KB in the worst case (versions all different), far below the POST limit.
"""

import secrets
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.models import Customer

from . import tickets
from .rules import ClosureChoice, Seen

PREVIEW_SALT = "closures.preview"
SELECTION_SALT = "closures.bulk-selection"
BULK_SALT = "closures.bulk-preview"
MAX_AGE_SECONDS = 30 * 60


@dataclass(frozen=True)
class Preview:
    """What the confirmation page showed: the choice, the card as it was, and a nonce."""

    customer_id: int
    action: str
    reason_id: int
    notes: str
    duplicate_of_id: int | None
    seen: Seen
    nonce: str
    merge: bool = False
    open_tickets: tuple[int, ...] = ()  # the card's open tickets the impact page listed

    @classmethod
    def new(
        cls, customer: Customer, *, action: str, reason_id: int, notes: str, duplicate_of_id=None, merge=False
    ) -> "Preview":
        return cls(
            customer_id=customer.pk,
            action=action,
            reason_id=reason_id,
            notes=notes,
            duplicate_of_id=duplicate_of_id,
            seen=Seen.of(customer),
            nonce=new_nonce(),
            merge=bool(merge and duplicate_of_id),
            open_tickets=tickets.open_ids(customer),
        )

    def choice(
        self, *, settlement_note: str = "", tickets: str = "", tickets_note: str = "", **settled
    ) -> ClosureChoice:
        """What the user chose and saw, with what they filled in on the confirmation page
        (``settled``: settlement, settlement_method, refund_amount, settle_to, forfeit_reason)."""
        return ClosureChoice(
            action=self.action,
            reason=self.reason_id,
            notes=self.notes,
            settlement_note=settlement_note,
            duplicate_of=self.duplicate_of_id,
            seen=self.seen,
            nonce=self.nonce,
            merge=self.merge,
            tickets=tickets,
            tickets_note=tickets_note,
            tickets_seen=tuple(self.open_tickets),
            **settled,
        )


def new_nonce() -> str:
    """A confirmation's one-time number."""
    return secrets.token_urlsafe(24)


def sign_preview(preview: Preview) -> str:
    data = asdict(preview)
    data["seen"]["balance"] = str(preview.seen.balance)
    return signing.dumps(data, salt=PREVIEW_SALT, compress=True)


def read_preview(token: str, *, customer_id: int, action: str) -> Preview:
    """The preview in ``token``; ValidationError when it is forged, expired or for another card."""
    data = _load(token, salt=PREVIEW_SALT)
    try:
        seen = data.pop("seen")
        data["open_tickets"] = tuple(int(pk) for pk in data.get("open_tickets", ()))
        preview = Preview(seen=Seen(**{**seen, "balance": Decimal(seen["balance"])}), **data)
    except (TypeError, KeyError, ValueError, ArithmeticError) as exc:
        raise ValidationError(_("This confirmation is not valid; nothing was changed. Please start again.")) from exc
    if preview.customer_id != customer_id or preview.action != action:
        raise ValidationError(_("This confirmation belongs to another card or action; nothing was changed."))
    return preview


def sign_selection(customer_ids: list[int]) -> str:
    """The customers chosen for a bulk closure, so the next step cannot be widened by hand."""
    return signing.dumps(sorted(customer_ids), salt=SELECTION_SALT, compress=True)


def read_selection(token: str) -> list[int]:
    ids = _load(token, salt=SELECTION_SALT)
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise ValidationError(_("This selection is not valid; please select the customers again."))
    return ids


def sign_bulk(choice: ClosureChoice) -> str:
    """A bulk closure's confirmation: the choice, each listed card's version (``choice.seen``) and its nonce."""
    data = {
        "action": choice.action,
        "reason": choice.reason_id,
        "notes": choice.notes,
        "settlement_note": choice.settlement_note,
        "settlement": [choice.settlement, choice.settlement_method, choice.forfeit_reason],
        "seen": [[pk, seen] for pk, seen in choice.seen.items()],
        "nonce": choice.nonce,
    }
    return signing.dumps(data, salt=BULK_SALT, compress=True)


def read_bulk(token: str) -> ClosureChoice:
    """The choice in a bulk confirmation; ``seen`` lists the cards to close. ValidationError when not valid."""
    data = _load(token, salt=BULK_SALT)
    try:
        return ClosureChoice(
            action=str(data["action"]),
            reason=int(data["reason"]),
            notes=str(data["notes"]),
            settlement_note=str(data["settlement_note"]),
            seen={int(pk): int(seen) for pk, seen in data["seen"]},
            nonce=str(data["nonce"]),
            **dict(
                zip(("settlement", "settlement_method", "forfeit_reason"), map(str, data["settlement"]), strict=True)
            ),
        )
    except (TypeError, KeyError, ValueError) as exc:
        raise ValidationError(_("This confirmation is not valid; nothing was changed. Please start again.")) from exc


def _load(token: str, *, salt: str):
    try:
        return signing.loads(token or "", salt=salt, max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise ValidationError(
            _("This confirmation is more than %(minutes)d minutes old; nothing was changed. Please start again.")
            % {"minutes": MAX_AGE_SECONDS // 60}
        ) from exc
    except signing.BadSignature as exc:
        raise ValidationError(_("This confirmation is not valid; nothing was changed. Please start again.")) from exc
