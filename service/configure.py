"""The service settings Admins change (service:settings): ticket categories, teams, SLA policies and
the working calendar with its holidays. Each change is one function: atomic, checked, audited with
its old → new values (``service.<thing>_<add|change|delete>``, put into words by
service/configure_history.py), so the settings page's views only show forms and put refusals next
to their fields.

    save_category(category, *, by, request=None)          # add or change; categories are retired, never deleted
    save_team(team, members, *, by, request=None)
    save_policy(policy, *, by, request=None)              # one active policy per priority and category
    save_calendar(calendar, *, by, request=None)
    add_holiday(holiday, *, by, request=None) / delete_holiday(holiday, *, by, request=None)
    paste_holidays(text, *, by, request=None) -> list[Holiday]   # "2027-01-01 元旦" per line, all or nothing

A changed SLA policy applies to tickets opened afterwards: a ticket keeps the targets it was
opened with (service/sla.py), so changing a policy never moves an old ticket's due times.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm import audit
from crm.models import Team

from .models import Category, Holiday, Priority, SlaPolicy, WorkingCalendar

CATEGORY_FIELDS = ("key", "label_en", "label_zh", "position", "active")
POLICY_FIELDS = ("priority", "category", "first_response_minutes", "resolution_minutes", "active")
CALENDAR_FIELDS = ("time_zone", "day_starts", "day_ends", "weekdays")
MAX_PASTED_LINES = 400
WORKING_WORDS = {"working", "work", "上班", "调休上班", "补班"}


def _values(obj, fields) -> dict[str, Any]:
    values = {}
    for name in fields:
        value = getattr(obj, name, None)
        if name == "category":
            value = value.key if value is not None else ""
        elif name == "manager":
            value = value.get_username() if value is not None else ""
        elif isinstance(value, dt.time):
            value = value.strftime("%H:%M")
        values[name] = value
    return values


def _before(model, pk, fields) -> dict[str, Any]:
    if pk is None:
        return {}
    old = model.objects.filter(pk=pk).first()
    return _values(old, fields) if old is not None else {}


def _record(action, obj, before, after, *, by, request, summary="", data=None) -> None:
    audit.record(
        action,
        actor=by,
        request=request,
        obj=obj,
        summary=summary or str(obj),
        changes=audit.diff(before, after),
        data=data or {},
    )


def save_category(category: Category, *, by, request=None) -> Category:
    """Add a category, or change its labels, order or whether it is active (its key stays)."""
    with transaction.atomic():
        adding = category.pk is None
        before = _before(Category, category.pk, CATEGORY_FIELDS)
        if not adding and before.get("key") != category.key:
            raise ValidationError({"key": _("A category's key cannot change once it exists.")}, code="key")
        _save(category, {"key": _("A category with this key already exists.")})
        action = "service.category_add" if adding else "service.category_change"
        _record(action, category, before, _values(category, CATEGORY_FIELDS), by=by, request=request)
        return category


def save_team(team: Team, members, *, by, request=None) -> Team:
    """Add or change a team and set its members (users)."""
    with transaction.atomic():
        adding = team.pk is None
        before = _before(Team, team.pk, ("name_en", "name_zh", "manager", "active"))
        old_members = sorted(team.members.values_list("username", flat=True)) if not adding else []
        _save(team, {"name_en": _("A team with this English name already exists.")})
        team.members.set(members)
        after = {
            **_values(team, ("name_en", "name_zh", "manager", "active")),
            "members": sorted(u.username for u in members),
        }
        before["members"] = old_members
        action = "service.team_add" if adding else "service.team_change"
        _record(action, team, before, after, by=by, request=request, summary=team.name_en)
        return team


def clashing_policy(policy: SlaPolicy) -> SlaPolicy | None:
    """The other active policy for the same priority and category, if any (only one may be active)."""
    if not policy.active:
        return None
    others = SlaPolicy.objects.filter(priority=policy.priority, category_id=policy.category_id, active=True)
    return others.exclude(pk=policy.pk).first()


def clash_message(other: SlaPolicy) -> str:
    return _("There is already an active policy for %(policy)s; change that one, or make it inactive first.") % {
        "policy": str(other)
    }


def save_policy(policy: SlaPolicy, *, by, request=None) -> SlaPolicy:
    """Add or change an SLA policy; a second active policy for the same priority and category is refused."""
    with transaction.atomic():
        adding = policy.pk is None
        before = _before(SlaPolicy, policy.pk, POLICY_FIELDS)
        other = clashing_policy(policy)
        if other is not None:
            raise ValidationError({"priority": clash_message(other)}, code="clash")
        _save(policy, {"priority": _("There is already an active policy for this priority and category.")})
        action = "service.sla_add" if adding else "service.sla_change"
        _record(action, policy, before, _values(policy, POLICY_FIELDS), by=by, request=request)
        return policy


def save_calendar(calendar: WorkingCalendar, *, by, request=None) -> WorkingCalendar:
    with transaction.atomic():
        before = _before(WorkingCalendar, calendar.pk, CALENDAR_FIELDS)
        calendar.save()
        _record("service.calendar_change", calendar, before, _values(calendar, CALENDAR_FIELDS), by=by, request=request)
        return calendar


def add_holiday(holiday: Holiday, *, by, request=None) -> Holiday:
    with transaction.atomic():
        other = Holiday.objects.filter(date=holiday.date).first()
        if other is not None:
            raise ValidationError({"date": _("%(date)s is already in the list (%(name)s).") % _named(other)})
        _save(holiday, {"date": _("This date is already in the list.")})
        _record_holidays("service.holiday_add", [holiday], by=by, request=request)
        return holiday


def delete_holiday(holiday: Holiday, *, by, request=None) -> None:
    with transaction.atomic():
        Holiday.objects.filter(pk=holiday.pk).delete()
        _record_holidays("service.holiday_delete", [holiday], by=by, request=request)


def parse_holidays(text: str) -> list[Holiday]:
    """Lines of "DATE NAME [working]" as unsaved holidays; ValidationError listing every bad line."""
    holidays, errors, seen = [], [], {}
    lines = (text or "").splitlines()
    if len([line for line in lines if line.strip()]) > MAX_PASTED_LINES:
        raise ValidationError(_("Paste at most %(count)d lines at a time.") % {"count": MAX_PASTED_LINES})
    existing = dict(Holiday.objects.values_list("date", "name"))
    for number, line in enumerate(lines, start=1):
        words = line.split()
        if not words:
            continue
        problem, holiday = _parse_line(words)
        if holiday is not None and holiday.date in seen:
            problem = _("%(date)s is also on line %(line)d.") % {"date": holiday.date, "line": seen[holiday.date]}
        elif holiday is not None and holiday.date in existing:
            problem = _("%(date)s is already in the list (%(name)s).") % {
                "date": holiday.date,
                "name": existing[holiday.date],
            }
        if problem:
            errors.append(_("Line %(line)d: %(problem)s") % {"line": number, "problem": problem})
        else:
            seen[holiday.date] = number
            holidays.append(holiday)
    if errors:
        raise ValidationError(errors)
    if not holidays:
        raise ValidationError(_("Paste at least one line, such as “2027-01-01 元旦”."))
    return holidays


def _parse_line(words: list[str]) -> tuple[str, Holiday | None]:
    try:
        day = dt.date.fromisoformat(words[0])
    except ValueError:
        return _("“%(value)s” is not a date; write it as 2027-01-01.") % {"value": words[0]}, None
    working = len(words) > 2 and words[-1].lower() in WORKING_WORDS
    name = " ".join(words[1:-1] if working else words[1:]).strip()
    if not name:
        return _("give the day a name after the date."), None
    if len(name) > Holiday._meta.get_field("name").max_length:
        return _("the name is too long."), None
    return "", Holiday(date=day, name=name, working=working)


def paste_holidays(text: str, *, by, request=None) -> list[Holiday]:
    """Add every pasted line's holiday, or none when any line is wrong (each named by its number)."""
    holidays = parse_holidays(text)
    with transaction.atomic():
        try:
            with transaction.atomic():
                Holiday.objects.bulk_create(holidays)
        except IntegrityError as exc:
            raise ValidationError(_("Someone added some of these dates at the same moment; paste again.")) from exc
        _record_holidays("service.holiday_add", holidays, by=by, request=request)
    return holidays


def pasted_message(holidays: list[Holiday]) -> str:
    return ngettext("%(count)d day added.", "%(count)d days added.", len(holidays)) % {"count": len(holidays)}


def _record_holidays(action: str, holidays: list[Holiday], *, by, request) -> None:
    days = [{"date": h.date.isoformat(), "name": h.name, "working": h.working} for h in holidays]
    audit.record(
        action,
        actor=by,
        request=request,
        object_type="holiday",
        object_id=holidays[0].pk or "" if len(holidays) == 1 else "",
        summary=", ".join(f"{d['date']} {d['name']}" for d in days[:10]) + (" …" if len(days) > 10 else ""),
        data={"holidays": days},
    )


def _named(holiday: Holiday) -> dict:
    return {"date": holiday.date, "name": holiday.name}


def _save(obj, unique_messages: dict) -> None:
    """Save, turning a unique constraint lost to a concurrent change into a refusal next to its field."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError(unique_messages, code="unique") from exc


PRIORITY_ORDER = {value: index for index, value in enumerate(Priority.values)}


def day_minutes(calendar: WorkingCalendar) -> int:
    """The working minutes of one working day of ``calendar``."""
    start = calendar.day_starts.hour * 60 + calendar.day_starts.minute
    end = calendar.day_ends.hour * 60 + calendar.day_ends.minute
    return max(end - start, 1)


def duration_words(minutes: int, per_day: int) -> str:
    """Working time in words: "2 working hours", "2 working days (18 h)", "90 working minutes"."""
    if minutes >= per_day and minutes % per_day == 0:
        days = minutes // per_day
        hours = f"{minutes / 60:g}"
        return ngettext("%(days)d working day (%(hours)s h)", "%(days)d working days (%(hours)s h)", days) % {
            "days": days,
            "hours": hours,
        }
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(hours)d working hour", "%(hours)d working hours", hours) % {"hours": hours}
    if minutes > 60:
        return _("%(hours)d h %(minutes)d min of working time") % {"hours": minutes // 60, "minutes": minutes % 60}
    return ngettext("%(minutes)d working minute", "%(minutes)d working minutes", minutes) % {"minutes": minutes}


def policy_words(policy: SlaPolicy, per_day: int) -> str:
    """ "High · any category: first response within 2 working hours, resolution within 2 working days (18 h)"."""
    return _("%(policy)s: first response within %(first)s, resolution within %(resolution)s") % {
        "policy": str(policy),
        "first": duration_words(policy.first_response_minutes, per_day),
        "resolution": duration_words(policy.resolution_minutes, per_day),
    }
