"""The "Follow-ups" queue: my callbacks by tab (due today, overdue, upcoming, done), and the team's
for Managers, filtered in the URL, with failed messages and their error, and reassigning."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from followups.models import Followup
from tests.factories import CustomerFactory, FollowupFactory, UserFactory

pytestmark = pytest.mark.django_db
QUEUE = reverse("followups:queue")
TEAM = reverse("followups:team")


def at_noon(days: int) -> dt.datetime:
    return timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0) + dt.timedelta(days=days)


def callback(user, days=0, **kwargs):
    number = kwargs.pop("number", None)
    customer = CustomerFactory(status="closed", **({"customer_no": number} if number else {}))
    return FollowupFactory(customer=customer, assigned_to=user, due_at=at_noon(days), **kwargs)


@pytest.fixture
def mine(staff_user):
    return {
        "today": callback(staff_user, 0, number="K100001", note="Call after lunch"),
        "overdue": callback(staff_user, -2, number="K100002", attempts=2),
        "upcoming": callback(staff_user, 3, number="K100003"),
        "done": callback(staff_user, -5, number="K100004", state="done", outcome="reached", done_at=timezone.now()),
    }


def page(client, url, **query) -> str:
    response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("tab", ["today", "overdue", "upcoming", "done"])
def test_each_tab_lists_only_its_own_callbacks(staff_client, mine, tab):
    html = page(staff_client, QUEUE, tab=tab)
    shown = {name for name, f in mine.items() if f.customer.customer_no in html}
    assert shown == {tab}


def test_the_default_tab_is_due_today_and_rows_carry_the_customer_the_closure_and_the_note(staff_client, mine):
    html = page(staff_client, QUEUE)
    today = mine["today"]
    assert reverse("customers:card", args=[today.customer_id]) in html
    assert today.customer.name in html and today.closure.reason.label in html
    assert "Call after lunch" in html
    assert reverse("followups:followup", args=[today.pk]) in html
    assert 'class="table stack"' in html and 'data-label="Due"' in html


def test_an_overdue_callback_says_so_in_words(staff_client, mine):
    html = page(staff_client, QUEUE, tab="overdue")
    assert ">Overdue</strong>" in html
    assert "Overdue (1)" in html  # the tab counts them


def test_staff_see_only_their_own_callbacks_and_not_the_team_view(staff_client, mine):
    colleague = UserFactory(username="staff_zhou", role="Staff")
    theirs = callback(colleague, 0, number="K200001")
    assert theirs.customer.customer_no not in page(staff_client, QUEUE)
    assert staff_client.get(TEAM).status_code == 403
    assert TEAM not in page(staff_client, QUEUE)


def test_a_bad_tab_or_page_shows_the_first_page_of_today(staff_client, mine):
    html = page(staff_client, QUEUE, tab="<script>", page="x")
    assert mine["today"].customer.customer_no in html


def test_the_team_view_shows_everyones_pending_callbacks_by_default(manager_client, mine, staff_user):
    html = page(manager_client, TEAM)
    for name in ("today", "overdue", "upcoming"):
        assert mine[name].customer.customer_no in html
    assert mine["done"].customer.customer_no not in html
    assert "staff_li" in html or "Li Na" in html


def test_the_team_view_filters_by_assignee_including_unassigned(manager_client, mine, staff_user):
    nobodys = callback(None, 0, number="K300001")
    assert {nobodys.customer.customer_no} == {
        n for n in ("K300001", "K100001", "K100002") if n in page(manager_client, TEAM, assignee="none")
    }
    html = page(manager_client, TEAM, assignee=str(staff_user.pk))
    assert "K100001" in html and "K300001" not in html


def test_the_team_view_filters_by_kind_state_reason_and_due(manager_client, mine):
    survey = FollowupFactory(kind="survey", channel="email", due_at=at_noon(-1))
    html = page(manager_client, TEAM, kind="survey")
    assert survey.customer.customer_no in html and "K100001" not in html
    html = page(manager_client, TEAM, state="done")
    assert "K100004" in html and "K100001" not in html
    html = page(manager_client, TEAM, reason=str(mine["upcoming"].closure.reason_id))
    assert "K100003" in html and "K100001" not in html
    html = page(manager_client, TEAM, due="overdue")
    assert "K100002" in html and "K100001" not in html


def test_failed_messages_show_their_last_error_and_can_be_sent_again(manager_client):
    failed = FollowupFactory(kind="survey", channel="email", state="failed", attempts=5, last_error="SMTP 421 busy")
    html = page(manager_client, TEAM, state="failed")
    assert failed.customer.customer_no in html and "SMTP 421 busy" in html

    response = manager_client.post(reverse("followups:retry", args=[failed.pk]), {"next": f"{TEAM}?state=failed"})

    assert response.status_code == 302 and response["Location"] == f"{TEAM}?state=failed"
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == ("pending", 0)
    assert failed.due_at <= timezone.now()


def test_staff_cannot_send_a_failed_message_again(staff_client, staff_user):
    failed = FollowupFactory(assigned_to=staff_user, kind="survey", channel="email", state="failed")
    assert staff_client.post(reverse("followups:retry", args=[failed.pk])).status_code == 403
    failed.refresh_from_db()
    assert failed.state == "failed"


def test_a_manager_reassigns_the_ticked_callbacks(manager_client, mine, manager_user):
    colleague = UserFactory(username="staff_zhou", role="Staff")
    ticked = [mine["today"].pk, mine["overdue"].pk, mine["done"].pk]

    response = manager_client.post(
        reverse("followups:reassign"), {"ids": ticked, "to": colleague.pk, "query": "state=pending"}, follow=True
    )

    assert response.redirect_chain[-1][0] == f"{TEAM}?state=pending"
    assert "2 callbacks reassigned." in response.content.decode()
    assigned = dict(Followup.objects.filter(pk__in=ticked).values_list("pk", "assigned_to"))
    assert assigned == {
        mine["today"].pk: colleague.pk,
        mine["overdue"].pk: colleague.pk,
        mine["done"].pk: mine["done"].assigned_to_id,
    }


def test_reassigning_to_nobody_puts_callbacks_in_the_teams_queue(manager_client, mine):
    manager_client.post(reverse("followups:reassign"), {"ids": [mine["today"].pk], "to": "none"})
    mine["today"].refresh_from_db()
    assert mine["today"].assigned_to is None


def test_reassigning_nothing_says_what_is_missing(manager_client, mine):
    response = manager_client.post(reverse("followups:reassign"), {"to": "none"}, follow=True)
    assert "Tick at least one follow-up." in response.content.decode()


def test_the_queue_in_chinese(staff_client, mine):
    html = staff_client.get(QUEUE, {"tab": "overdue"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的回访" in html and "已逾期" in html


def test_the_team_view_in_chinese(manager_client, mine):
    html = manager_client.get(TEAM, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "团队的跟进" in html


def _queries(client, url, query) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, query)  # the header's inbox count is cached by the first request
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, query).status_code == 200
    return len(captured)


def test_the_lists_read_their_rows_in_a_fixed_number_of_queries(manager_client, staff_client, staff_user):
    """The lists read only the columns their rows show; a column left out would be read row by row."""
    callback(staff_user, -1, note="first", state="failed", last_error="550", outcome="")
    few = (_queries(manager_client, TEAM, {"state": ""}), _queries(staff_client, QUEUE, {"tab": "overdue"}))
    for days in range(2, 7):
        callback(staff_user, -days, note="more", attempts=days)
    many = (_queries(manager_client, TEAM, {"state": ""}), _queries(staff_client, QUEUE, {"tab": "overdue"}))
    assert many == few
    assert "more" in page(manager_client, TEAM, state="") and "550" in page(manager_client, TEAM, state="")
