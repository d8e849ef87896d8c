"""The demo data's tickets (seed_demo → analytics.demo_service): teams, ~60 tickets in every state."""

import pytest

from analytics.demo_service import seed_service
from crm.models import Team
from crm.roles import ADMIN, MANAGER, STAFF
from service.models import Step, Ticket
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_demo_has_three_teams_and_tickets_in_every_state(staff_user, manager_user, admin_user):
    cards = CustomerFactory.create_batch(60)

    counts = seed_service(cards, {STAFF: staff_user, MANAGER: manager_user, ADMIN: admin_user})

    assert set(Team.objects.values_list("name_zh", flat=True)) >= {"客服中心", "售后", "财务"}
    assert Team.objects.get(name_en="After-sales").members.filter(username="zhou").exists()
    assert counts["tickets"] == Ticket.objects.count() == 50  # no closures in this database: none of the ten
    states = set(Ticket.objects.values_list("status", flat=True))
    assert states >= {"new", "assigned", "in_progress", "resolved", "closed"}
    assert Ticket.objects.filter(reopen_count__gt=0).exists()
    assert Ticket.objects.filter(first_response_breached=True).exists()
    assert Step.objects.filter(kind="handoff").exists() and Step.objects.filter(kind="reply").exists()
