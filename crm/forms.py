from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from .roles import ROLE_NAMES

User = get_user_model()

ROLE_CHOICES = [("", _("No role (cannot use the CRM)"))] + [(name, _(name)) for name in ROLE_NAMES]


class UserForm(forms.ModelForm):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, required=False)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        strip=False,
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            current = self.instance.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True).first()
            self.initial["role"] = current or ""
        else:
            self.fields["password"].required = True
            self.fields["password"].help_text = ""

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
