"""Pagination that never counts a million rows on a page view."""

import datetime as dt
import re
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.utils.functional import cached_property

MAX_PAGE = 10_000


class CappedPage(Page):
    """A page that knows its neighbours from its own rows, never from ``num_pages``.

    Django's Page checks the neighbouring page numbers against ``paginator.num_pages``, which
    here comes from the capped count: with a cap of 1,000 and 50 per page, "Previous" on page 23
    asked for page 22 of 21 and raised EmptyPage (a 500 on the audit log, the request queue and
    search alike). Past the cap the count says nothing about where the pages end.
    """

    def __init__(self, object_list, number, paginator, has_more: bool):
        super().__init__(object_list, number, paginator)
        self._has_more = has_more

    def has_next(self) -> bool:
        return self._has_more

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return max(self.number - 1, 1)

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows (one sliced COUNT), and reads one row past the page to know
    whether there is a next page, so page N of a million-row result costs two small queries.

    ``count_is_capped`` tells the template to show "1,000+" instead of an exact total.
    """

    def __init__(self, object_list, per_page, cap: int = 1000, **kwargs):
        self.cap = cap
        super().__init__(object_list, per_page, **kwargs)

    @cached_property
    def count(self) -> int:
        # Without the page's ORDER BY: counting needs no sort (177-339 ms -> 27-59 ms at scale),
        # and the planner counts from the filter's index instead of walking the sort column's in
        # search of the filter's matches (customers in 上海 sorted by name: 160 ms -> 1 ms). Only
        # the ids: a sliced count keeps the selected columns, annotations and their subqueries too.
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @property
    def count_is_capped(self) -> bool:
        return self.count > self.cap

    def page(self, number) -> CappedPage:
        """Page ``number`` (one query for its rows and one past them).

        When the page is the last one and not empty, or the first one and empty, the rows give
        the total, so ``count`` needs no query of its own (a lookup by phone or number: one row).
        """
        number = self.validate_number_loosely(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if len(rows) <= self.per_page and (rows or number == 1):
            self.__dict__["count"] = bottom + len(rows)  # fills the cached_property
        return CappedPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)

    @staticmethod
    def validate_number_loosely(number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError):
            return 1
        return min(max(number, 1), MAX_PAGE)


def page_of(request, queryset, per_page: int = 25, cap: int = 1000) -> CappedPage:
    """The requested page; a bad ?page= value gives page 1, never a 500."""
    return CappedPaginator(queryset, per_page, cap=cap).page(request.GET.get("page", "1"))


# --- Keyset pages: newest first, by (time, id) -------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_ID = 2**63 - 1
_CURSOR = re.compile(r"(-?[0-9]{1,18})_([0-9]{1,19})")


def encode_cursor(at: dt.datetime, pk: int) -> str:
    """A row's place in a newest-first list: microseconds since 1970 (UTC) and its id."""
    return f"{(at - _EPOCH) // dt.timedelta(microseconds=1)}_{pk}"


def decode_cursor(raw: str | None) -> tuple[dt.datetime, int] | None:
    """The (time, id) of a cursor; None for anything that is not one (the caller shows the first page)."""
    found = _CURSOR.fullmatch(raw or "")
    if found is None:
        return None
    try:
        at, pk = _EPOCH + dt.timedelta(microseconds=int(found[1])), int(found[2])
    except OverflowError:  # beyond the years 1-9999
        return None
    return (at, pk) if 0 < pk <= _MAX_ID else None


@dataclass
class KeysetPage:
    """One page of a newest-first list, and the cursors of its neighbours ("" = the first page)."""

    object_list: list
    newer_cursor: str | None
    older_cursor: str | None

    @property
    def has_newer(self) -> bool:
        return self.newer_cursor is not None

    @property
    def has_older(self) -> bool:
        return self.older_cursor is not None

    def has_other_pages(self) -> bool:
        return self.has_newer or self.has_older


def keyset_page(queryset, query, *, per_page: int = 50, field: str = "at") -> KeysetPage:
    """The page of ``queryset`` (newest first by ``field``, then id) that ``?older=`` or ``?newer=`` asks for.

    An offset page (``?page=23``) costs a scan of every row before it and, with a capped count,
    cannot say where the list ends; a cursor carries the (time, id) of the row next to the page,
    so every page is one indexed range read however deep, and rows written meanwhile never shift
    a row onto two pages or none. A missing or bad cursor gives the first page, never a 500.
    """
    newest_first = queryset.order_by(f"-{field}", "-pk")
    older, newer = decode_cursor(query.get("older")), decode_cursor(query.get("newer"))
    if newer is not None:
        above = list(queryset.filter(_after(field, *newer)).order_by(field, "pk")[: per_page + 1])
        if len(above) > per_page:  # not the first page: the page just above the cursor
            rows = above[per_page - 1 :: -1]
            older_cursor = encode_cursor(getattr(rows[-1], field), rows[-1].pk)
            return KeysetPage(rows, encode_cursor(getattr(rows[0], field), rows[0].pk), older_cursor)
        older = None
    if older is not None:
        newest_first = newest_first.filter(_before(field, *older))
    rows = list(newest_first[: per_page + 1])
    more, rows = len(rows) > per_page, rows[:per_page]
    older_cursor = encode_cursor(getattr(rows[-1], field), rows[-1].pk) if more else None
    if older is None:
        return KeysetPage(rows, None, older_cursor)
    top = (getattr(rows[0], field), rows[0].pk) if rows else older
    newer_cursor = encode_cursor(*top) if rows else ""
    return KeysetPage(rows, newer_cursor if queryset.filter(_after(field, *top)).exists() else None, older_cursor)


def _before(field: str, at: dt.datetime, pk: int) -> Q:
    return Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk})


def _after(field: str, at: dt.datetime, pk: int) -> Q:
    return Q(**{f"{field}__gt": at}) | Q(**{field: at, "pk__gt": pk})
