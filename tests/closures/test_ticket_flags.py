"""Each ticket's "card closed within 90 days after it opened" flag (Ticket.closed_within_90, read by
the churn-after-service figures) equals a recount from the closures after every write that can
change it: a closure (single, bulk, approved, imported from the past), void and archive (which do
not count), a reinstatement, a back-dated ticket opened or imported, tickets moved or merged."""

import datetime as dt
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from closures import bulk, operations
from closures.imports import import_history
from closures.models import Closure, ClosureSettings
from closures.rules import ClosureChoice
from customers.imports import read_rows
from service import operations as tickets
from service.import_tickets import import_tickets
from service.models import Category, Ticket
from tests.factories import CustomerFactory, TicketFactory, UserFactory

from .history_files import csv_bytes
from .steps import reason

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def recount() -> dict[int, bool]:
    """The flag of every ticket, from the closure rows."""
    closures = list(Closure.objects.filter(action="close", reverted_at__isnull=True))
    return {
        t.pk: any(
            c.customer_id == t.customer_id and t.created_at <= c.performed_at < t.created_at + timedelta(days=90)
            for c in closures
        )
        for t in Ticket.objects.all()
    }


def stored() -> dict[int, bool]:
    return dict(Ticket.objects.values_list("pk", "closed_within_90"))


def ago(days: int) -> dt.datetime:
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def card(db):
    """A card with tickets opened 120, 60 and 1 days ago."""
    customer = CustomerFactory()
    for days in (120, 60, 1):
        TicketFactory(customer=customer, created_at=ago(days))
    return customer


def flags(customer) -> list[bool]:
    return list(
        Ticket.objects.filter(customer=customer).order_by("created_at").values_list("closed_within_90", flat=True)
    )


def test_closing_a_card_flags_its_tickets_of_the_90_days_before_and_no_others(card, manager_user):
    bystander = TicketFactory(created_at=ago(5))

    operations.close_customer(card, ClosureChoice("close", reason("price")), by=manager_user)

    assert flags(card) == [False, True, True]
    assert not Ticket.objects.get(pk=bystander.pk).closed_within_90
    assert stored() == recount()


@pytest.mark.parametrize("action, code", [("void", "wrong-information"), ("archive", "long-inactive")])
def test_voiding_or_archiving_is_not_a_closure_of_the_card(card, manager_user, action, code):
    operations.close_customer(card, ClosureChoice(action, reason(code)), by=manager_user)

    assert flags(card) == [False, False, False]
    assert stored() == recount()


def test_reinstating_clears_the_flag_and_closing_again_sets_it(card, manager_user):
    operations.close_customer(card, ClosureChoice("close", reason("price")), by=manager_user)
    operations.reinstate(card, by=manager_user, note="误操作")

    assert flags(card) == [False, False, False]
    assert stored() == recount()

    operations.close_customer(card, ClosureChoice("close", reason("price")), by=manager_user)
    assert flags(card) == [False, True, True]


def test_a_bulk_closure_and_an_approved_request_flag_their_cards(card, manager_user, staff_user):
    other = CustomerFactory()
    TicketFactory(customer=other, created_at=ago(10))
    bulk.bulk_close([card.pk, other.pk], ClosureChoice("close", reason("price")), by=manager_user)
    assert flags(card) == [False, True, True] and flags(other) == [True]

    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    third = CustomerFactory()
    TicketFactory(customer=third, created_at=ago(89))
    pending = operations.request_closure(third, ClosureChoice("close", reason("price")), by=staff_user)
    assert flags(third) == [False]  # a request closes nothing
    operations.approve(pending, by=manager_user)
    assert flags(third) == [True]
    assert stored() == recount()


def test_imported_past_closures_flag_the_tickets_of_the_90_days_before_them(admin_user):
    card = CustomerFactory(customer_no="H1", customer_since=dt.date(2018, 1, 1))
    voided = CustomerFactory(customer_no="H2", customer_since=dt.date(2018, 1, 1))
    for customer in (card, voided):
        TicketFactory(customer=customer, created_at=dt.datetime(2021, 2, 1, tzinfo=SHANGHAI))
        TicketFactory(customer=customer, created_at=dt.datetime(2020, 11, 1, tzinfo=SHANGHAI))
    UserFactory(username="li01", role="Staff")
    data = csv_bytes(
        ["H1", "close", "price", "2021-03-05", "", "li01"],
        ["H2", "void", "wrong-information", "2021-03-05", "", "li01"],
    )

    report = import_history(lambda: read_rows(io.BytesIO(data), "h.csv"), "h.csv", user=admin_user, commit=True)

    assert report.written
    assert flags(card) == [False, True] and flags(voided) == [False, False]
    assert stored() == recount()


def test_a_back_dated_ticket_opened_before_a_closure_is_flagged(manager_user, staff_user):
    card = CustomerFactory()
    operations.close_customer(card, ClosureChoice("close", reason("price")), by=manager_user)
    complaint = Category.objects.get_or_create(key="complaint", defaults={"label_en": "Complaint"})[0]

    def open_at(when):
        values = {"subject": "旧单", "channel": "phone", "priority": "normal", "category": complaint}
        return tickets.open_ticket(card, by=staff_user, created_at=when, **values)

    assert open_at(ago(30)).closed_within_90  # the closure came 30 days after it
    assert not open_at(ago(91)).closed_within_90
    assert stored() == recount()


def test_imported_tickets_from_before_a_closure_are_flagged(manager_user, admin_user):
    card = CustomerFactory(customer_no="C000301")
    Category.objects.get_or_create(key="complaint", defaults={"label_en": "Complaint"})
    operations.close_customer(card, ClosureChoice("close", reason("price")), by=manager_user)
    opened = [timezone.localtime(ago(days), SHANGHAI).strftime("%Y-%m-%d %H:%M") for days in (20, 200)]
    content = "customer_no,category,priority,subject,opened_at\n" + "".join(
        f"C000301,complaint,normal,Old {n},{at}\n" for n, at in enumerate(opened)
    )

    report = import_tickets(
        lambda: read_rows(io.BytesIO(content.encode()), "t.csv"), "t.csv", user=admin_user, commit=True
    )

    assert report.ok, report.problems
    assert dict(Ticket.objects.values_list("subject", "closed_within_90")) == {"Old 0": True, "Old 1": False}
    assert stored() == recount()


def test_moved_tickets_take_the_closures_of_the_card_they_move_to(card, manager_user):
    operations.close_customer(card, ClosureChoice("close", reason("price")), by=manager_user)
    active = CustomerFactory()
    TicketFactory(customer=active, created_at=ago(3))

    tickets.move_tickets(card, active, by=manager_user)  # off the closed card: no closure follows them
    assert flags(active) == [False, False, False, False]
    assert stored() == recount()

    tickets.move_tickets(active, card, by=manager_user)  # back onto it
    assert flags(card) == [False, True, True, True]
    assert stored() == recount()


def test_a_merge_moves_the_duplicates_tickets_with_their_flags_recounted(card, manager_user):
    survivor = CustomerFactory()
    TicketFactory(customer=survivor, created_at=ago(2))
    duplicate = ClosureChoice("void", reason("duplicate"), duplicate_of=survivor.pk, merge=True)

    operations.close_customer(card, duplicate, by=manager_user)
    operations.close_customer(survivor, ClosureChoice("close", reason("price")), by=manager_user)

    assert Ticket.objects.filter(customer=survivor).count() == 4
    assert flags(survivor) == [False, True, True, True]
    assert stored() == recount()
