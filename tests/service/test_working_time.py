"""The SLA clock counts working time only: across nights, weekends, public holidays and make-up
working days (调休), in the calendar's time zone, paused while the ticket waits for the customer."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from service import sla
from service.calendar import Calendar, current
from service.models import Holiday, Ticket, WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
# 2026-10-01 (Thursday) to 10-07 are the National Day holiday; Saturday 10-10 is a make-up working day.
NATIONAL_DAY = frozenset(dt.date(2026, 10, d) for d in range(1, 8))
CAL = Calendar(holidays=NATIONAL_DAY, working_days=frozenset({dt.date(2026, 10, 10)}))
HOUR = 60


def at(day, hour, minute=0, month=10):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH)


def test_within_one_working_day():
    assert CAL.add(at(12, 9), 2 * HOUR) == at(12, 11)  # Monday 9:00 + 2 h


def test_overnight_the_clock_stops_at_six_and_starts_at_nine():
    assert CAL.add(at(12, 17), 2 * HOUR) == at(13, 10)  # Monday 17:00 + 2 h = Tuesday 10:00


def test_before_opening_the_clock_starts_at_nine():
    assert CAL.add(at(12, 6, 30), 30) == at(12, 9, 30)


def test_across_a_weekend():
    assert CAL.add(at(16, 17), 2 * HOUR) == at(19, 10)  # Friday 17:00 → Monday 10:00


def test_across_a_public_holiday_and_onto_the_make_up_saturday():
    # Wednesday 30 September 17:00 + 2 h: 1 h that day, the holiday week off, Saturday 10 October is worked.
    assert CAL.add(at(30, 17, month=9), 2 * HOUR) == at(8, 10)  # Thursday 8 October is a working day again
    assert CAL.add(at(9, 17), 2 * HOUR) == at(10, 10)  # Friday 9th 17:00 → the make-up Saturday


def test_a_make_up_day_counts_and_a_holiday_does_not():
    assert CAL.is_working_day(dt.date(2026, 10, 10)) and not CAL.is_working_day(dt.date(2026, 10, 5))
    assert not CAL.is_working_day(dt.date(2026, 10, 11))  # an ordinary Sunday


def test_working_minutes_between_two_moments():
    assert CAL.between(at(16, 17), at(19, 10)) == 2 * HOUR
    assert CAL.between(at(30, 9, month=9), at(8, 9)) == 9 * HOUR  # one working day, then the holiday
    assert CAL.between(at(19, 10), at(19, 9)) == 0


def test_the_time_zone_is_the_calendars_not_the_servers():
    utc_evening = dt.datetime(2026, 10, 12, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai
    assert CAL.add(utc_evening, 2 * HOUR) == at(13, 10)


def test_another_working_week():
    six_days = Calendar(weekdays=frozenset({1, 2, 3, 4, 5, 6}), starts=dt.time(8), ends=dt.time(20))
    assert six_days.add(at(17, 19), 2 * HOUR) == at(19, 9)  # Saturday 19:00 → Monday 9:00 (Sunday off)


def test_a_calendar_without_working_days_is_refused():
    with pytest.raises(ValueError):
        Calendar(weekdays=frozenset()).add(at(12, 9), 1)


@pytest.mark.django_db
def test_the_desks_calendar_comes_from_the_database():
    WorkingCalendar.objects.update(day_starts=dt.time(8), day_ends=dt.time(17), weekdays="123456")
    Holiday.objects.create(date=dt.date(2026, 10, 1), name="国庆节")
    Holiday.objects.create(date=dt.date(2026, 10, 11), name="调休", working=True)
    calendar = current()
    assert calendar.add(at(30, 16, month=9), 2 * HOUR) == at(2, 9)  # 1 h on the 30th, the 1st off, 8:00 on the 2nd
    assert calendar.is_working_day(dt.date(2026, 10, 11))


def _ticket(opened, first=2 * HOUR, resolution=9 * HOUR):
    ticket = Ticket(created_at=opened, first_response_minutes=first, resolution_minutes=resolution)
    sla.recount(ticket, CAL)
    return ticket


def test_due_times_are_counted_from_the_opening_in_working_time():
    ticket = _ticket(at(30, 17, month=9))  # the eve of the National Day holiday
    assert ticket.first_response_due == at(8, 10)
    assert ticket.resolution_due == at(8, 17)  # 9 working hours: 1 on the 30th, 8 on the 8th


def test_waiting_for_the_customer_moves_the_resolution_due_time_by_the_working_time_waited():
    ticket = _ticket(at(12, 9))  # Monday 9:00, due Monday 18:00
    assert ticket.resolution_due == at(12, 18)
    sla.pause(ticket, at(12, 11))
    sla.end_pause(ticket, CAL, at(13, 11))  # waited 7 + 2 = 9 working hours, across a night
    assert ticket.paused_minutes == 9 * HOUR
    assert ticket.resolution_due == at(13, 18)
    assert ticket.first_response_due == at(12, 11)  # the first response does not pause


def test_a_pause_over_a_weekend_costs_only_the_working_hours():
    ticket = _ticket(at(16, 9))  # Friday
    sla.pause(ticket, at(16, 17))
    sla.end_pause(ticket, CAL, at(19, 10))  # Friday 17:00 → Monday 10:00: 2 working hours
    assert ticket.paused_minutes == 2 * HOUR
    assert ticket.resolution_due == at(19, 11)


def test_met_and_missed_targets():
    on_time = _ticket(at(12, 9))
    sla.responded(on_time, at(12, 10, 59))
    sla.resolved(on_time, CAL, at(12, 17))
    assert not on_time.first_response_breached and not on_time.resolution_breached and on_time.sla_met
    late = _ticket(at(12, 9))
    sla.resolved(late, CAL, at(13, 9, 1))  # resolving is also the first response, both late
    assert late.first_response_breached and late.resolution_breached and not late.sla_met


def test_resolving_while_waiting_ends_the_pause_first():
    ticket = _ticket(at(12, 9))
    sla.pause(ticket, at(12, 17))
    sla.resolved(ticket, CAL, at(14, 10))  # waited 1 + 9 + 1 = 11 h: due Wednesday 11:00
    assert ticket.paused_minutes == 11 * HOUR
    assert ticket.resolution_due == at(14, 11)
    assert not ticket.resolution_breached
