"""Data scopes on the Managers' paths (crm/scopes.py): a Manager scoped to their team's cards finds
only those in the closure dashboard and its list, export and API, the churn-warning dashboard, the
service dashboard with its export and churn after service, the approval queue, the audit log, the
ticket and callback queues and the inbox counts; and the "Data scopes" page where an Admin sets
the scopes."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics import churn_warning, figures, service_churn
from analytics import service as service_figures
from analytics.churn_warning_filters import ChurnWarningFilter
from analytics.exports import ClosureExport
from analytics.filters import ClosureFilter
from analytics.service_filters import ServiceFilter
from api import tokens
from closures import operations
from closures.batch import decide_many
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from crm import audit, inbox, scopes
from crm.models import AuditEntry, DataScope
from insights.models import RiskDay
from service import operations as service_operations
from service.models import Category
from tests.factories import (
    ClosureFactory,
    CustomerFactory,
    FollowupFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def scope(role: str, value: str) -> None:
    DataScope.objects.update_or_create(role=role, defaults={"scope": value})
    cache.delete(scopes.CACHE_KEY)


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no scope cached on it


@pytest.fixture
def world(staff_user, manager_user):
    """Team A: the Staff user, managed by the Manager. Its card T0001 and an outsider's X0001, each
    closed ten days ago, each with a ticket, a callback due and an audit entry."""
    outsider = UserFactory(username="staff_wu", role="Staff")
    TeamFactory(members=[staff_user], manager=manager_user)
    scope("Manager", "team")
    ten_days_ago = timezone.now() - timedelta(days=10)
    cards = {}
    for number, owner in (("T0001", staff_user), ("X0001", outsider)):
        card = CustomerFactory(customer_no=number, owner=owner, status="closed", name=f"客户{number}")
        closure = ClosureFactory(customer=card, performed_at=ten_days_ago)
        TicketFactory(customer=CustomerFactory(customer_no=f"{number}-T", owner=owner), subject=f"Ticket of {number}")
        FollowupFactory(customer=card, closure=closure, assigned_to=manager_user)
        audit.record("customer.update", actor=staff_user, obj=card, customer_id=card.pk, summary=number)
        cards[number] = card
    return {**cards, "outsider": outsider}


def test_the_dashboard_counts_only_the_teams_closures(manager_user, admin_user, world):
    mine = figures.compute(ClosureFilter({}, user=fresh(manager_user)))
    everyone = figures.compute(ClosureFilter({}, user=admin_user))
    assert (mine.total, everyone.total) == (1, 2)
    assert ("Cards", "Only the cards in your data scope") in ClosureFilter({}, user=fresh(manager_user)).describe()


def test_the_closure_list_and_its_csv_leave_out_other_teams_cards(manager_client, manager_user, world):
    manager_user.user_permissions.add(Permission.objects.get(codename="export_closures"))  # Admins' by default
    page = manager_client.get(reverse("analytics:closure_list")).content.decode()
    assert "T0001" in page and "X0001" not in page
    response = manager_client.post(reverse("analytics:export") + "?period=30d", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["T0001"]


def test_an_export_run_as_a_job_selects_as_its_requester(manager_user, world):
    export = ClosureExport.from_params({"filters": {}, "today": timezone.localdate().isoformat()}, fresh(manager_user))
    assert list(export.rows().values_list("customer__customer_no", flat=True)) == ["T0001"]


def test_the_api_lists_and_counts_only_the_cards_in_scope(admin_user, manager_user, world):
    _token, secret = tokens.create_token(name="finance", owner=manager_user, role="Manager", by=admin_user)
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    listed = api.get(reverse("api:closure-list")).json()
    assert [row["customer"] for row in listed["results"]] == ["T0001"]
    assert api.get(reverse("api:closure-figures")).json()["total"] == 1


def test_the_churn_warning_dashboard_reads_the_teams_owners_only(manager_user, staff_user, world):
    today = timezone.localdate()
    for owner in (staff_user, world["outsider"]):
        RiskDay.objects.create(day=today, band="high", segment="at_risk", owner_id=owner.pk, customers=5)
    now = churn_warning.at_risk_now(ChurnWarningFilter({}, user=fresh(manager_user)))
    assert now.total.high == 5
    assert [row.key for row in now.by_owner] == [staff_user.pk]


def test_the_approval_queue_and_its_batch_leave_out_other_teams_cards(manager_client, manager_user, world):
    reason = ClosureReason.objects.filter(is_active=True).first()
    requests = {}
    for number in ("T0001", "X0001"):
        card = CustomerFactory(customer_no=f"{number}-R", owner=world[number].owner)
        requests[number] = operations.request_closure(card, ClosureChoice("close", reason), by=world[number].owner)
    page = manager_client.get(reverse("closures:request_queue")).content.decode()
    assert "T0001-R" in page and "X0001-R" not in page
    result = decide_many([r.pk for r in requests.values()], by=fresh(manager_user), approving=True)
    assert [r.pk for r in result.decided] == [requests["T0001"].pk] and not result.refused
    requests["X0001"].refresh_from_db()
    assert requests["X0001"].state == "pending"


def test_the_audit_log_shows_entries_about_cards_in_scope_and_about_no_card(manager_client, world):
    audit.record("settings.update", summary="Follow-up policy")
    page = manager_client.get(reverse("closures:audit")).content.decode()
    assert "T0001" in page and "X0001" not in page and "Follow-up policy" in page
    assert AuditEntry.objects.filter(customer_id=world["X0001"].pk).exists()


def test_the_ticket_queue_and_the_callback_queues_leave_out_other_teams_cards(manager_client, world):
    tickets = manager_client.get(reverse("service:queue"), {"view": "all"}).content.decode()
    assert "Ticket of T0001" in tickets and "Ticket of X0001" not in tickets
    team = manager_client.get(reverse("followups:team")).content.decode()
    mine = manager_client.get(reverse("followups:queue")).content.decode()
    for page in (team, mine):
        assert "T0001" in page and "X0001" not in page


def test_the_inbox_counts_only_what_waits_on_cards_in_scope(manager_user, world):
    assert inbox.counts(fresh(manager_user))["followups.callbacks_due"] == 1


def test_an_admin_sets_the_scopes_on_their_page_audited_and_applied_at_once(admin_client, staff_client, world):
    card = reverse("customers:card", kwargs={"pk": world["X0001"].pk})
    assert staff_client.get(card).status_code == 200  # Staff see all cards by default
    response = admin_client.post(reverse("users:data_scopes"), {"Staff": "own", "Manager": "team"})
    assert response.status_code == 302
    assert DataScope.objects.get(role="Staff").scope == "own"
    entry = AuditEntry.objects.get(action="scopes.update")
    assert entry.changes == {"Staff": ["all", "own"]}
    log = admin_client.get(reverse("closures:audit")).content.decode()
    assert "Data scopes changed" in log and "All cards" in log and "Their own cards" in log
    assert staff_client.get(card).status_code == 404
    page = admin_client.get(reverse("users:data_scopes")).content.decode()
    ticked = [tag for tag in re.findall(r"<input[^>]*>", page) if 'name="Staff"' in tag and "checked" in tag]
    assert len(ticked) == 1 and 'value="own"' in ticked[0]


def test_an_unknown_scope_is_refused_next_to_its_role(admin_client, world):
    response = admin_client.post(reverse("users:data_scopes"), {"Staff": "everything", "Manager": "team"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not DataScope.objects.filter(role="Staff").exists()


def test_the_customers_at_risk_list_and_its_export_leave_out_other_teams_cards(manager_client, manager_user, world):
    from tests.insights.test_at_risk import scored

    scored("风险在组", 80, "900", owner=world["T0001"].owner)
    scored("风险组外", 90, "1000", owner=world["outsider"])
    page = manager_client.get(reverse("insights:at_risk")).content.decode()
    assert "风险在组" in page and "风险组外" not in page
    response = manager_client.get(reverse("insights:at_risk_export"))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = {str(cell) for row in book.worksheets[-1].iter_rows(values_only=True) for cell in row}
    assert "风险在组" in cells and "风险组外" not in cells


def test_the_service_dashboard_its_export_and_churn_after_service_count_the_teams_tickets_only(
    manager_client, manager_user, admin_user, world
):
    for number in ("T0001", "X0001"):  # through the operations: the summary counts them
        card = CustomerFactory(customer_no=f"{number}-S", owner=world[number].owner)
        service_operations.open_ticket(
            card,
            by=admin_user,
            subject=f"Leak {number}",
            category=Category.objects.get(key="repair"),
            channel="phone",
            priority="high",
        )
    mine = service_figures.compute(ServiceFilter({}, user=fresh(manager_user)))
    everyone = service_figures.compute(ServiceFilter({}, user=admin_user))
    assert (mine.total.opened, everyone.total.opened) == (1, 2)
    assert [g.counts.opened for g in mine.by_category] == [1]
    churn = service_churn.compute(ServiceFilter({}, user=fresh(manager_user)))
    every = service_churn.compute(ServiceFilter({}, user=admin_user))
    # Churn after service reads the tickets themselves: the world's two and these two.
    assert (churn.with_ticket.customers, every.with_ticket.customers) == (2, 4)

    page = manager_client.get(reverse("analytics:service")).content.decode()
    assert "Only the tickets of the cards in your data scope." in page
    manager_user.user_permissions.add(Permission.objects.get(codename="export_tickets"))  # Admins' by default
    book = load_workbook(io.BytesIO(manager_client.post(reverse("analytics:service_export")).content))
    cells = [[c for c in row if c is not None] for row in book.worksheets[0].iter_rows(values_only=True)]
    assert ["Cards", "Only the cards in your data scope"] in cells
    assert ["Tickets opened", 1] in cells
