"""The Users page's forms: who an Admin may manage, and how far.

Rules (issue 16: an Admin set a superuser's password, then logged in as it; issue 18: no Admin
types another person's password at all):
- Superusers are not managed in the CRM at all (the views answer 403 for them).
- Nobody sets another person's password: neither form has a password field. A new user is
  created without a usable password and gets an invitation, a one-time link to set their own;
  later an Admin can issue a reset link (crm.invitations: by email, or shown to hand over).
- Another Admin's credentials (username, email) are read-only: otherwise an Admin could
  put their own address on another Admin's record and send the reset link to themselves.
- An Admin cannot remove their own Admin role or deactivate themselves (someone must be
  left who can manage users; another Admin can do it).
"""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from .models import DataScope
from .roles import ADMIN, ROLE_LABELS, ROLE_NAMES, SCOPED_ROLES

User = get_user_model()

ROLE_CHOICES = [("", _("No role (cannot use the CRM)"))] + [(name, ROLE_LABELS[name]) for name in ROLE_NAMES]
CREDENTIALS = ("username", "email")


def is_admin(user) -> bool:
    return user.groups.filter(name=ADMIN).exists()


class UserForm(forms.ModelForm):
    """A new user (who then sets their own password through an invitation) or an existing one, as
    ``editor`` may change it. There is no password field: posted passwords are ignored."""

    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, required=False)

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active"]

    def __init__(self, *args, editor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editor = editor
        if not self.instance.pk:
            self.fields["email"].help_text = _(
                "The invitation to set a password goes to this address when the CRM can send email; "
                "otherwise you are shown a one-time link to give them."
            )
            return
        current = self.instance.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True).first()
        self.initial["role"] = current or ""
        if current == ADMIN and not self.is_self:
            for name in CREDENTIALS:
                self.fields[name].disabled = True  # posted values are ignored, the record's kept
                self.fields[name].help_text = _("Another Admin’s sign-in details: only they can change them.")

    @property
    def is_self(self) -> bool:
        return self.editor is not None and self.instance.pk == self.editor.pk

    def clean(self):
        cleaned = super().clean()
        if self.is_self:
            if self.initial.get("role") == ADMIN and cleaned.get("role") != ADMIN:
                self.add_error("role", _("You cannot remove your own Admin role; another Admin can."))
            if "is_active" in cleaned and not cleaned["is_active"]:
                self.add_error("is_active", _("You cannot deactivate your own account; another Admin can."))
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        if user.pk is None:
            user.set_unusable_password()  # they choose one through the invitation's link
        user.save()
        user.groups.remove(*Group.objects.filter(name__in=ROLE_NAMES))
        if self.cleaned_data.get("role"):
            user.groups.add(Group.objects.get(name=self.cleaned_data["role"]))
        return user


class DataScopeForm(forms.Form):
    """One choice per scoped role (crm/scopes.py): their own cards, their teams', or all."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for role in SCOPED_ROLES:
            self.fields[role] = forms.ChoiceField(
                label=ROLE_LABELS[role], choices=DataScope.Scope.choices, widget=forms.RadioSelect
            )
