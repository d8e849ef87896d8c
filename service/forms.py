"""The service pages' forms: the queue's filters, bulk reassignment, a new ticket, and the ticket
page's actions. They check the shape of what was typed; the rules (who may, from which status)
are the ticket operations' (service/operations.py), whose refusals the views put next to the field."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm import widgets as fast
from crm.models import Team
from crm.widgets import FastModelChoiceField

from . import attachments, queues
from .models import Category, Channel, Priority, Status, Step

NOTE_ROWS = {"rows": 3}


class CategoryChoice(FastModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


class TeamChoice(FastModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


class UserChoice(FastModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def _users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


def _teams():
    return Team.objects.filter(active=True).order_by("name_en")


SORT_CHOICES = [
    ("-opened", _("Newest first")),
    ("opened", _("Oldest first")),
    ("due", _("Due soonest")),
    ("-due", _("Due latest")),
    ("-priority", _("Most urgent first")),
    ("priority", _("Least urgent first")),
    ("number", _("Number, ascending")),
    ("-number", _("Number, descending")),
]


class QueueFilter(forms.Form):
    """The queue's view, filters, sort and search: all in the URL (GET)."""

    view = forms.ChoiceField(widget=fast.Select, label=_("Queue"), required=False)
    q = forms.CharField(label=_("Ticket number or customer"), required=False, max_length=100, widget=fast.TextInput)
    status = forms.ChoiceField(
        widget=fast.Select, label=_("Status"), required=False, choices=[("", _("Any"))] + Status.choices
    )
    category = CategoryChoice(
        label=_("Category"), required=False, queryset=Category.objects.all(), empty_label=_("Any")
    )
    priority = forms.ChoiceField(
        widget=fast.Select, label=_("Priority"), required=False, choices=[("", _("Any"))] + Priority.choices
    )
    team = TeamChoice(label=_("Team"), required=False, queryset=_teams(), empty_label=_("Any"))
    assignee = forms.ChoiceField(widget=fast.Select, label=_("Assignee"), required=False)
    channel = forms.ChoiceField(
        widget=fast.Select, label=_("Channel"), required=False, choices=[("", _("Any"))] + Channel.choices
    )
    opened_from = forms.DateField(label=_("Opened from"), required=False, widget=fast.DateInput(attrs={"type": "date"}))
    opened_to = forms.DateField(label=_("Opened until"), required=False, widget=fast.DateInput(attrs={"type": "date"}))
    o = forms.ChoiceField(widget=fast.Select, label=_("Sort"), required=False, choices=SORT_CHOICES)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        views = queues.views_for(user)
        if data.get("customer") and "all" not in views:
            views += ("all",)  # a card's tickets: everyone who may see tickets sees all of one card's
        labels = dict(VIEW_LABELS)
        self.fields["view"].choices = [(name, labels[name]) for name in views]
        if not user.has_perm("service.manage_tickets"):
            self.fields["team"].queryset = _teams().filter(members=user)
        users = [(str(pk), name) for pk, name in _users().values_list("pk", "username")]
        self.fields["assignee"].choices = [("", _("Anyone")), (queues.NOBODY, _("Nobody"))] + users

    def chosen_view(self) -> str:
        view = self.cleaned_data.get("view")
        if view:
            return view
        return "all" if self.cleaned_data.get("customer") else "mine"


VIEW_LABELS = [
    ("mine", _("My tickets")),
    ("team", _("My teams' tickets")),
    ("unassigned", _("Unassigned")),
    ("overdue", _("Overdue")),
    ("waiting", _("Waiting for the customer")),
    ("all", _("All tickets")),
]


class BulkReassignForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, error_messages={"required": _("Tick the tickets to reassign.")})
    to = UserChoice(label=_("Reassign to"), queryset=_users())
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs=NOTE_ROWS))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any ticket id: the operation reads and refuses each (a ticket that is closed, say).
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()


class NewTicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    need = forms.CharField(
        label=_("The customer's need, in their words"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    category = CategoryChoice(label=_("Category"), queryset=Category.objects.filter(active=True))
    channel = forms.ChoiceField(widget=fast.Select, label=_("Channel"), choices=Channel.choices)
    priority = forms.ChoiceField(
        widget=fast.Select, label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    team = TeamChoice(label=_("Team"), queryset=_teams(), required=False, empty_label=_("No team yet"))
    assignee = UserChoice(label=_("Assignee"), queryset=_users(), required=False, empty_label=_("Nobody yet"))


class StepForm(forms.Form):
    kind = forms.ChoiceField(
        widget=fast.Select,
        label=_("Kind of step"),
        choices=[
            (Step.Kind.WORK, _("Work done")),
            (Step.Kind.NOTE, _("Internal note")),
            (Step.Kind.REPLY, _("Told the customer")),
        ],
    )
    content = forms.CharField(label=_("What was done or said"), widget=forms.Textarea(attrs={"rows": 4}))
    result = forms.CharField(label=_("Result"), required=False, max_length=300)
    minutes_spent = forms.IntegerField(label=_("Time spent (minutes)"), required=False, min_value=0, max_value=24 * 60)
    happened_at = forms.DateTimeField(
        label=_("When (leave empty for now)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    attachment = forms.FileField(
        label=_("Attachment (image or PDF)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp,application/pdf"}),
    )

    def clean_attachment(self):
        """Checked by its content here too, so the refusal stands next to the field (the operation checks again)."""
        upload = self.cleaned_data.get("attachment")
        if upload:
            attachments.check(upload)
        return upload


class HandOffForm(forms.Form):
    team = TeamChoice(label=_("Hand to team"), queryset=_teams())
    assignee = UserChoice(label=_("Assignee in that team (optional)"), queryset=_users(), required=False)
    note = forms.CharField(label=_("Note for the team"), required=False, widget=forms.Textarea(attrs=NOTE_ROWS))


class NoteForm(forms.Form):
    """A note for one action; its label says what the note is for ("What solved it")."""

    note = forms.CharField(label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs=NOTE_ROWS))

    def __init__(self, *args, note_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if note_label:
            self.fields["note"].label = note_label


class AssignForm(forms.Form):
    to = UserChoice(label=_("Assign to"), queryset=_users())
    note = forms.CharField(label=_("Note on the assignment"), required=False, widget=forms.Textarea(attrs=NOTE_ROWS))


class SlaForm(forms.Form):
    first_response_minutes = forms.IntegerField(
        label=_("First response within (working minutes)"), min_value=1, max_value=60 * 24 * 60
    )
    resolution_minutes = forms.IntegerField(
        label=_("Resolution within (working minutes)"), min_value=1, max_value=60 * 24 * 365
    )
    note = forms.CharField(label=_("Why the SLA changes"), required=False, widget=forms.Textarea(attrs=NOTE_ROWS))
