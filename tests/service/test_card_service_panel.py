"""The card and tickets: the "Service" panel (open tickets first, then history), "New ticket" in the
Actions menu, ticket events on the card's timeline in the reader's language, the inbox's "tickets
due" source, all without changing the card page's query budget."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import inbox
from service import operations
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def card_html(user, card, language="en") -> str:
    client = client_for(user)
    client.cookies["django_language"] = language
    response = client.get(reverse("customers:card", args=[card.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_lists_open_tickets_first_then_the_history_with_a_link_to_all(desk):
    card = desk["card"]
    now = timezone.now()
    done = TicketFactory(customer=card, status="closed", subject="旧的已关闭", created_at=now)
    still_open = TicketFactory(
        customer=card, status="in_progress", subject="还在处理", created_at=now - dt.timedelta(days=9)
    )
    TicketFactory(subject="别人的单")
    html = card_html(desk["agent"], card)
    panel = html[html.index('class="card service-panel"') :].split("</section>")[0]
    assert panel.index(still_open.number) < panel.index(done.number)
    assert "别人的单" not in panel
    assert f"{reverse('service:queue')}?customer={card.pk}" in panel


def test_the_panel_flags_an_overdue_ticket(desk):
    TicketFactory(customer=desk["card"], status="assigned", resolution_due=timezone.now() - dt.timedelta(hours=1),
                  first_response_at=timezone.now() - dt.timedelta(hours=2))  # fmt: skip
    panel = card_html(desk["agent"], desk["card"]).split('class="card service-panel"')[1].split("</section>")[0]
    assert "Overdue" in panel


def _queries(client, card) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("customers:card", args=[card.pk])).status_code == 200
    return len(captured)


def test_the_card_takes_the_same_queries_with_one_ticket_or_many(desk):
    few, many = CustomerFactory(), CustomerFactory()
    TicketFactory(customer=few)
    for n in range(15):
        TicketFactory(
            customer=many, status="closed" if n % 2 else "assigned", assignee=desk["agent"], team=desk["desk"]
        )
    client = client_for(desk["agent"])
    _queries(client, few)
    assert _queries(client, many) == _queries(client, few)


def test_new_ticket_is_in_the_actions_menu_except_on_void_or_erased_cards(desk):
    url = reverse("service:new", args=[desk["card"].pk])
    assert f'<a href="{url}">New ticket</a>' in card_html(desk["agent"], desk["card"])
    void = CustomerFactory(status="void")
    assert reverse("service:new", args=[void.pk]) not in card_html(desk["agent"], void)


def test_ticket_events_are_on_the_cards_timeline_in_the_readers_language(desk, complaint):
    ticket = operations.open_ticket(
        desk["card"], by=desk["agent"], subject="洗衣机漏水", category=complaint, channel="phone", priority="high",
        assignee=desk["agent"],
    )  # fmt: skip
    operations.hand_off(ticket, to_team=desk["after_sales"], by=desk["agent"], note="需要上门")
    english = card_html(desk["agent"], desk["card"], "en")
    assert f"Ticket {ticket.number} handed to After-sales" in english
    assert f"Ticket {ticket.number} opened: 洗衣机漏水" in english and "Ticket handed over" in english
    chinese = card_html(desk["agent"], desk["card"], "zh-hans")
    assert f"处理单 {ticket.number} 已转交给售后" in chinese and "处理单已转交" in chinese


def timeline_changes(html: str) -> list[str]:
    """The card timeline's change lines ("Status: In progress → Resolved"), tags and spacing removed."""
    import re

    lines = re.findall(r'<li><span class="muted">(.*?)</span>: (.*?)</li>', html)
    return [f"{label}: {text}" for label, text in lines]


def test_the_timeline_shows_a_ticket_status_change_from_its_old_status_to_the_new(desk, complaint):
    ticket = operations.open_ticket(
        desk["card"], by=desk["agent"], subject="洗衣机漏水", category=complaint, channel="phone", priority="high",
        assignee=desk["agent"],
    )  # fmt: skip
    operations.start(ticket, by=desk["agent"])
    operations.resolve(ticket, by=desk["agent"], note="换了水管")
    english = timeline_changes(card_html(desk["agent"], desk["card"], "en"))
    assert "Status: In progress → Resolved" in english
    assert "Status: Assigned → In progress" in english
    assert "状态: 处理中 → 已解决" in timeline_changes(card_html(desk["agent"], desk["card"], "zh-hans"))


def test_the_timeline_shows_the_team_a_ticket_was_handed_from_and_to_in_the_readers_language(desk, complaint):
    ticket = operations.open_ticket(
        desk["card"], by=desk["agent"], subject="洗衣机漏水", category=complaint, channel="phone", priority="high",
        team=desk["desk"],
    )  # fmt: skip
    operations.hand_off(ticket, to_team=desk["after_sales"], by=desk["agent"], note="需要上门")
    assert "Team: Service desk → After-sales" in timeline_changes(card_html(desk["agent"], desk["card"], "en"))
    assert "团队: 客服中心 → 售后" in timeline_changes(card_html(desk["agent"], desk["card"], "zh-hans"))


def test_the_inbox_counts_my_tickets_overdue_or_due_today(desk, settings):
    settings.INBOX_CACHE_SECONDS = 0
    now = timezone.now()
    TicketFactory(assignee=desk["agent"], status="assigned", resolution_due=now - dt.timedelta(hours=1))
    TicketFactory(assignee=desk["agent"], status="in_progress", first_response_due=now + dt.timedelta(minutes=1))
    TicketFactory(assignee=desk["agent"], status="waiting", resolution_due=now - dt.timedelta(hours=1))  # paused
    TicketFactory(assignee=desk["agent"], status="assigned", resolution_due=now + dt.timedelta(days=3))  # later
    TicketFactory(assignee=desk["colleague"], status="assigned", resolution_due=now - dt.timedelta(hours=1))
    assert inbox.counts(desk["agent"])["service.due"] == 2
    html = client_for(desk["agent"]).get(reverse("inbox")).content.decode()
    assert "My tickets overdue or due today" in html
