"""The form an Admin fills to give another system a token (api.tokens.create_token does the rest)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import widgets
from crm.roles import ROLE_LABELS, ROLE_NAMES, ROLE_PERMISSIONS

from . import tokens
from .models import ApiToken

User = get_user_model()


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("Which system uses it, for example “Finance settlement” or “Shop POS”."),
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        help_text=_("The person answerable for it. Changes made with the token are recorded in their name."),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(name, ROLE_LABELS[name]) for name in ROLE_NAMES],
        help_text=_("The token may do exactly what a user of this role may, and never more than its owner."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=widgets.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Optional: the last day it works."),
    )
    allowed_ips = forms.CharField(
        label=_("Allowed IP ranges"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=ApiToken._meta.get_field("allowed_ips").help_text,
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if ApiToken.objects.filter(name__iexact=name).exists():
            raise ValidationError(_("A token with this name exists already."), code="unique")
        return name

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise ValidationError(_("The last day cannot be in the past."), code="past")
        return day

    def clean_allowed_ips(self) -> str:
        text = self.cleaned_data.get("allowed_ips") or ""
        tokens.parse_ip_ranges(text)
        return text

    def clean(self):
        cleaned = super().clean()
        owner, role = cleaned.get("owner"), cleaned.get("role")
        if owner is not None and role and not owner.has_perms(ROLE_PERMISSIONS[role]):
            self.add_error(
                "role",
                ValidationError(
                    _("A token cannot do more than its owner: %(owner)s may not do everything a %(role)s may.")
                    % {"owner": owner.get_username(), "role": ROLE_LABELS[role]},
                    code="role_above_owner",
                ),
            )
        return cleaned

    @property
    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
