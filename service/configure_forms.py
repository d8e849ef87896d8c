"""The forms of the service settings page (service/views/settings.py); the writing and the rules that
need the database under a lock are in service/configure.py."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm import widgets
from crm.models import Team

from . import configure
from .models import Category, Holiday, SlaPolicy, WorkingCalendar

WEEKDAYS = [
    ("1", _("Monday")),
    ("2", _("Tuesday")),
    ("3", _("Wednesday")),
    ("4", _("Thursday")),
    ("5", _("Friday")),
    ("6", _("Saturday")),
    ("7", _("Sunday")),
]


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["key", "label_en", "label_zh", "position", "active"]
        help_texts = {"key": _("Letters, digits and hyphens; fixed once the category exists.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].disabled = True
            self.fields["active"].help_text = _(
                "Retire a category instead of deleting it: its tickets keep it, new tickets cannot use it."
            )


class TeamForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Team
        fields = ["name_en", "name_zh", "manager", "active"]
        widgets = {"manager": widgets.Select}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("members", list(self.instance.members.values_list("pk", flat=True)))
        self.fields["manager"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")


def _hours(label):
    return forms.IntegerField(label=label, min_value=0, max_value=24 * 365, required=False)


def _minutes(label):
    return forms.IntegerField(label=label, min_value=0, max_value=59, required=False)


class SlaPolicyForm(forms.ModelForm):
    """Targets are typed in working hours and minutes and stored in working minutes."""

    first_hours = _hours(_("First response within (working hours)"))
    first_minutes = _minutes(_("and minutes"))
    resolution_hours = _hours(_("Resolution within (working hours)"))
    resolution_minutes_part = _minutes(_("and minutes"))

    class Meta:
        model = SlaPolicy
        fields = ["priority", "category", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].empty_label = _("Any category")
        self.fields["category"].help_text = _("Blank: the policy applies to every category without its own.")
        policy = self.instance
        if policy.pk:
            self.initial.update(
                first_hours=policy.first_response_minutes // 60,
                first_minutes=policy.first_response_minutes % 60,
                resolution_hours=policy.resolution_minutes // 60,
                resolution_minutes_part=policy.resolution_minutes % 60,
            )

    def _total(self, cleaned, hours: str, minutes: str) -> int | None:
        total = (cleaned.get(hours) or 0) * 60 + (cleaned.get(minutes) or 0)
        if total < 1:
            self.add_error(hours, _("Give a target of at least one working minute."))
            return None
        return total

    def clean(self):
        cleaned = super().clean()
        first = self._total(cleaned, "first_hours", "first_minutes")
        resolution = self._total(cleaned, "resolution_hours", "resolution_minutes_part")
        if first and resolution and resolution < first:
            self.add_error("resolution_hours", _("Resolution cannot be due before the first response."))
        if first and resolution:
            self.instance.first_response_minutes, self.instance.resolution_minutes = first, resolution
        if not self.errors:
            # Before the model's constraints are checked: a field with an error is left out of them,
            # so the readable message naming the other policy is the only one shown.
            self.instance.priority, self.instance.category = cleaned.get("priority"), cleaned.get("category")
            self.instance.active = cleaned.get("active")
            other = configure.clashing_policy(self.instance)
            if other is not None:
                self.add_error("priority", configure.clash_message(other))
        return cleaned


class CalendarForm(forms.ModelForm):
    weekdays = forms.MultipleChoiceField(
        label=_("Weekdays worked"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WorkingCalendar
        fields = ["time_zone", "day_starts", "day_ends"]
        widgets = {
            "day_starts": forms.TimeInput(attrs={"type": "time"}),
            "day_ends": forms.TimeInput(attrs={"type": "time"}),
        }
        help_texts = {"time_zone": _("A time zone name, such as Asia/Shanghai.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("weekdays", list(self.instance.weekdays))

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                _("“%(name)s” is not a time zone; write one such as Asia/Shanghai.") % {"name": name}
            ) from None
        return name

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("day_starts"), cleaned.get("day_ends")
        if starts and ends and ends <= starts:
            self.add_error("day_ends", _("The working day must end after it starts."))
        return cleaned

    def save(self, commit=True):
        self.instance.weekdays = "".join(sorted(self.cleaned_data["weekdays"]))
        return super().save(commit=commit)


class HolidayForm(forms.ModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "name", "working"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"working": _("A weekend day worked instead (调休): tickets' clocks run on it.")}

    def validate_unique(self):
        """A date already in the list is refused by configure.add_holiday, naming the holiday there."""


class PasteHolidaysForm(forms.Form):
    lines = forms.CharField(
        label=_("Paste a year of holidays"),
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "2027-01-01 元旦\n2027-02-07 调休 working"}),
        help_text=_(
            "One day a line: the date, its name, and “working” at the end for a make-up working day. "
            "Every line is added, or none when any line is wrong."
        ),
    )
