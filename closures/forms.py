"""Forms of the closures app.

Several people edit this file: add forms with small, targeted edits, never by rewriting it.
"""

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .models import ClosureReason, ClosureSettings

# --- Reason management and settings (Admin) -------------------------------------------


class ReasonForm(forms.ModelForm):
    class Meta:
        model = ClosureReason
        fields = [
            "label_en",
            "label_zh",
            "category",
            "for_close",
            "for_void",
            "for_archive",
            "for_erase",
            "notes_required",
            "is_active",
            "display_order",
        ]

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"for_{action}") for action in ("close", "void", "archive", "erase")):
            raise forms.ValidationError(_("Choose at least one action this reason applies to."))
        return cleaned

    def save(self, commit=True):
        reason = super().save(commit=False)
        if not reason.code:
            reason.code = self._unique_code(slugify(reason.label_en)[:30] or "reason")
        if commit:
            reason.save()
        return reason

    @staticmethod
    def _unique_code(base: str) -> str:
        code, n = base, 1
        while ClosureReason.objects.filter(code=code).exists():
            n += 1
            code = f"{base}-{n}"
        return code


class ClosureSettingsForm(forms.ModelForm):
    class Meta:
        model = ClosureSettings
        fields = ["approval_required", "approval_policy"]
