"""Contact preferences and consent: what a customer allows on each channel, and the one rule that reads it.

Per customer and channel (e-mail, SMS, phone), a ContactConsent row (customers/models.py) says:
service messages about the customer's own account allowed (default yes); surveys and offers
("marketing", default no, with when and how the consent was given); "do not contact" (blocks
everything on that channel, service messages included). A missing row is the defaults.

    allows(customer, channel, purpose, consents=None) -> bool
    refusal(customer, channel, purpose, consents=None) -> str   ("" when allowed; words otherwise)
    consents_of(customer) -> dict[channel, ContactConsent]  (unsaved defaults where no row exists)

``purpose`` is SERVICE (a closure notice: allowed without marketing consent, never to "do not
contact") or MARKETING (an exit survey, a win-back offer: only with consent). Every sender asks
here first, so nothing optional is ever sent without consent.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

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
