"""The to-do inbox: a count in every page's header of what waits for the user, and the inbox page.

Managers: the requests waiting for their decision (not their own). Requesters: their requests
decided since they last opened the inbox.
"""

import pytest
from django.urls import reverse

from closures import operations
from crm import inbox, scopes
from tests.factories import CustomerFactory, UserFactory

from .asking import ask, header_count

pytestmark = pytest.mark.django_db

SEARCH = reverse("customers:search")
INBOX = reverse("inbox")


def test_a_staff_request_decided_by_a_manager_appears_in_the_requesters_count_without_opening_the_card(
    staff_client, staff_user, manager_client
):
    pending = ask(staff_user, CustomerFactory(customer_no="A000101"))
    assert header_count(staff_client.get(SEARCH).content.decode()) == 0  # counted (and cached) before

    decided = manager_client.post(
        reverse("closures:request_decide", kwargs={"pk": pending.pk}), {"decision": "approve", "note": "同意销卡"}
    )
    assert decided.status_code == 302

    page = staff_client.get(SEARCH).content.decode()
    assert header_count(page) == 1
    assert 'aria-label="Inbox: 1 item waiting for you"' in page


def test_opening_the_inbox_shows_the_outcome_and_marks_it_seen(staff_client, staff_user, manager_user):
    pending = ask(staff_user, CustomerFactory(customer_no="A000102"))
    operations.reject(pending, by=manager_user, note="客户已续费，请保留")

    page = staff_client.get(INBOX).content.decode()
    assert "A000102" in page
    assert "Rejected" in page
    assert "Wang Fang" in page
    assert "客户已续费，请保留" in page
    assert ">New<" in page
    assert header_count(page) == 0  # the header drawn after the inbox was marked seen

    assert header_count(staff_client.get(SEARCH).content.decode()) == 0
    assert ">New<" not in staff_client.get(INBOX).content.decode()  # still listed, no longer new


def test_a_decision_after_the_inbox_was_opened_counts_again(staff_client, staff_user, manager_user):
    first, second = ask(staff_user), ask(staff_user)
    operations.approve(first, by=manager_user)
    staff_client.get(INBOX)
    operations.reject(second, by=manager_user, note="不同意")
    assert header_count(staff_client.get(SEARCH).content.decode()) == 1


def test_requests_the_requester_withdrew_are_not_news_to_them(staff_client, staff_user):
    operations.withdraw(ask(staff_user), by=staff_user)
    assert header_count(staff_client.get(SEARCH).content.decode()) == 0


def test_managers_count_the_requests_waiting_for_them_but_not_their_own(manager_client, manager_user, staff_user):
    ask(staff_user)
    ask(staff_user)
    ask(manager_user)  # a Manager's own request waits for another Manager
    other_manager = UserFactory(username="manager_sun", role="Manager")

    assert header_count(manager_client.get(SEARCH).content.decode()) == 2
    assert inbox.total(other_manager) == 3


def test_a_new_request_raises_the_managers_count_at_once(manager_client, staff_user):
    assert header_count(manager_client.get(SEARCH).content.decode()) == 0
    ask(staff_user)
    assert header_count(manager_client.get(SEARCH).content.decode()) == 1


def test_the_inbox_page_lists_the_requests_to_decide_with_a_link_to_the_queue(manager_client, staff_user):
    ask(staff_user, CustomerFactory(customer_no="A000103"))
    page = manager_client.get(INBOX).content.decode()
    assert "Closure requests to decide" in page
    assert "A000103" in page
    assert reverse("closures:request_queue") in page


def test_staff_have_no_approvals_in_their_inbox(staff_client, staff_user):
    ask(UserFactory(username="staff_zhou", role="Staff"))
    page = staff_client.get(INBOX).content.decode()
    assert "Closure requests to decide" not in page
    assert "My requests decided" in page
    assert header_count(page) == 0


def test_a_user_without_a_role_has_no_inbox_link(outsider_user, client):
    client.force_login(outsider_user)
    page = client.get(reverse("password_change")).content.decode()
    assert header_count(page) is None
    assert client.get(INBOX).status_code == 403


def test_the_count_is_one_query_per_source_and_none_while_nothing_changes(
    manager_user, staff_user, django_assert_num_queries
):
    ask(staff_user)
    manager_user.get_all_permissions()  # loaded once per request by the permission checks already
    scopes.role_scopes()  # the data scopes: read from the cache (once per five minutes from the table)
    # one per source: approvals to decide, my decided requests, and those of the apps above (followups)
    with django_assert_num_queries(len(inbox.sources_for(manager_user))):
        counts = inbox.counts(manager_user)
    assert {key: counts[key] for key in ("closures.approvals", "closures.decided")} == {
        "closures.approvals": 1,
        "closures.decided": 0,
    }
    with django_assert_num_queries(0):
        assert inbox.total(manager_user) == 1


def test_a_page_with_the_count_stays_within_its_query_budget(
    manager_client, manager_user, staff_user, django_assert_max_num_queries
):
    """The header's count adds no query to a page while nothing changed, and one per source after a change."""
    for _ in range(3):
        ask(staff_user)
    manager_client.get(SEARCH)  # warms the session, the permission cache and the counts
    # the search page itself: session, user, its saved views, the result page; the inbox adds none
    with django_assert_max_num_queries(6) as cached:
        assert header_count(manager_client.get(SEARCH).content.decode()) == 3
    ask(staff_user)  # a change: the next page counts again
    with django_assert_max_num_queries(len(cached.captured_queries) + len(inbox.sources_for(manager_user))) as counted:
        assert header_count(manager_client.get(SEARCH).content.decode()) == 4
    assert [q for q in cached.captured_queries if "closures_closurerequest" in q["sql"]] == []
    assert len([q for q in counted.captured_queries if "closures_closurerequest" in q["sql"]]) == 2


def test_the_header_count_reads_in_chinese(staff_client, staff_user, manager_user):
    operations.approve(ask(staff_user), by=manager_user)
    staff_client.post(reverse("set_language"), {"language": "zh-hans", "next": SEARCH})
    page = staff_client.get(SEARCH).content.decode()
    assert 'aria-label="待办：1 项等待处理"' in page
    assert '<span aria-hidden="true">待办</span>' in page
