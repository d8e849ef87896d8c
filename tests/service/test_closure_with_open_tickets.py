"""Closing a card that has open tickets: the impact page lists them and asks what happens to them;
voiding a duplicate (and merging it) moves every ticket to the surviving card."""

import time

import pytest

from closures import bulk, operations
from closures.models import ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from crm.audit_display import describe
from crm.models import AuditEntry
from customers import merge
from customers.models import Customer
from service import operations as tickets
from service.models import Status, Step, Ticket
from tests.closures.steps import confirm, messages_of, preview, reason, token_of
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_with_tickets(desk, complaint):
    """赵敏's card with two open tickets (one the colleague's) and one already resolved."""
    card, agent, colleague = desk["card"], desk["agent"], desk["colleague"]
    mine = tickets.open_ticket(
        card, by=agent, subject="Broken kettle", category=complaint, channel="phone", priority="normal", assignee=agent
    )
    theirs = tickets.open_ticket(
        card, by=agent, subject="Refund late", category=complaint, channel="phone", priority="high", assignee=colleague
    )
    done = tickets.open_ticket(
        card, by=agent, subject="Old question", category=complaint, channel="web", priority="low"
    )
    tickets.resolve(done, by=agent, note="Answered")
    return card, mine, theirs, done


def test_the_impact_page_lists_the_open_tickets_and_asks_what_happens_to_them(client, card_with_tickets):
    card, mine, theirs, done = card_with_tickets
    client.force_login(UserFactory(username="closer", role="Staff"))

    page = preview(client, card, "close", reason=reason("service"))

    html = page.content.decode()
    assert "2 open tickets" in html
    for ticket in (mine, theirs):
        assert ticket.number in html and ticket.subject in html
    assert "colleague" in html and "Assigned" in html
    assert done.number not in html
    assert "Resolve them with a note" in html and "Cancel them" in html and "Keep them open for the record" in html


def test_confirming_without_a_choice_is_refused_next_to_the_field(client, card_with_tickets):
    card = card_with_tickets[0]
    client.force_login(UserFactory(username="closer", role="Staff"))
    token = token_of(preview(client, card, "close", reason=reason("service")))

    page = confirm(client, card, "close", token)

    assert page.status_code == 200
    assert page.context["form"].errors["open_tickets"] == ["Choose what happens to the card's open tickets."]
    card.refresh_from_db()
    assert card.status == Customer.Status.ACTIVE


def test_resolving_needs_a_note(client, card_with_tickets):
    card = card_with_tickets[0]
    client.force_login(UserFactory(username="closer", role="Staff"))
    token = token_of(preview(client, card, "close", reason=reason("service")))

    page = confirm(client, card, "close", token, open_tickets="resolve", tickets_note=" ")

    assert page.context["form"].errors["tickets_note"] == ["Write the note the tickets are resolved or cancelled with."]


def test_resolving_them_resolves_even_someone_elses_ticket_and_audits_the_choice(client, card_with_tickets):
    card, mine, theirs, done = card_with_tickets
    closer = UserFactory(username="closer", role="Staff")
    client.force_login(closer)
    token = token_of(preview(client, card, "close", reason=reason("service")))

    confirm(client, card, "close", token, open_tickets="resolve", tickets_note="Customer left us")

    card.refresh_from_db()
    assert card.status == Customer.Status.CLOSED
    for ticket in (mine, theirs):
        ticket.refresh_from_db()
        assert ticket.status == Status.RESOLVED and ticket.resolved_at is not None
        step = ticket.steps.get(new_status=Status.RESOLVED)
        assert step.by == closer
        assert step.content == f"Card {card.customer_no} was closed: Customer left us"
    entry = AuditEntry.objects.get(action="closure.close", customer_id=card.pk)
    assert entry.data["tickets"] == {
        "choice": "resolve",
        "numbers": [mine.number, theirs.number],
        "note": "Customer left us",
    }


def test_cancelling_them(client, card_with_tickets):
    card, mine, theirs, _done = card_with_tickets
    client.force_login(UserFactory(username="closer", role="Staff"))
    token = token_of(preview(client, card, "close", reason=reason("service")))

    confirm(client, card, "close", token, open_tickets="cancel", tickets_note="Card closed")

    assert set(Ticket.objects.filter(pk__in=[mine.pk, theirs.pk]).values_list("status", flat=True)) == {"cancelled"}
    assert AuditEntry.objects.get(action="closure.close").data["tickets"]["choice"] == "cancel"


def test_keeping_them_open_for_the_record(client, card_with_tickets):
    card, mine, theirs, _done = card_with_tickets
    client.force_login(UserFactory(username="closer", role="Staff"))
    token = token_of(preview(client, card, "close", reason=reason("service")))

    confirm(client, card, "close", token, open_tickets="keep")

    card.refresh_from_db()
    assert card.status == Customer.Status.CLOSED
    assert list(Ticket.objects.filter(pk__in=[mine.pk, theirs.pk]).values_list("status", flat=True)) == [
        "assigned",
        "assigned",
    ]
    assert AuditEntry.objects.get(action="closure.close").data["tickets"]["choice"] == "keep"


def test_a_ticket_opened_between_preview_and_confirm_refuses_the_closure(client, card_with_tickets, desk, complaint):
    card = card_with_tickets[0]
    client.force_login(UserFactory(username="closer", role="Staff"))
    token = token_of(preview(client, card, "close", reason=reason("service")))
    tickets.open_ticket(
        card, by=desk["agent"], subject="One more", category=complaint, channel="phone", priority="normal"
    )

    response = confirm(client, card, "close", token, open_tickets="resolve", tickets_note="Bye")

    assert "The card's open tickets changed; look again." in messages_of(response)
    card.refresh_from_db()
    assert card.status == Customer.Status.ACTIVE
    assert not Ticket.objects.filter(customer=card, status=Status.RESOLVED).exclude(subject="Old question").exists()


def test_a_card_without_open_tickets_is_not_asked(client, desk):
    client.force_login(UserFactory(username="closer", role="Staff"))
    card = CustomerFactory()

    page = preview(client, card, "close", reason=reason("service"))

    assert "open_tickets" not in page.context["form"].fields
    confirm(client, card, "close", token_of(page))
    card.refresh_from_db()
    assert card.status == Customer.Status.CLOSED


def test_voiding_a_duplicate_moves_every_ticket_to_the_surviving_card(card_with_tickets, manager_user):
    dup, mine, theirs, done = card_with_tickets
    survivor = CustomerFactory(customer_no="C000999")

    operations.close_customer(dup, ClosureChoice("void", reason("duplicate"), duplicate_of=survivor), by=manager_user)

    assert set(Ticket.objects.filter(customer=survivor).values_list("pk", flat=True)) == {mine.pk, theirs.pk, done.pk}
    assert not Ticket.objects.filter(customer=dup).exists()
    mine.refresh_from_db()
    assert mine.status == Status.ASSIGNED  # moved as it was
    moved_steps = Step.objects.filter(content__startswith=f"Moved from card {dup.customer_no} to card C000999")
    assert moved_steps.count() == 3
    out = AuditEntry.objects.get(action="ticket.move_out", customer_id=dup.pk)
    into = AuditEntry.objects.get(action="ticket.move_in", customer_id=survivor.pk)
    assert out.data["tickets"] == into.data["tickets"] == [mine.number, theirs.number, done.number]
    closure_entry = AuditEntry.objects.get(action="closure.void", customer_id=dup.pk)
    assert closure_entry.data["tickets"] == {"choice": "move", "count": 3, "to": "C000999"}


def test_voiding_with_merge_moves_the_tickets_too(card_with_tickets, manager_user):
    dup, *all_tickets = card_with_tickets
    survivor = CustomerFactory(customer_no="C000998")

    choice = ClosureChoice("void", reason("duplicate"), duplicate_of=survivor, merge=True)
    operations.close_customer(dup, choice, by=manager_user)

    assert Ticket.objects.filter(customer=survivor).count() == 3


def test_the_merge_itself_moves_tickets_through_its_registered_mover(card_with_tickets, manager_user):
    dup = card_with_tickets[0]
    survivor = CustomerFactory(customer_no="C000997")

    locked = {c.pk: c for c in Customer.objects.lock([dup.pk, survivor.pk])}
    result_moved = merge.merge_into(locked[dup.pk], locked[survivor.pk], by=manager_user)

    assert result_moved.plan is not None
    assert Ticket.objects.filter(customer=survivor).count() == 3
    assert AuditEntry.objects.get(action="customer.merge_in").data["moved"]["tickets"] == 3


def test_bulk_close_keeps_the_tickets_open(card_with_tickets, manager_user):
    card, mine, theirs, _done = card_with_tickets

    result = bulk.bulk_close([card.pk], ClosureChoice("archive", reason("long-inactive")), by=manager_user)

    assert [c.customer for c in result.done] == [card]
    assert set(Ticket.objects.filter(pk__in=[mine.pk, theirs.pk]).values_list("status", flat=True)) == {"assigned"}


def test_a_request_and_its_approval_keep_the_tickets_open_and_the_closure_lists_them(
    client, card_with_tickets, manager_user
):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    card, mine, theirs, _done = card_with_tickets
    client.force_login(UserFactory(username="asker", role="Staff"))

    page = preview(client, card, "close", reason=reason("service"))
    assert "open_tickets" not in page.context["form"].fields
    assert "They stay open: a closure sent for approval does not settle tickets." in page.content.decode()
    confirm(client, card, "close", token_of(page))
    operations.approve(ClosureRequest.objects.get(customer=card), by=manager_user)

    card.refresh_from_db()
    assert card.status == Customer.Status.CLOSED
    assert set(Ticket.objects.filter(pk__in=[mine.pk, theirs.pk]).values_list("status", flat=True)) == {"assigned"}
    kept = AuditEntry.objects.get(action="closure.close").data["tickets"]
    assert kept["choice"] == "keep" and kept["numbers"] == [mine.number, theirs.number]


def test_the_cards_history_says_what_happened_to_the_tickets(client, card_with_tickets):
    card, mine, theirs, _done = card_with_tickets
    client.force_login(UserFactory(username="closer", role="Staff"))
    token = token_of(preview(client, card, "close", reason=reason("service")))
    confirm(client, card, "close", token, open_tickets="cancel", tickets_note="Gone")

    shown = describe(AuditEntry.objects.filter(action="closure.close"), unmasked=True)[0]
    assert f"Open tickets cancelled: {mine.number}, {theirs.number}" in shown.details


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ticket_opened_while_the_closure_is_confirmed_is_never_missed(complaint, desk, monkeypatch):
    """open_ticket locks the card row: it waits for the confirmation, or the confirmation finds it and refuses."""
    from closures import rules
    from closures.models import Closure
    from tests.concurrency import run_together

    card, agent = desk["card"], desk["agent"]
    first = tickets.open_ticket(
        card, by=agent, subject="First", category=complaint, channel="phone", priority="normal", assignee=agent
    )
    closer = UserFactory(username="closer", role="Staff")
    choice = ClosureChoice("close", reason("service"), tickets="resolve", tickets_note="Bye", tickets_seen=(first.pk,))
    original = rules.refuse_replay

    def slow(nonce):  # the confirmation holds the card's lock a little longer
        time.sleep(0.3)
        return original(nonce)

    monkeypatch.setattr(rules, "refuse_replay", slow)

    results = run_together(
        lambda: operations.close_customer(card.pk, choice, by=closer),
        lambda: tickets.open_ticket(
            card.pk, by=agent, subject="Second", category=complaint, channel="phone", priority="normal"
        ),
    )

    second = Ticket.objects.get(subject="Second")
    card.refresh_from_db()
    first.refresh_from_db()
    if isinstance(results[0], Exception):  # the ticket came first: the confirmation saw it and refused
        assert "The card's open tickets changed; look again." in results[0].messages
        assert card.status == Customer.Status.ACTIVE and first.status == Status.ASSIGNED
    else:  # the closure came first: it settled what it had seen, the ticket opened after it
        assert card.status == Customer.Status.CLOSED and first.status == Status.RESOLVED
        assert second.status == Status.NEW
        assert second.created_at >= Closure.objects.get(customer=card).performed_at


def test_the_duplicates_preview_says_its_tickets_move(client, card_with_tickets, manager_user, desk):
    dup = card_with_tickets[0]
    survivor = CustomerFactory(customer_no="C000996")
    client.force_login(manager_user)

    page = preview(client, dup, "void", reason=reason("duplicate"), duplicate_of="C000996")

    html = page.content.decode()
    assert "Every ticket of this record, open or finished, moves to card C000996." in html
    assert "open_tickets" not in page.context["form"].fields
    confirm(client, dup, "void", token_of(page))
    assert Ticket.objects.filter(customer=survivor).count() == 3


def test_a_duplicate_with_only_finished_tickets_says_they_move_too(client, desk, complaint, manager_user):
    dup = CustomerFactory()
    CustomerFactory(customer_no="C000995")
    done = tickets.open_ticket(
        dup, by=desk["agent"], subject="Asked", category=complaint, channel="web", priority="low"
    )
    tickets.resolve(done, by=desk["agent"], note="Answered")
    client.force_login(manager_user)

    page = preview(client, dup, "void", reason=reason("duplicate"), duplicate_of="C000995")

    assert "This record's ticket moves to card C000995." in page.content.decode()
