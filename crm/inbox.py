"""The to-do inbox: what waits for the user, counted in every page's header and listed on /inbox/.

crm owns the inbox but knows none of what goes into it: each app above registers its **sources**
in its AppConfig.ready(), as closures does (closures/inbox.py)::

    from crm import inbox

    inbox.register(inbox.Source(
        key="closures.approvals",                 # unique, stable: InboxSeen rows keep it
        label=gettext_lazy("Closure requests to decide"),
        permission="closures.decide_closurerequest",  # who has this source at all
        url="closures:request_queue",             # where its items are worked on
        count=lambda user: ...,                   # how many wait for ``user``: ONE indexed query
        panel=lambda request, seen_at: "...",     # its section of the inbox page (HTML), optional
        tracks_seen=False,                        # True: opening the inbox marks its items seen
    ))

and tells the inbox when what a source counts changed, so the header's cached count is read
again (``changed``; call it where the change is written, inside the operation's transaction)::

    inbox.changed("closures.approvals")                      # every user's count of this source
    inbox.changed("closures.decided", users=[requester_id])  # only these users' counts

Later features plug in the same way: callbacks due (followups), tickets assigned (service),
at-risk customers (insights). A source that counts "new since I last looked" compares with
``since_seen(user, key)`` inside its own count query (the user's InboxSeen row, read as a
subquery, so the count stays one query); the inbox page marks such sources seen when opened.

Cost. The header runs on every page, so each source's count must be one indexed query, and the
counts are cached per user (``INBOX_CACHE_SECONDS``, default 30; 0 turns the cache off) together
with the versions of what they were counted from: one cache read per page when nothing changed.
``changed`` gives the source (or the users) a new random version at once — so the process that
made the change shows it on its next page — and again after the transaction commits, so a count
computed by someone else from the rows as they were before the commit is not kept. Without a
shared cache (REDIS_URL unset, one cache per process) another process may show an old count for
at most ``INBOX_CACHE_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import DateTimeField, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import InboxSeen

__all__ = [
    "Source",
    "all_sources",
    "changed",
    "counts",
    "mark_seen",
    "register",
    "seen_times",
    "since_seen",
    "sources_for",
    "total",
]

# Versions outlive the counts by far: a version that expired reads as "none", which only makes a
# count stored before it was ever set look current again, and counts live INBOX_CACHE_SECONDS.
_VERSION_SECONDS = 7 * 24 * 3600
_NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Source:
    """One kind of thing that waits for a user (see the module docstring)."""

    key: str
    label: Any
    permission: str
    url: str
    count: Callable[[Any], int]
    panel: Callable[[Any, dt.datetime | None], str] | None = None
    tracks_seen: bool = False


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    _SOURCES[source.key] = source


def all_sources() -> list[Source]:
    """Every registered source (to count every user's inbox again after a change of data scopes)."""
    return list(_SOURCES.values())


def sources_for(user) -> list[Source]:
    """The sources ``user`` has, in the order they were registered."""
    if not user.is_authenticated:
        return []
    return [source for source in _SOURCES.values() if user.has_perm(source.permission)]


def since_seen(user, key: str):
    """An expression for "when ``user`` last looked at source ``key``" (1970 if never), for a count's filter."""
    seen = InboxSeen.objects.filter(user_id=user.pk, key=key).values("seen_at")[:1]
    return Coalesce(Subquery(seen), Value(_NEVER), output_field=DateTimeField())


def seen_times(user, sources: Iterable[Source]) -> dict[str, dt.datetime]:
    """When ``user`` last looked at each of ``sources`` that tracks it (one query); missing = never."""
    keys = [source.key for source in sources if source.tracks_seen]
    if not keys:
        return {}
    return dict(InboxSeen.objects.filter(user_id=user.pk, key__in=keys).values_list("key", "seen_at"))


def mark_seen(user, sources: Iterable[Source]) -> None:
    """Everything in these sources counts as seen by ``user`` from now (one upsert)."""
    now = timezone.now()
    rows = [InboxSeen(user_id=user.pk, key=source.key, seen_at=now) for source in sources if source.tracks_seen]
    if not rows:
        return
    InboxSeen.objects.bulk_create(rows, update_conflicts=True, unique_fields=["user", "key"], update_fields=["seen_at"])
    changed(rows[0].key, users=[user.pk])


# --- The header's counts, cached ---------------------------------------------------------------------


def _cache_seconds() -> int:
    return getattr(settings, "INBOX_CACHE_SECONDS", 30)


def _source_version_key(key: str) -> str:
    return f"inbox:v:{key}"


def _user_version_key(user_id) -> str:
    return f"inbox:v:user:{user_id}"


def _entry_key(user_id) -> str:
    return f"inbox:n:{user_id}"


def counts(user) -> dict[str, int]:
    """How many items wait for ``user`` in each of their sources (source key -> count).

    One cache read when nothing changed since the counts were stored; otherwise one query per source.
    """
    sources = sources_for(user)
    if not sources:
        return {}
    seconds = _cache_seconds()
    if seconds <= 0:
        return {source.key: source.count(user) for source in sources}
    version_keys = [_user_version_key(user.pk)] + [_source_version_key(source.key) for source in sources]
    found = cache.get_many([_entry_key(user.pk), *version_keys])
    versions = {key: found.get(key) for key in version_keys}
    stored = found.get(_entry_key(user.pk))
    if stored is not None:
        stored_versions, stored_counts = stored
        if all(stored_versions.get(key) == version for key, version in versions.items()) and all(
            source.key in stored_counts for source in sources
        ):
            return {source.key: stored_counts[source.key] for source in sources}
    fresh = {source.key: source.count(user) for source in sources}
    cache.set(_entry_key(user.pk), (versions, fresh), seconds)
    return fresh


def changed(key: str, *, users: Iterable[int] | None = None) -> None:
    """What source ``key`` counts changed for every user; with ``users`` (their ids), the counts of
    those users alone are read again (every source of theirs: one version per user).

    The version changes now and again after the commit (see the module docstring).
    """
    if users is None:
        keys = [_source_version_key(key)]
    else:
        keys = [_user_version_key(user_id) for user_id in dict.fromkeys(users) if user_id is not None]
    if not keys:
        return

    def bump() -> None:
        cache.set_many({cache_key: uuid.uuid4().hex[:12] for cache_key in keys}, _VERSION_SECONDS)

    bump()
    transaction.on_commit(bump)


def total(user) -> int:
    return sum(counts(user).values())
