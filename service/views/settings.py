"""The service settings page (Admins): ticket categories, teams, SLA policies and the working calendar
with its holidays, and their add/edit forms. service/configure.py does the writing, checks and
audit; these views show the forms and put a refusal next to its field."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.models import Team
from crm.permissions import require

from .. import configure
from ..calendar import current
from ..configure_forms import CalendarForm, CategoryForm, HolidayForm, PasteHolidaysForm, SlaPolicyForm, TeamForm
from ..models import Category, Holiday, SlaPolicy, WorkingCalendar

PERMISSION = "service.configure_service"
TITLES = {
    "category": (gettext_lazy("New ticket category"), gettext_lazy("Edit ticket category")),
    "team": (gettext_lazy("New team"), gettext_lazy("Edit team")),
    "sla": (gettext_lazy("New SLA policy"), gettext_lazy("Edit SLA policy")),
}


def _back(anchor: str):
    return redirect(f"{reverse('service:settings')}#{anchor}")


def _calendar() -> WorkingCalendar:
    return WorkingCalendar.objects.first() or WorkingCalendar()


@require(PERMISSION)
def settings_page(request):
    calendar = _calendar()
    per_day = configure.day_minutes(calendar)
    policies = sorted(
        SlaPolicy.objects.select_related("category"),
        key=lambda p: (configure.PRIORITY_ORDER.get(p.priority, 9), p.category_id or 0),
    )
    for policy in policies:
        policy.words = configure.policy_words(policy, per_day)
    context = {
        "categories": Category.objects.all(),
        "teams": Team.objects.prefetch_related("members").order_by("-active", "name_en"),
        "policies": policies,
        "calendar": calendar,
        "weekdays": [
            label for code, label in CalendarForm.base_fields["weekdays"].choices if code in calendar.weekdays
        ],
        "holidays": Holiday.objects.order_by("date"),
    }
    return render(request, "service/settings.html", context)


def _saved(request, form, save) -> bool:
    """Save a valid form through its operation; a refusal goes next to its field."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save(form)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    messages.success(request, _("Saved."))
    return True


def _save_category(request, form):
    configure.save_category(form.save(commit=False), by=request.user, request=request)


def _save_team(request, form):
    configure.save_team(form.save(commit=False), form.cleaned_data["members"], by=request.user, request=request)


def _save_policy(request, form):
    configure.save_policy(form.save(commit=False), by=request.user, request=request)


# What the add and edit pages of each kind show and save: model, form, the settings page's anchor, save.
KINDS = {
    "category": (Category, CategoryForm, "categories", _save_category),
    "team": (Team, TeamForm, "teams", _save_team),
    "sla": (SlaPolicy, SlaPolicyForm, "sla", _save_policy),
}


@require(PERMISSION)
def setting_form(request, kind: str, pk: int | None = None):
    """Add (no ``pk``) or edit one ticket category, team or SLA policy (``kind``)."""
    model, form_class, anchor, save = KINDS[kind]
    form = form_class(request.POST or None, instance=get_object_or_404(model, pk=pk) if pk is not None else None)
    if _saved(request, form, lambda f: save(request, f)):
        return _back(anchor)
    context = {"form": form, "title": TITLES[kind][pk is not None], "back": anchor, "kind": kind}
    return render(request, "service/settings_form.html", context)


@require(PERMISSION)
def calendar(request):
    """The working week, the holidays with their add and delete, and pasting a year of holidays."""
    form = CalendarForm(request.POST or None, instance=_calendar())
    if _saved(request, form, lambda f: configure.save_calendar(f.save(commit=False), by=request.user, request=request)):
        return redirect("service:calendar")
    context = {
        "form": form,
        "holiday_form": HolidayForm(),
        "paste_form": PasteHolidaysForm(),
        "holidays": Holiday.objects.order_by("date"),
        "calendar": current(),
    }
    return render(request, "service/settings_calendar.html", context)


@require_POST
@require(PERMISSION)
def holiday_add(request):
    """One day from the small form, or many from the pasted lines (``lines``): all or nothing."""
    pasting = "lines" in request.POST
    form = PasteHolidaysForm(request.POST) if pasting else HolidayForm(request.POST)
    if form.is_valid():
        try:
            if pasting:
                added = configure.paste_holidays(form.cleaned_data["lines"], by=request.user, request=request)
                messages.success(request, configure.pasted_message(added))
            else:
                configure.add_holiday(form.save(commit=False), by=request.user, request=request)
                messages.success(request, _("Holiday added."))
            return redirect("service:calendar")
        except ValidationError as exc:
            form.add_error("lines" if pasting else None, exc)
    context = {"form": CalendarForm(instance=_calendar()), "holidays": Holiday.objects.order_by("date")}
    context.update(holiday_form=HolidayForm() if pasting else form, paste_form=form if pasting else PasteHolidaysForm())
    return render(request, "service/settings_calendar.html", context, status=200)


@require_POST
@require(PERMISSION)
def holiday_delete(request, pk: int):
    holiday = get_object_or_404(Holiday, pk=pk)
    configure.delete_holiday(holiday, by=request.user, request=request)
    messages.success(request, _("%(date)s %(name)s deleted.") % {"date": holiday.date, "name": holiday.name})
    return redirect("service:calendar")
