"""The forms of the retention actions (insights/action_views.py): plan a callback, log an attempt,
record a callback's result."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm import widgets
from customers.models import local_today

from .models import RetentionAction


class CallbackForm(forms.Form):
    assigned_to = forms.ModelChoiceField(
        label=_("Who calls"), queryset=get_user_model().objects.none(), widget=widgets.Select
    )
    due_on = forms.DateField(label=_("Call by"), widget=widgets.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label=_("What to talk about"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, customer, user, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.with_perm(
            "insights.add_retentionaction", backend="crm.backends.PermissionBackend"
        )
        self.fields["assigned_to"].queryset = users.order_by("username")
        self.fields["assigned_to"].initial = customer.owner_id or user.pk
        self.fields["due_on"].initial = local_today() + timedelta(days=1)


class AttemptForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("What was done"), choices=RetentionAction.Channel.choices, widget=widgets.Select
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ResultForm(forms.Form):
    result = forms.CharField(
        label=_("What came of the call"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ActionFilter(forms.Form):
    """The retention actions list's filters, read from the URL."""

    mine = forms.BooleanField(label=_("Only mine"), required=False, widget=widgets.CheckboxInput)
    kind = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *RetentionAction.Kind.choices],
        widget=widgets.Select,
    )  # fmt: skip
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("Any outcome")), *RetentionAction.Outcome.choices],
        widget=widgets.Select,
    )  # fmt: skip

    def narrowed(self, rows, user):
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("mine"):
            rows = rows.filter(created_by=user) | rows.filter(assigned_to=user)
        if data.get("kind"):
            rows = rows.filter(kind=data["kind"])
        if data.get("outcome"):
            rows = rows.filter(outcome=data["outcome"])
        return rows.order_by("-created_at", "-pk")
