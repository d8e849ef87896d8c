"""Tickets for the service dashboard's routes, as raw rows (no audit entries on other pages' cards)
counted into the summary by its rebuild: one resolved late by one team, one still open with another."""

from datetime import timedelta

from django.utils import timezone

from service import tally
from tests.factories import CustomerFactory, TeamFactory, TicketFactory


def extend(world) -> None:
    desk = TeamFactory(name_en="Service desk", name_zh="客服中心")
    other = TeamFactory(name_en="After-sales", name_zh="售后")
    now = timezone.now()
    card = CustomerFactory()
    done = TicketFactory(
        customer=card,
        team=desk,
        priority="high",
        status="resolved",
        created_at=now - timedelta(days=3),
        first_response_at=now - timedelta(days=2),
        resolved_at=now - timedelta(days=1),
        first_response_minutes=120,
        resolution_minutes=1080,
        resolution_breached=True,
        reopen_count=1,
    )
    waiting = TicketFactory(customer=card, team=other, status="waiting", created_at=now - timedelta(days=1))
    tally.rebuild()
    world.service_tickets = [done, waiting]
