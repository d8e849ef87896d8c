"""What the audit trail needs from customers to show a card's history in the reader's language:
the card's field labels, its choices in words, and which fields are contacts (masked for readers
who see them masked in lists). Registered with crm.audit_display in CustomersConfig.ready()."""

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from crm import audit_display
from crm.formatting import money
from crm.templatetags.crm_tags import mask_email, mask_phone

from .models import ContactConsent, Customer, Interaction, Purchase


def _labels(model, names) -> dict:
    return {name: _capitalised(model._meta.get_field(name).verbose_name) for name in names}


def _capitalised(label):
    return lazy(lambda: str(label)[:1].upper() + str(label)[1:], str)()


def _choices(choices):
    def words(value):
        return str(dict(choices).get(value, value))

    return words


def _moved(moved: dict, _loaded) -> str:
    """What a merge moved (customers.merge), in the reader's language."""
    parts = [
        ngettext("%(count)s purchase (%(total)s)", "%(count)s purchases (%(total)s)", moved.get("purchases", 0))
        % {"count": moved.get("purchases", 0), "total": moved.get("purchase_total", "0.00")},
        ngettext("%(count)s interaction", "%(count)s interactions", moved.get("interactions", 0))
        % {"count": moved.get("interactions", 0)},
    ]
    if moved.get("tags"):
        parts.append(gettext("tags %(names)s") % {"names": ", ".join(moved["tags"])})
    if moved.get("fields"):
        parts.append(
            gettext("contact details: %(fields)s")
            % {"fields": ", ".join(map(audit_display.field_label, moved["fields"]))}
        )
    if "balance" in moved:
        parts.append(
            gettext("balance %(balance)s and %(points)s points")
            % {"balance": moved["balance"], "points": moved.get("points", 0)}
        )
    return gettext("Moved: %(what)s") % {"what": "; ".join(parts)}


def _consent_labels() -> dict:
    """ "email.marketing" -> "E-mail · surveys and offers", in the reader's language (customers.consent)."""
    names = ("service", "marketing", "do_not_contact")
    what = {name: ContactConsent._meta.get_field(name).verbose_name for name in names}
    return {
        f"{channel}.{name}": lazy(lambda c=label, w=words: f"{c} · {w}", str)()
        for channel, label in ContactConsent.Channel.choices
        for name, words in what.items()
    }


def register() -> None:
    audit_display.register_detail(
        "merged_from", lambda number, _l: gettext("Merged from %(number)s") % {"number": number}
    )
    audit_display.register_detail(
        "merged_into", lambda number, _l: gettext("Merged into %(number)s") % {"number": number}
    )
    audit_display.register_detail("moved", _moved)
    # How marketing consent was given (customers.consent.change), as typed or the import's file:line.
    audit_display.register_detail("how", lambda how, _l: gettext("Consent given: %(how)s") % {"how": how})
    card_fields = [f.name for f in Customer._meta.get_fields() if getattr(f, "verbose_name", None) and f.concrete]
    labels = _labels(Customer, [name for name in card_fields if name not in ("id", "phone_rev")])
    labels |= _labels(Purchase, ["product", "quantity", "amount", "purchased_on"])
    labels |= _labels(Interaction, ["kind", "occurred_at", "outcome"])
    labels["summary"] = _("Summary")
    labels |= _consent_labels()
    audit_display.register_fields(
        labels,
        values={
            "status": _choices(Customer.Status.choices),
            "segment": _choices(Customer.Segment.choices),
            "stage": _choices(Customer.Stage.choices),
            "gender": _choices(Customer.Gender.choices),
            "language": _choices(settings.LANGUAGES),
            "kind": _choices(Interaction.Kind.choices),
            "balance": money,  # as the card shows amounts: ¥1,200.50
            "amount": money,
        },
        contacts={"phone": mask_phone, "email": mask_email},
    )
