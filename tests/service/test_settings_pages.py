"""The service settings page (Admins): categories, teams, SLA policies, the working calendar and holidays."""

import datetime as dt

import pytest
from django.urls import reverse

from crm.models import AuditEntry, Team
from service import operations
from service.models import Category, Holiday, SlaPolicy, WorkingCalendar
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_page_shows_every_section_bilingual_and_the_policies_in_words(admin_client):
    html = admin_client.get(reverse("service:settings")).content.decode()

    assert "Complaint" in html and "投诉" in html
    assert "High · any category: first response within 2 working hours, resolution within 2 working days (18 h)" in html
    assert "Urgent · any category: first response within 1 working hour, resolution within 1 working day (9 h)" in html
    assert "does not move the due times of tickets already open" in html
    assert "Asia/Shanghai" in html and "09:00–18:00" in html
    assert "Monday, Tuesday, Wednesday, Thursday, Friday" in html


def test_the_menu_shows_service_settings_to_admins_only(admin_client, manager_client):
    assert reverse("service:settings") in admin_client.get(reverse("customers:search")).content.decode()
    assert reverse("service:settings") not in manager_client.get(reverse("customers:search")).content.decode()


# --- Categories ---------------------------------------------------------------------------------


def test_an_admin_adds_a_category_and_it_is_audited(admin_client, admin_user):
    data = {"key": "parts", "label_en": "Spare parts", "label_zh": "配件", "position": "70", "active": "on"}

    response = admin_client.post(reverse("service:category_add"), data)

    assert response.status_code == 302
    category = Category.objects.get(key="parts")
    assert (category.label_en, category.label_zh, category.position) == ("Spare parts", "配件", 70)
    entry = AuditEntry.objects.get(action="service.category_add")
    assert entry.actor == admin_user and entry.changes["label_zh"] == [None, "配件"]


def test_a_category_key_is_fixed_once_created_and_retiring_keeps_its_tickets(admin_client, complaint):
    url = reverse("service:category_edit", args=[complaint.pk])

    admin_client.post(url, {"key": "renamed", "label_en": "Complaint", "label_zh": "投诉", "position": "10"})

    complaint.refresh_from_db()
    assert complaint.key == "complaint" and complaint.active is False
    entry = AuditEntry.objects.get(action="service.category_change")
    assert entry.changes["active"] == [True, False] and "key" not in entry.changes
    assert "Retired" in admin_client.get(reverse("service:settings")).content.decode()


def test_a_duplicate_category_key_is_refused_next_to_the_field(admin_client):
    page = admin_client.post(
        reverse("service:category_add"), {"key": "complaint", "label_en": "Again", "label_zh": "再", "position": "1"}
    )

    assert page.status_code == 200
    assert page.context["form"].errors["key"]


# --- Teams --------------------------------------------------------------------------------------


def test_an_admin_adds_a_team_with_members_and_changes_them(admin_client):
    amy, bo = UserFactory(username="amy", role="Staff"), UserFactory(username="bo", role="Staff")
    admin_client.post(
        reverse("service:team_add"), {"name_en": "Billing", "name_zh": "财务", "members": [amy.pk], "active": "on"}
    )
    team = Team.objects.get(name_en="Billing")
    assert list(team.members.all()) == [amy]

    admin_client.post(
        reverse("service:team_edit", args=[team.pk]),
        {"name_en": "Billing", "name_zh": "财务部", "members": [bo.pk], "active": "on"},
    )

    team.refresh_from_db()
    assert team.name_zh == "财务部" and list(team.members.all()) == [bo]
    entry = AuditEntry.objects.get(action="service.team_change")
    assert entry.changes == {"name_zh": ["财务", "财务部"], "members": ["amy", "bo"]}


# --- SLA policies -------------------------------------------------------------------------------


def test_targets_are_typed_in_working_hours_and_minutes_and_stored_in_minutes(admin_client, complaint):
    data = {
        "priority": "urgent",
        "category": complaint.pk,
        "first_hours": "0",
        "first_minutes": "30",
        "resolution_hours": "4",
        "resolution_minutes_part": "15",
        "active": "on",
    }

    assert admin_client.post(reverse("service:sla_add"), data).status_code == 302

    policy = SlaPolicy.objects.get(priority="urgent", category=complaint)
    assert (policy.first_response_minutes, policy.resolution_minutes) == (30, 255)
    assert AuditEntry.objects.get(action="service.sla_add").changes["resolution_minutes"] == [None, 255]
    html = admin_client.get(reverse("service:settings")).content.decode()
    assert "Urgent · Complaint: first response within 30 working minutes, resolution within 4 h 15 min" in html


def test_a_second_active_policy_for_the_same_priority_is_refused_in_words(admin_client):
    data = {"priority": "high", "first_hours": "1", "resolution_hours": "8", "active": "on"}

    page = admin_client.post(reverse("service:sla_add"), data)

    assert page.status_code == 200
    assert page.context["form"].errors["priority"] == [
        "There is already an active policy for High · any category; change that one, or make it inactive first."
    ]
    assert SlaPolicy.objects.filter(priority="high").count() == 1


def test_a_target_of_nothing_is_refused(admin_client):
    page = admin_client.post(reverse("service:sla_add"), {"priority": "high", "resolution_hours": "8"})

    assert page.context["form"].errors["first_hours"] == ["Give a target of at least one working minute."]


def test_changing_a_policy_does_not_move_an_open_tickets_due_times(admin_client, desk, complaint):
    ticket = operations.open_ticket(
        desk["card"], by=desk["agent"], subject="Late", category=complaint, channel="phone", priority="high"
    )
    due = ticket.resolution_due
    policy = SlaPolicy.objects.get(priority="high", category__isnull=True, active=True)

    admin_client.post(
        reverse("service:sla_edit", args=[policy.pk]),
        {"priority": "high", "first_hours": "1", "resolution_hours": "3", "active": "on"},
    )

    policy.refresh_from_db()
    assert policy.resolution_minutes == 180
    ticket.refresh_from_db()
    assert ticket.resolution_due == due and ticket.resolution_minutes == 18 * 60


# --- The working calendar and holidays ------------------------------------------------------------


def test_the_calendar_refuses_an_unknown_time_zone_and_a_day_that_ends_before_it_starts(admin_client):
    data = {"time_zone": "Asia/Beijing", "day_starts": "18:00", "day_ends": "09:00", "weekdays": ["1"]}

    page = admin_client.post(reverse("service:calendar"), data)

    errors = page.context["form"].errors
    assert errors["time_zone"] == ["“Asia/Beijing” is not a time zone; write one such as Asia/Shanghai."]
    assert errors["day_ends"] == ["The working day must end after it starts."]
    assert WorkingCalendar.objects.get().time_zone == "Asia/Shanghai"


def test_the_calendar_saves_the_week_and_is_audited(admin_client):
    data = {"time_zone": "Asia/Hong_Kong", "day_starts": "08:30", "day_ends": "17:30", "weekdays": ["1", "2", "3", "6"]}

    assert admin_client.post(reverse("service:calendar"), data).status_code == 302

    calendar = WorkingCalendar.objects.get()
    assert (calendar.time_zone, calendar.day_starts, calendar.weekdays) == ("Asia/Hong_Kong", dt.time(8, 30), "1236")
    changes = AuditEntry.objects.get(action="service.calendar_change").changes
    assert changes["weekdays"] == ["12345", "1236"] and changes["day_starts"] == ["09:00", "08:30"]


def test_a_holiday_is_added_refused_twice_and_deleted(admin_client):
    url = reverse("service:holiday_add")
    admin_client.post(url, {"date": "2027-10-01", "name": "国庆节"})
    holiday = Holiday.objects.get(date=dt.date(2027, 10, 1))

    page = admin_client.post(url, {"date": "2027-10-01", "name": "Again"})
    assert "2027-10-01 is already in the list (国庆节)." in page.content.decode()

    admin_client.post(reverse("service:holiday_delete", args=[holiday.pk]))
    assert not Holiday.objects.exists()
    assert AuditEntry.objects.filter(action__in=["service.holiday_add", "service.holiday_delete"]).count() == 2


def test_pasting_a_year_adds_every_day_with_make_up_working_days(admin_client):
    lines = "2027-01-01 元旦\n\n2027-02-06 春节\n2027-02-07 调休 working\n"

    response = admin_client.post(reverse("service:holiday_add"), {"lines": lines})

    assert response.status_code == 302
    assert list(Holiday.objects.values_list("date", "name", "working")) == [
        (dt.date(2027, 1, 1), "元旦", False),
        (dt.date(2027, 2, 6), "春节", False),
        (dt.date(2027, 2, 7), "调休", True),
    ]
    assert len(AuditEntry.objects.get(action="service.holiday_add").data["holidays"]) == 3


def test_a_pasted_year_with_bad_lines_adds_nothing_and_names_each_line(admin_client):
    Holiday.objects.create(date=dt.date(2027, 5, 1), name="劳动节")
    lines = "2027-01-01 元旦\n2027-13-01 坏日子\n2027-05-01 劳动节\n2027-01-01 又是元旦\n2027-06-01\n"

    page = admin_client.post(reverse("service:holiday_add"), {"lines": lines})

    assert page.status_code == 200
    assert page.context["paste_form"].errors["lines"] == [
        "Line 2: “2027-13-01” is not a date; write it as 2027-01-01.",
        "Line 3: 2027-05-01 is already in the list (劳动节).",
        "Line 4: 2027-01-01 is also on line 1.",
        "Line 5: give the day a name after the date.",
    ]
    assert Holiday.objects.count() == 1


def test_staff_and_managers_cannot_change_the_settings(staff_client, manager_client):
    for client in (staff_client, manager_client):
        assert client.post(reverse("service:holiday_add"), {"date": "2027-10-01", "name": "x"}).status_code == 403
    assert not Holiday.objects.exists()
