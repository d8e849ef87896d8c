"""The ticket queues: mine, my teams', unassigned, overdue, waiting and (Managers) all; filters,
sort and search in the URL; rows with their due time and flags; Managers' bulk reassignment."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from service import operations
from service.models import Status, Ticket
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queue(user, query: str = "") -> str:
    response = client_for(user).get(reverse("service:queue") + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.content.decode()


def numbers_in(html: str, tickets) -> list[str]:
    """The numbers of ``tickets`` in the order the page lists them."""
    found = [(html.index(f">{t.number}</a>"), t.number) for t in tickets if f">{t.number}</a>" in html]
    return [number for _at, number in sorted(found)]


@pytest.fixture
def tickets(desk):
    now = timezone.now()
    past = now - dt.timedelta(days=3)
    return {
        "mine": TicketFactory(assignee=desk["agent"], team=desk["desk"], status="assigned", subject="我的单"),
        "colleague": TicketFactory(assignee=desk["colleague"], team=desk["desk"], status="in_progress"),
        "other_team": TicketFactory(assignee=desk["fixer"], team=desk["after_sales"], status="assigned"),
        "unassigned": TicketFactory(team=desk["after_sales"], status="new", channel="wechat"),
        "overdue": TicketFactory(
            assignee=desk["agent"], status="in_progress", resolution_due=past, first_response_at=past, priority="urgent"
        ),
        "waiting": TicketFactory(assignee=desk["agent"], status="waiting", resolution_due=past, paused_since=past),
        "closed": TicketFactory(assignee=desk["agent"], status="closed"),
    }


def test_my_queue_is_the_default_and_lists_my_open_tickets(desk, tickets):
    html = queue(desk["agent"])
    assert set(numbers_in(html, tickets.values())) == {tickets[k].number for k in ("mine", "overdue", "waiting")}


def test_the_team_queue_lists_the_open_tickets_of_my_teams(desk, tickets):
    html = queue(desk["agent"], "view=team")
    assert set(numbers_in(html, tickets.values())) == {tickets["mine"].number, tickets["colleague"].number}


def test_unassigned_overdue_and_waiting_queues(desk, tickets):
    assert numbers_in(queue(desk["agent"], "view=unassigned"), tickets.values()) == [tickets["unassigned"].number]
    assert numbers_in(queue(desk["agent"], "view=overdue"), tickets.values()) == [tickets["overdue"].number]
    assert numbers_in(queue(desk["agent"], "view=waiting"), tickets.values()) == [tickets["waiting"].number]


def test_rows_flag_overdue_tickets_and_paused_ones(desk, tickets):
    html = queue(desk["agent"])
    overdue_row = html[html.index(f">{tickets['overdue'].number}</a>") :].split("</tr>")[0]
    waiting_row = html[html.index(f">{tickets['waiting'].number}</a>") :].split("</tr>")[0]
    assert "Overdue" in overdue_row and "Paused" in waiting_row and "Overdue" not in waiting_row


def test_only_managers_have_the_all_view(desk, tickets):
    assert "view=all" not in queue(desk["agent"])
    staff_all = queue(desk["agent"], "view=all")  # not offered: falls back to my tickets
    assert tickets["closed"].number not in staff_all and tickets["mine"].number in staff_all
    manager_all = queue(desk["manager"], "view=all")
    assert set(numbers_in(manager_all, tickets.values())) == {t.number for t in tickets.values()}


def test_filters_narrow_the_queue_and_stay_in_the_url(desk, tickets):
    html = queue(desk["manager"], f"view=all&channel=wechat&team={desk['after_sales'].pk}")
    assert numbers_in(html, tickets.values()) == [tickets["unassigned"].number]
    assert 'value="wechat" selected' in html
    html = queue(desk["manager"], "view=all&assignee=nobody")
    assert numbers_in(html, tickets.values()) == [tickets["unassigned"].number]
    html = queue(desk["manager"], f"view=all&assignee={desk['fixer'].pk}&status=assigned")
    assert numbers_in(html, tickets.values()) == [tickets["other_team"].number]
    html = queue(desk["manager"], "view=all&priority=urgent")
    assert numbers_in(html, tickets.values()) == [tickets["overdue"].number]


def test_opened_dates_filter_in_the_local_calendar(desk, complaint):
    old = TicketFactory(created_at=timezone.now() - dt.timedelta(days=40))
    new = TicketFactory()
    today = timezone.localdate()
    html = queue(desk["manager"], f"view=all&opened_from={today - dt.timedelta(days=1)}&opened_to={today}")
    assert numbers_in(html, [old, new]) == [new.number]
    html = queue(desk["manager"], f"view=all&opened_to={today - dt.timedelta(days=30)}")
    assert numbers_in(html, [old, new]) == [old.number]


def test_bad_filter_values_are_ignored_never_a_500(desk, tickets):
    html = queue(desk["agent"], "view=nonsense&opened_from=yesterday&team=abc&assignee=999999&o=drop&page=x")
    assert set(numbers_in(html, tickets.values())) == {tickets[k].number for k in ("mine", "overdue", "waiting")}


def test_sorting_by_number_and_by_priority(desk):
    low = TicketFactory(number="S2026-000001", priority="low")
    urgent = TicketFactory(number="S2026-000002", priority="urgent")
    normal = TicketFactory(number="S2026-000003", priority="normal")
    assert numbers_in(queue(desk["manager"], "view=all&o=number"), [low, urgent, normal]) == [
        low.number, urgent.number, normal.number]  # fmt: skip
    assert numbers_in(queue(desk["manager"], "view=all&o=-priority"), [low, urgent, normal]) == [
        urgent.number, normal.number, low.number]  # fmt: skip


def test_search_by_ticket_number_or_its_digits_or_the_customer(desk):
    zhao = CustomerFactory(name="赵敏敏", customer_no="C000777", phone="+8613900001234")
    hers = TicketFactory(number=f"S{timezone.localdate().year}-000123", customer=zhao)
    other = TicketFactory(number=f"S{timezone.localdate().year}-000124")
    for q in (hers.number, hers.number.lower(), "123", "C000777", "赵敏敏", "1234"):
        assert numbers_in(queue(desk["manager"], f"view=all&q={q}"), [hers, other]) == [hers.number], q
    assert numbers_in(queue(desk["manager"], "view=all&q=nobody-like-this"), [hers, other]) == []


def test_a_cards_tickets_in_the_queue_for_staff_too(desk):
    hers = TicketFactory(customer=desk["card"], status="closed")
    other = TicketFactory()
    html = queue(desk["agent"], f"customer={desk['card'].pk}")
    assert numbers_in(html, [hers, other]) == [hers.number]


def test_the_queue_pages_without_counting(desk, django_assert_max_num_queries):
    for _ in range(30):
        TicketFactory(assignee=desk["agent"], status="assigned")
    client = client_for(desk["agent"])
    client.get(reverse("service:queue"))
    with django_assert_max_num_queries(8) as captured:
        html = client.get(reverse("service:queue")).content.decode()
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)
    assert "page=2" in html


def test_managers_bulk_reassign_the_ticked_tickets(desk, complaint):
    a, b = (TicketFactory(team=desk["desk"], status="new") for _ in range(2))
    client = client_for(desk["manager"])
    html = client.get(reverse("service:queue") + "?view=unassigned").content.decode()
    assert 'name="ids"' in html and ">Reassign</button>" in html
    data = {"ids": [a.pk, b.pk], "to": desk["fixer"].pk, "note": "售后处理", "query": "view=unassigned"}
    response = client.post(reverse("service:bulk_reassign"), data)
    assert response.status_code == 302 and response["Location"].endswith("?view=unassigned")
    for ticket in (a, b):
        ticket.refresh_from_db()
        assert ticket.assignee == desk["fixer"] and ticket.status == Status.ASSIGNED


def test_a_refused_ticket_leaves_every_ticked_ticket_as_it_was(desk):
    open_one = TicketFactory(status="new")
    closed = TicketFactory(status="closed")
    client = client_for(desk["manager"])
    response = client.post(reverse("service:bulk_reassign"), {"ids": [open_one.pk, closed.pk], "to": desk["fixer"].pk})
    assert response.status_code == 302
    assert Ticket.objects.filter(assignee__isnull=False).count() == 0
    html = client.get(response["Location"]).content.decode()
    assert (
        f"{closed.number}: This ticket is closed: it cannot be assigned. Reopen it first. Nothing was reassigned."
        in html
    )


def test_staff_have_no_bulk_reassignment(desk, tickets):
    html = queue(desk["agent"], "view=unassigned")
    assert 'name="ids"' not in html
    response = client_for(desk["agent"]).post(
        reverse("service:bulk_reassign"), {"ids": [tickets["unassigned"].pk], "to": desk["agent"].pk}
    )
    assert response.status_code == 403


def test_the_menu_links_to_the_tickets(desk):
    assert f'href="{reverse("service:queue")}">Tickets</a>' in queue(desk["agent"])


def test_a_ticket_opened_through_the_operation_shows_its_first_response_due_time(desk, complaint):
    ticket = operations.open_ticket(
        desk["card"], by=desk["agent"], subject="漏水", category=complaint, channel="phone", priority="high",
        assignee=desk["agent"],
    )  # fmt: skip
    row = queue(desk["agent"]).split(f">{ticket.number}</a>")[1].split("</tr>")[0]
    from django.utils import formats

    assert formats.date_format(timezone.localtime(ticket.first_response_due), "DATETIME_FORMAT") in row


def test_staff_filter_by_their_own_teams_and_managers_by_any(desk):
    staff_filter = queue(desk["agent"]).split('id="id_team"')[1].split("</select>")[0]
    assert "Service desk" in staff_filter and "After-sales" not in staff_filter
    manager_filter = queue(desk["manager"]).split('id="id_team"')[1].split("</select>")[0]
    assert "Service desk" in manager_filter and "After-sales" in manager_filter


def test_the_overdue_queue_holds_exactly_the_tickets_the_sla_rule_calls_overdue(desk):
    """Every mix of answered or not, each due time past, to come or unset, and each status: the queue's
    query (the next due time, as its index has it) agrees with ``sla.overdue`` row by row."""
    import itertools

    from service import queues, sla

    now = timezone.now()
    moments = (now - dt.timedelta(hours=2), now - dt.timedelta(hours=1), now + dt.timedelta(hours=1), None)
    for status, answered, response_due, resolution_due in itertools.product(
        ("new", "in_progress", "waiting", "resolved"), (None, now - dt.timedelta(hours=3)), moments, moments
    ):
        TicketFactory(status=status, first_response_at=answered, first_response_due=response_due,
                      resolution_due=resolution_due)  # fmt: skip
    expected = {ticket.pk for ticket in Ticket.objects.all() if sla.overdue(ticket, now)}
    assert 0 < len(expected) < Ticket.objects.count()
    assert set(queues.queue("overdue", desk["manager"], {}, now=now).values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_rows_write_times_as_djangos_date_format_does(language):
    """service/rows.py writes the dates itself (strftime) when the format allows: the same text."""
    from django.utils import translation
    from django.utils.formats import date_format

    from service import rows

    moments = [dt.datetime(2026, 1, 1, 0, 5, tzinfo=dt.UTC), dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC),
               dt.datetime(2026, 7, 9, 9, 30, 59, tzinfo=dt.UTC), timezone.now()]  # fmt: skip
    with translation.override(language):
        write = rows.moment_writer()
        assert write is rows._quick_when  # noqa: SLF001 (the fast path is the one in use)
        for moment in moments:
            assert write(moment) == date_format(timezone.localtime(moment), "DATETIME_FORMAT")
        assert write(None) == "—"
