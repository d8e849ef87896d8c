"""What the audit trail needs from followups to show it in the reader's language: a customer's
answer (``followup.answer``, written by followups.answers.record_answer) as one line, e.g.
"Answered the exit survey: satisfaction 2/5, would recommend 3/10, may contact again". The
customer's reason is the entry's "Reason" line (closures/history.py reads ``data["reason"]`` in
the reader's language); what the customer typed is the entry's notes, shown as typed (escaped).
Registered with crm.audit_display in FollowupsConfig.ready()."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import audit, audit_display


def answer_summary(entry) -> str:
    data = entry.data or {}
    said = []
    if data.get("csat") is not None:
        said.append(_("satisfaction %(csat)s/5") % {"csat": data["csat"]})
    if data.get("nps") is not None:
        said.append(_("would recommend %(nps)s/10") % {"nps": data["nps"]})
    if data.get("contact_again") is True:
        said.append(_("may contact again"))
    elif data.get("contact_again") is False:
        said.append(_("does not want to be contacted again"))
    how = _("Answered on a callback") if data.get("source") == "callback" else _("Answered the exit survey")
    return _("%(how)s: %(said)s") % {"how": how, "said": ", ".join(said)} if said else how


def register() -> None:
    audit.ACTION_LABELS.setdefault("followup.answer", gettext_lazy("The customer's answer"))
    audit_display.register_summary("followup.answer", answer_summary)
