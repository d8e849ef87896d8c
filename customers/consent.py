"""Contact preferences and consent: what a customer allows on each channel, and the one rule that reads it.

Per customer and channel (e-mail, SMS, phone), a ContactConsent row (customers/models.py) says:
service messages about the customer's own account allowed (default yes); surveys and offers
("marketing", default no, with when and how the consent was given); "do not contact" (blocks
everything on that channel, service messages included). A missing row is the defaults.

    allows(customer, channel, purpose, consents=None) -> bool
    refusal(customer, channel, purpose, consents=None) -> str   ("" when allowed; words otherwise)
    consents_of(customer) -> dict[channel, ContactConsent]  (unsaved defaults where no row exists)
    change(customer, channel, *, by, source, request=None, how="", **values) -> {field: [old, new]}
    save_preferences(customer, channels, *, by, source, how="", language=None, request=None) -> dict
    import_changes(existing, wanted) -> {channel: {field: [old, new]}}   (the import's comparison)

``purpose`` is SERVICE (a closure notice: allowed without marketing consent, never to "do not
contact") or MARKETING (an exit survey, a win-back offer: only with consent). Every sender asks
here first, so nothing optional is ever sent without consent.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import audit

from .gate import status_refusal, update_card
from .models import ContactConsent, Customer

Channel = ContactConsent.Channel
SERVICE = "service"
MARKETING = "marketing"
PURPOSES = (SERVICE, MARKETING)


def consents_of(customer: Customer | int) -> dict[str, ContactConsent]:
    """The customer's consent per channel: its rows, and unsaved defaults for channels without one."""
    customer_id = int(getattr(customer, "pk", customer))
    found = {c.channel: c for c in ContactConsent.objects.filter(customer_id=customer_id)}
    return {
        channel: found.get(channel) or ContactConsent(customer_id=customer_id, channel=channel) for channel in Channel
    }


def refusal(customer: Customer | int, channel: str, purpose: str, consents: dict | None = None) -> str:
    """Why ``customer`` may not be contacted on ``channel`` for ``purpose``; empty when they may."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    consent = (consents or consents_of(customer))[channel]
    if consent.do_not_contact:
        return _("The customer asked not to be contacted by %(channel)s.") % {"channel": consent.get_channel_display()}
    if purpose == SERVICE and not consent.service:
        return _("The customer does not accept service messages by %(channel)s.") % {
            "channel": consent.get_channel_display()
        }
    if purpose == MARKETING and not consent.marketing:
        return _("The customer has not agreed to surveys and offers by %(channel)s.") % {
            "channel": consent.get_channel_display()
        }
    return ""


def allows(customer: Customer | int, channel: str, purpose: str, consents: dict | None = None) -> bool:
    return not refusal(customer, channel, purpose, consents)


CHANGEABLE = ("service", "marketing", "do_not_contact")


def change(customer, channel: str, *, by, source, request=None, how: str = "", **values) -> dict[str, list]:
    """Change what the customer allows on ``channel`` (``values``: service, marketing, do_not_contact);
    returns ``{field: [old, new]}`` (empty: nothing changed).

    The card gate's rules, but for every card that still has its personal data: a closed, void or
    archived card's customer may still unsubscribe or agree again (an erased card is refused). The
    card row is locked; one audit entry ``customer.consent`` names the channel, the old and new
    values and the source (customers.gate.Source: the form, an import line, a survey answer, an
    unsubscribe link). Marketing consent given now records when and ``how`` (default: the source).
    ``by=None``: the customer themself (a survey, an unsubscribe link) or the system.
    """
    unknown = set(values) - set(CHANGEABLE)
    if unknown or channel not in Channel.values:
        raise ValueError(f"cannot change {sorted(unknown) or channel!r}")
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=getattr(customer, "pk", customer))
        _check_changeable(locked, by)
        consent = ContactConsent.objects.filter(customer=locked, channel=channel).first() or ContactConsent(
            customer=locked, channel=channel
        )
        changes = {}
        for name, new in values.items():
            old = getattr(consent, name)
            if bool(new) != old:
                changes[f"{channel}.{name}"] = [old, bool(new)]
                setattr(consent, name, bool(new))
        if values.get("marketing") and f"{channel}.marketing" in changes:
            consent.marketing_at = timezone.now()
            consent.marketing_how = (how or _source_words(source))[:200]
        if not changes:
            return {}
        consent.save()
        data = {"source": source.as_data(), "channel": channel}
        if f"{channel}.marketing" in changes and consent.marketing:
            data["how"] = consent.marketing_how
        audit.record(
            "customer.consent",
            actor=by,
            request=request,
            obj=locked,
            customer_id=locked.pk,
            changes=changes,
            data=data,
        )
        return changes


def save_preferences(
    customer, channels: dict[str, dict], *, by, source, how: str = "", language: str | None = None, request=None
) -> dict[str, list]:
    """The card's "Edit contact preferences" in one transaction: :func:`change` for each channel of
    ``channels`` (``{channel: {service, marketing, do_not_contact}}``: one audit entry per channel
    that changed) and, when ``language`` differs from the card's, the language for messages through
    the card gate (an active card only: ``{"language": refusal}`` otherwise). All or nothing.
    Returns every change, ``{"email.marketing": [False, True], "language": ["zh-hans", "en"]}``."""
    with transaction.atomic():
        done: dict[str, list] = {}
        for channel, values in channels.items():
            done |= change(customer, channel, by=by, source=source, request=request, how=how, **values)
        current = Customer.objects.filter(pk=getattr(customer, "pk", customer)).values_list("language", flat=True)
        if language is not None and language != current.first():
            try:
                done |= update_card(customer, {"language": language}, by=by, source=source, request=request).changes
            except ValidationError as error:
                raise ValidationError({"language": error.messages}) from error
        return done


def import_changes(existing: dict[str, ContactConsent] | None, wanted: dict[str, dict]) -> dict[str, dict]:
    """What an import row changes: ``wanted`` (``{channel: {field: bool}}``) against the card's rows
    (``existing``, by channel; None or a missing channel: the defaults). Only what differs."""
    found = existing or {}
    changes: dict[str, dict] = {}
    for channel, values in wanted.items():
        row = found.get(channel) or ContactConsent(channel=channel)
        differs = {name: [getattr(row, name), bool(new)] for name, new in values.items() if new != getattr(row, name)}
        if differs:
            changes[channel] = differs
    return changes


def _check_changeable(locked: Customer, by) -> None:
    if locked.is_erased:
        raise ValidationError(status_refusal(locked.status, locked.customer_no), code="erased")
    if by is not None and not by.has_perm("customers.change_contactconsent"):
        raise ValidationError(_("You are not allowed to change a customer's contact preferences."), code="permission")


def _source_words(source) -> str:
    return ":".join(str(part) for part in (source.kind, source.file, source.line) if part not in ("", None))
