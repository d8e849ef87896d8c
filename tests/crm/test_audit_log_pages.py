"""The audit log pages by keyset: every entry reachable through "Older" and "Newer", never a 500."""

import datetime as dt
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry
from crm.pagination import decode_cursor, encode_cursor

pytestmark = pytest.mark.django_db

AUDIT = reverse("closures:audit")
PER_PAGE = 50


@pytest.fixture
def many_entries(manager_user):
    """1,234 entries, three at a time sharing one moment, so the id alone must break the ties."""
    start = timezone.now() - dt.timedelta(days=30)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=start + dt.timedelta(seconds=n // 3),
            actor=manager_user,
            actor_name=manager_user.username,
            action="customer.update",
            object_type="customer",
            object_id=str(n),
            summary=f"entry {n}",
        )
        for n in range(1234)
    )


def _newest_first(**filters) -> list[int]:
    return list(AuditEntry.objects.filter(**filters).order_by("-at", "-id").values_list("pk", flat=True))


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="(\?[^"]*)" rel="{rel}"', page)
    return unescape(found.group(1)) if found else None


def _walk(client, url: str, rel: str) -> tuple[list[list[int]], str]:
    """Follow ``rel`` links from ``url`` to the end: the ids on each page, and the last page's URL."""
    pages = []
    while True:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append([entry.pk for entry in response.context["page_obj"].object_list])
        following = _link(response.content.decode(), rel)
        if following is None:
            return pages, url
        url = AUDIT + following
        assert len(pages) < 100, "the links go round in circles"


def test_every_entry_is_reached_exactly_once_through_the_older_links(manager_client, many_entries):
    pages, last_url = _walk(manager_client, AUDIT, "next")

    seen = [pk for page in pages for pk in page]
    assert len(seen) >= 1234
    assert seen == _newest_first()  # each once, newest first, none skipped
    assert len(pages) == 25 and all(len(page) == PER_PAGE for page in pages[:-1]) and pages[-1]

    back, _first_url = _walk(manager_client, last_url, "prev")
    assert back == pages[::-1]  # and "Newer" ends on the first page


def test_the_links_keep_the_filters(manager_client, many_entries, staff_user):
    AuditEntry.objects.create(
        actor=staff_user, actor_name=staff_user.username, action="user.update", object_type="user"
    )
    pages, _last = _walk(manager_client, f"{AUDIT}?action=customer.update", "next")

    assert [pk for page in pages for pk in page] == _newest_first(action="customer.update")


@pytest.mark.parametrize(
    "query",
    [
        {"older": "garbage"},
        {"newer": "garbage"},
        {"older": "1_"},
        {"older": "99999999999999999999999_1"},
        {"older": f"1700000000000000_{2**64}"},
        {"newer": "-5_-5"},
        {"older": "١٢٣_٤"},
        {"page": "23"},
    ],
)
def test_a_bad_cursor_gives_the_first_page(manager_client, many_entries, query):
    response = manager_client.get(AUDIT, query)

    assert response.status_code == 200
    assert [entry.pk for entry in response.context["page_obj"].object_list] == _newest_first()[:PER_PAGE]
    assert _link(response.content.decode(), "prev") is None


def test_a_cursor_past_the_oldest_entry_shows_none_and_links_back_to_the_first_page(manager_client, many_entries):
    oldest = AuditEntry.objects.get(pk=_newest_first()[-1])
    response = manager_client.get(AUDIT, {"older": encode_cursor(oldest.at, oldest.pk)})

    page = response.content.decode()
    assert "No audit entries match these filters." in page
    assert _link(page, "prev") == "?" and _link(page, "next") is None


def test_a_cursor_is_the_entrys_moment_and_id_to_the_microsecond():
    at = dt.datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
    assert decode_cursor(encode_cursor(at, 42)) == (at, 42)
