"""The Users page's forms: who an Admin may manage, and how far.

Rules (issue 16: an Admin set a superuser's password, then logged in as it):
- Superusers are not managed in the CRM at all (the views answer 403 for them).
- Nobody sets another person's password: the password field exists on *create* only (the
  initial password); afterwards a user sets their own, through a one-time reset link sent
  to the address on their record (ResetLinkForm).
- Another Admin's credentials (username, email) are read-only: otherwise an Admin could
  put their own address on another Admin's record and send the reset link to themselves.
- An Admin cannot remove their own Admin role or deactivate themselves (someone must be
  left who can manage users; another Admin can do it).
"""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .roles import ADMIN, ROLE_LABELS, ROLE_NAMES

User = get_user_model()

ROLE_CHOICES = [("", _("No role (cannot use the CRM)"))] + [(name, ROLE_LABELS[name]) for name in ROLE_NAMES]
CREDENTIALS = ("username", "email")


def is_admin(user) -> bool:
    return user.groups.filter(name=ADMIN).exists()


class UserForm(forms.ModelForm):
    """A new user (with an initial password) or an existing one (no password field), as ``editor`` may change it."""

    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, required=False)
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(render_value=False),
        strip=False,
        help_text=_("Give it to the user in person; they can change it under “Change password”."),
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active"]

    def __init__(self, *args, editor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editor = editor
        if not self.instance.pk:
            return
        del self.fields["password"]
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

    def _post_clean(self):
        # After the model fields are on the instance, so the similarity check sees the username.
        super()._post_clean()
        password = self.cleaned_data.get("password")
        if password:
            try:
                password_validation.validate_password(password, self.instance)
            except forms.ValidationError as error:
                self.add_error("password", error)

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("password"):
            user.set_password(self.cleaned_data["password"])
        user.save()
        user.groups.remove(*Group.objects.filter(name__in=ROLE_NAMES))
        if self.cleaned_data.get("role"):
            user.groups.add(Group.objects.get(name=self.cleaned_data["role"]))
        return user


class ResetLinkForm(PasswordResetForm):
    """Django's password reset (default_token_generator, password_reset_confirm), for one user.

    The link goes to the address on ``user``'s record and to nobody else: Django's form would
    mail every active user sharing that address. The token is single-use (it is derived from
    the password hash and last login) and expires after PASSWORD_RESET_TIMEOUT.
    """

    subject_template = "registration/reset_link_subject.txt"
    body_template = "registration/reset_link_email.txt"

    def __init__(self, user):
        super().__init__({"email": user.email or ""})
        self.user = user

    def refusal(self) -> str | None:
        """Why no link can be sent (a message for the Admin), or None."""
        name = self.user.get_username()
        if not self.user.email:
            return gettext("%(name)s has no email address. Add one, save, then send the link.") % {"name": name}
        if not self.user.is_active:
            return gettext("%(name)s is inactive. Tick “Active” and save first, then send the link.") % {"name": name}
        if not self.is_valid():
            return gettext("%(name)s’s email address is not valid. Correct it, save, then send the link.") % {
                "name": name
            }
        return None

    def get_users(self, email):
        return [self.user]

    def send(self, request) -> None:
        """Mail the link (in the requester's language). Raises OSError when the mail server refuses."""
        self.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name=self.subject_template,
            email_template_name=self.body_template,
            extra_email_context={"valid_hours": _valid_hours()},
        )

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        # Django's own logs a failure and carries on; the Admin must know the link did not go.
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        EmailMultiAlternatives(subject, body, from_email, [to_email]).send()


def _valid_hours() -> int:
    from django.conf import settings

    return max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)
