"""Issue 20 end to end: a ticket (处理单) from the card to the other team and back, then the card's
closure that asks what becomes of the ticket, and the figures that join the two.

Staff of the service desk open a ticket from the card, record what they told the customer and hand
it to after-sales → after-sales find it in their team's queue, take it and resolve it → the customer
complains again: a complaint ticket → the card is closed as "Dissatisfied with service": the
impact page lists the open ticket and will not confirm until told what to do with it → resolved
with a note → the service dashboard's "churn after service" and Closure analytics' service part
show the customer who left after their ticket.
"""

import pytest
from django.urls import reverse

from closures.models import Closure
from crm.models import AuditEntry
from service.models import Status, Step, Ticket
from tests.browser.conftest import open_action
from tests.factories import TEST_PASSWORD, CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def log_in_as(browser, live_server, user):
    context = browser.new_context(locale="en-US", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # the login's answer, not a race with the next goto
    return page


def submit(page, button):
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def test_a_ticket_crosses_teams_and_its_customer_leaves_with_it_open(page, login, browser, live_server):
    agent = login("Staff", "agent_wu")
    fixer = UserFactory(username="fixer_he", role="Staff")
    TeamFactory(name_en="Service desk", name_zh="客服中心", members=[agent])
    TeamFactory(name_en="After-sales", name_zh="售后", members=[fixer])
    card = CustomerFactory(name="赵敏", customer_no="C000777")

    # The service desk opens the ticket from the card and tells the customer what happens next.
    open_action(page, card, "New ticket")
    page.get_by_label("Subject").fill("洗衣机漏水")
    page.get_by_label("The customer's need, in their words").fill("洗衣机底部漏水，希望尽快上门维修")
    page.get_by_label("Category").select_option(label="Repair")
    page.get_by_label("Priority").select_option(label="High")
    submit(page, "Open ticket")
    ticket = Ticket.objects.get(customer=card)
    assert ticket.number in page.locator("h1, .page-head").first.inner_text() + page.content()
    submit(page, "Take")
    page.get_by_label("Kind of step").select_option(label="Told the customer")
    page.get_by_label("What was done or said").fill("已告知客户：售后明天联系上门")
    submit(page, "Add step")
    page.get_by_label("Hand to team").select_option(label="After-sales")
    page.get_by_label("Note for the team").fill("需要上门检查进水阀")
    submit(page, "Hand off")
    ticket.refresh_from_db()
    assert (ticket.team.name_en, ticket.assignee, ticket.status) == ("After-sales", None, Status.NEW)
    assert ticket.first_response_at is not None
    assert "需要上门检查进水阀" in page.content()

    # After-sales find it in their team's queue, take it and resolve it.
    other = log_in_as(browser, live_server, fixer)
    other.goto(reverse("service:queue") + "?view=team")
    other.get_by_role("link", name=ticket.number).click()
    other.wait_for_load_state()
    submit(other, "Take")
    other.get_by_label("What was done or said").fill("更换进水阀，试机正常")
    submit(other, "Add step")
    other.get_by_label("What solved it").fill("更换进水阀")
    submit(other, "Resolve")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.RESOLVED, fixer)
    assert [s.kind for s in ticket.steps.all()].count(Step.Kind.HANDOFF) == 1

    # The customer calls again, unhappy: the desk opens a complaint. Then the customer asks to close the card.
    open_action(page, card, "New ticket")
    page.get_by_label("Subject").fill("维修后又漏水")
    page.get_by_label("Category").select_option(label="Complaint")
    page.get_by_label("Assignee").select_option(label=agent.get_full_name())
    submit(page, "Open ticket")
    complaint = Ticket.objects.exclude(pk=ticket.pk).get(customer=card)
    assert complaint.status == Status.ASSIGNED
    open_action(page, card, "Close card")
    page.get_by_label("Reason").select_option(label="Dissatisfied with service")
    page.get_by_label("Notes").fill("客户对维修不满意，要求销卡")
    submit(page, "Continue")
    tickets = page.locator(".open-tickets")
    assert complaint.number in tickets.inner_text() and "维修后又漏水" in tickets.inner_text()
    assert ticket.number not in tickets.inner_text()  # resolved: not asked about
    submit(page, "Confirm")  # nothing chosen for the open ticket: refused, nothing written
    assert "Choose what happens to the card's open tickets." in page.content()
    assert not Closure.objects.filter(customer=card).exists()
    page.get_by_label("Resolve them with a note").check()
    page.get_by_label("Note for the tickets").fill("客户销卡，处理单结束")
    submit(page, "Confirm")
    card.refresh_from_db()
    complaint.refresh_from_db()
    assert card.status == "closed" and complaint.status == Status.RESOLVED
    closure = Closure.objects.get(customer=card)
    assert AuditEntry.objects.get(action="closure.close", customer_id=card.pk).data["tickets"]
    assert "客户销卡，处理单结束" in complaint.steps.last().content

    # The figures join the two: the customer with a ticket left within 90 days.
    manager = UserFactory(username="manager_gao", role="Manager")
    boss = log_in_as(browser, live_server, manager)
    boss.goto(reverse("analytics:service") + "?part=churn")
    churn = boss.locator("body").inner_text()
    assert "Churn after service" in churn and "Complaint" in churn and "Repair" in churn
    boss.goto(reverse("analytics:dashboard"))
    boss.locator("#service-closures-title").wait_for()
    service_part = boss.locator("section", has=boss.locator("#service-closures-title")).inner_text()
    assert "(0 of 1)" in service_part  # its last ticket (the complaint) met its SLA
    assert closure.category == "service"
