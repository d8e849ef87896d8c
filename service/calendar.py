"""Working time: the SLA clock runs only in working hours (service/models.py WorkingCalendar and
Holiday), in the calendar's time zone (Asia/Shanghai by default).

    calendar = current()                      # the desk's calendar, from the database
    calendar.add(opened_at, 8 * 60)           # the moment 8 working hours after opened_at
    calendar.between(paused_at, resumed_at)   # working minutes between two moments

A day is a working day when it is a make-up working day (调休), or else when it is not a public
holiday and its weekday is worked. Tests build a Calendar directly with fixed holidays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

# Searching for the next working day gives up after this many days (a calendar with no working day).
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "Asia/Shanghai"
    starts: dt.time = dt.time(9, 0)
    ends: dt.time = dt.time(18, 0)
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    working_days: frozenset[dt.date] = field(default_factory=frozenset)  # make-up working days

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working_days:
            return True
        return day not in self.holidays and day.isoweekday() in self.weekdays

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The working hours of ``day`` as two aware moments."""
        zone = self.zone
        return dt.datetime.combine(day, self.starts, zone), dt.datetime.combine(day, self.ends, zone)

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The moment ``minutes`` working minutes after ``start`` (0: the next working moment)."""
        local = start.astimezone(self.zone)
        day, remaining = local.date(), dt.timedelta(minutes=minutes)
        for _i in range(MAX_DAYS * 10):
            if self.is_working_day(day):
                opens, closes = self.window(day)
                begin = max(local, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += dt.timedelta(days=1)
        raise ValueError(_("The working calendar has no working day."))

    def between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working minutes from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
        if end <= start:
            return 0
        zone = self.zone
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        total = dt.timedelta()
        day = local_start.date()
        while day <= local_end.date():
            if self.is_working_day(day):
                opens, closes = self.window(day)
                begin, finish = max(opens, local_start), min(closes, local_end)
                if finish > begin:
                    total += finish - begin
            day += dt.timedelta(days=1)
        return int(total.total_seconds() // 60)


def current() -> Calendar:
    """The desk's calendar: the WorkingCalendar row (defaults when there is none) and every holiday."""
    from .models import Holiday, WorkingCalendar

    row = WorkingCalendar.objects.first() or WorkingCalendar()
    holidays, working = set(), set()
    for day, is_working in Holiday.objects.values_list("date", "working"):
        (working if is_working else holidays).add(day)
    return Calendar(
        time_zone=row.time_zone,
        starts=row.day_starts,
        ends=row.day_ends,
        weekdays=frozenset(int(d) for d in row.weekdays if d.isdigit()),
        holidays=frozenset(holidays),
        working_days=frozenset(working),
    )
