"""What the audit trail needs from service to show its settings' changes and ticket moves in the
reader's language: the actions' titles and the fields' labels. Registered in ServiceConfig.ready()."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import audit_display
from crm.audit import ACTION_LABELS

from .models import Priority

LABELS = {
    "service.category_add": gettext_lazy("Ticket category added"),
    "service.category_change": gettext_lazy("Ticket category changed"),
    "service.team_add": gettext_lazy("Team added"),
    "service.team_change": gettext_lazy("Team changed"),
    "service.sla_add": gettext_lazy("SLA policy added"),
    "service.sla_change": gettext_lazy("SLA policy changed"),
    "service.calendar_change": gettext_lazy("Working calendar changed"),
    "service.holiday_add": gettext_lazy("Holidays added"),
    "service.holiday_delete": gettext_lazy("Holiday deleted"),
    "ticket.move_out": gettext_lazy("Tickets moved to the surviving card"),
    "ticket.move_in": gettext_lazy("Tickets moved from a duplicate card"),
    "ticket.import": gettext_lazy("Tickets imported"),
    "ticket.export": gettext_lazy("Tickets exported"),
}


def _tickets(value, _loaded) -> str:
    """``data["tickets"]``: the numbers moved between cards, or what a closure did with the card's open tickets."""
    if isinstance(value, list):
        return _("Tickets: %(numbers)s") % {"numbers": ", ".join(str(v) for v in value[:20])}
    if not isinstance(value, dict):
        return ""
    numbers = ", ".join(str(v) for v in (value.get("numbers") or [])[:20])
    words = {
        "resolve": _("Open tickets resolved: %(numbers)s"),
        "cancel": _("Open tickets cancelled: %(numbers)s"),
        "keep": _("Open tickets kept open: %(numbers)s"),
    }
    choice = value.get("choice")
    if choice == "move":
        return _("%(count)s tickets moved to card %(card)s") % {"count": value.get("count"), "card": value.get("to")}
    return words[choice] % {"numbers": numbers} if choice in words else ""


def register() -> None:
    ACTION_LABELS.update(LABELS)
    audit_display.register_detail("tickets", _tickets)
    audit_display.register_fields(
        {
            "key": gettext_lazy("Key"),
            "label_en": gettext_lazy("Label (English)"),
            "label_zh": gettext_lazy("Label (Chinese)"),
            "name_en": gettext_lazy("Name (English)"),
            "name_zh": gettext_lazy("Name (Chinese)"),
            "members": gettext_lazy("Members"),
            "first_response_minutes": gettext_lazy("First response (working minutes)"),
            "resolution_minutes": gettext_lazy("Resolution (working minutes)"),
            "time_zone": gettext_lazy("Time zone"),
            "day_starts": gettext_lazy("Working day starts"),
            "day_ends": gettext_lazy("Working day ends"),
            "weekdays": gettext_lazy("Working weekdays"),
        },
        values={"priority": lambda value: str(dict(Priority.choices).get(value, value))},
    )
