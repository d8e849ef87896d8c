"""The improvement action form: title, date, the reason categories it targets, notes."""

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from closures import categories as reason_categories
from crm import widgets

from . import improvements
from .models import Improvement


class ImprovementForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label=_("Reason categories it targets"),
        widget=widgets.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one reason category."),
            "invalid_choice": _("Choose reason categories from the list."),
        },
        help_text=_("The dashboard compares the closure rate of these categories before and after the date."),
    )

    class Meta:
        model = Improvement
        fields = ["title", "started_on", "categories", "notes"]
        widgets = {
            "title": widgets.TextInput,
            "started_on": widgets.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "started_on": _("The day the change took effect. A planned action may be dated up to a year ahead."),
        }
        error_messages = {
            "title": {"required": _("Enter a title.")},
            "started_on": {"required": _("Enter the date of the action."), "invalid": _("Enter a valid date.")},
        }

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        kept = tuple(self.instance.categories or ()) if self.instance.pk else ()
        self.fields["categories"].choices = reason_categories.choices(include_retired=False, keep=kept)
        self.fields["title"].widget.attrs.setdefault("maxlength", 200)

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("Enter a title."))
        return title

    def clean_started_on(self):
        day = self.cleaned_data["started_on"]
        latest = improvements.latest_date(self.today)
        if day.year < improvements.FIRST_YEAR:
            raise forms.ValidationError(_("Enter a date after %(year)s.") % {"year": improvements.FIRST_YEAR})
        if day > latest:
            raise forms.ValidationError(
                _("A planned action may be dated at most a year ahead (%(latest)s).")
                % {"latest": date_format(latest, "SHORT_DATE_FORMAT")}
            )
        return day
