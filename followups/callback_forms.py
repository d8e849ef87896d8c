"""The forms of the follow-ups queue: the team view's filters (GET), reassigning, and a callback's outcome."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from closures.models import ClosureReason
from crm import widgets
from crm.widgets import FastModelChoiceField

from .models import Followup, Kind

Outcome = Followup.Outcome
TO_REINSTATE = "to_reinstate"
UNASSIGNED = "none"
DUE_CHOICES = [("", _("Any time")), ("today", _("Due today")), ("overdue", _("Overdue")), ("upcoming", _("Upcoming"))]


def workers():
    """The active users who work follow-ups, for the assignee lists."""
    return (
        get_user_model()
        .objects.with_perm("followups.change_followup", backend="crm.backends.PermissionBackend")
        .order_by("username")
    )


class TeamFilter(forms.Form):
    """The team view's filters, read from the URL. Without a state, pending ones are shown.

    Its selects write their HTML in Python (crm.widgets): through Django's templates, the five
    lists (45 assignees at the benchmark's scale) took 35 ms of the page's 46."""

    assignee = forms.ChoiceField(label=_("Assigned to"), required=False, widget=widgets.Select)
    kind = forms.ChoiceField(
        label=_("Follow-up"), required=False, choices=[("", _("Any kind")), *Kind.choices], widget=widgets.Select
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Any state")), *Followup.State.choices, (TO_REINSTATE, _("Won back, to reinstate"))],
        widget=widgets.Select,
    )
    reason = FastModelChoiceField(
        label=_("Closure reason"),
        required=False,
        queryset=ClosureReason.objects.all(),
        empty_label=_("Any reason"),
        widget=widgets.Select,
    )
    due = forms.ChoiceField(label=_("Due"), required=False, choices=DUE_CHOICES, widget=widgets.Select)

    def __init__(self, data, *args, **kwargs):
        data = data.copy()
        data.setdefault("state", Followup.State.PENDING)
        super().__init__(data, *args, **kwargs)
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            (UNASSIGNED, _("Unassigned")),
            *((str(user.pk), user.get_username()) for user in workers()),
        ]


class ReassignForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, error_messages={"required": _("Tick at least one follow-up.")})
    to = forms.ChoiceField(label=_("Give the ticked callbacks to"), required=False, widget=widgets.Select)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [
            (UNASSIGNED, _("Nobody (the team's queue)")),
            *((str(user.pk), user.get_username()) for user in workers()),
        ]
        self.fields["ids"].choices = [(pk, pk) for pk in self.data.getlist("ids") if str(pk).isdigit()]

    def assignee(self):
        chosen = self.cleaned_data.get("to")
        return None if chosen in ("", UNASSIGNED, None) else get_user_model().objects.get(pk=int(chosen))


class OutcomeForm(forms.Form):
    """What came of a call: one of the four outcomes and, for each, its own fields."""

    outcome = forms.ChoiceField(label=_("What came of the call"), choices=Outcome.choices, widget=forms.RadioSelect)
    reason = forms.ModelChoiceField(
        label=_("The customer's own reason"),
        required=False,
        queryset=ClosureReason.objects.active().for_action("close"),
        empty_label=_("Not said"),
    )
    other_reason = forms.CharField(label=_("In their words"), required=False, max_length=500)
    csat = forms.TypedChoiceField(
        label=_("How satisfied were they (1-5)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *((n, str(n)) for n in range(1, 6))],
    )
    nps = forms.TypedChoiceField(
        label=_("Would they recommend us (0-10)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *((n, str(n)) for n in range(11))],
    )
    come_back = forms.CharField(
        label=_("What would bring them back"), required=False, max_length=2000, widget=forms.Textarea({"rows": 2})
    )
    contact_again = forms.TypedChoiceField(
        label=_("May we contact them again"),
        required=False,
        coerce=lambda value: value == "yes",
        empty_value=None,
        choices=[("", _("Not asked")), ("yes", _("Yes")), ("no", _("No"))],
    )
    retry_at = forms.DateTimeField(
        label=_("Call again at"),
        required=False,
        help_text=_("Empty: the next working day."),
        widget=forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea({"rows": 3}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == Outcome.COMES_BACK and not cleaned.get("note"):
            self.add_error("note", _("Write what the customer said: it is the reinstatement's note."))
        return cleaned

    def values(self) -> dict:
        """The operation's keyword arguments for the chosen outcome (the other outcomes' fields ignored)."""
        data = self.cleaned_data
        values = {"outcome": data["outcome"], "note": data.get("note", "")}
        if data["outcome"] == Outcome.REACHED:
            for name in ("reason", "other_reason", "csat", "nps", "come_back", "contact_again"):
                values[name] = data.get(name)
        elif data["outcome"] == Outcome.NOT_REACHED:
            values["retry_at"] = data.get("retry_at")
        return values


class ReinstateForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea({"rows": 2}))
