"""The one-click unsubscribe every message carries (followups.links.unsubscribe_url).

What a link stops depends on the message it came in: a closure notice's link stops service
messages on that channel; a survey's or an offer's stops surveys and offers (marketing) on that
channel. Applied through customers.consent.change (row-locked, audited as ``customer.consent`` with
the source "unsubscribe" and no user: the customer themself).

    what_stops(followup) -> words     unsubscribe(followup) -> {field: [old, new]}
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from customers import consent
from customers.gate import Source

from .models import MARKETING_KINDS, Channel, Followup, Kind

SOURCE = Source("unsubscribe")

WHAT_STOPS = {
    ("service", Channel.EMAIL): _("service messages by e-mail"),
    ("service", Channel.SMS): _("service messages by SMS"),
    ("service", Channel.PHONE): _("service calls"),
    ("marketing", Channel.EMAIL): _("surveys and offers by e-mail"),
    ("marketing", Channel.SMS): _("surveys and offers by SMS"),
    ("marketing", Channel.PHONE): _("surveys and offers by phone"),
}


def purpose_field(followup: Followup) -> str:
    """The consent the link withdraws: ``marketing`` for surveys and offers, ``service`` for a notice."""
    return "marketing" if followup.kind in (*MARKETING_KINDS, Kind.CALLBACK) else "service"


def what_stops(followup: Followup) -> str:
    return str(WHAT_STOPS[(purpose_field(followup), followup.channel)])


def unsubscribe(followup: Followup) -> dict[str, list]:
    """Withdraw the consent the link stands for; ValidationError when the card has been erased."""
    withdrawn = {purpose_field(followup): False}
    return consent.change(followup.customer, followup.channel, by=None, source=SOURCE, **withdrawn)
