"""The cohort table: customers by the month (or quarter) they started, and the share of each
cohort closed within 3, 6, 12 and 24 months.

Expected figures are computed here from the factories' Python objects (an oracle that never
touches the ORM's filtering or aggregation, with dateutil's month arithmetic and zoneinfo's local
dates), and compared with what analytics.cohorts reads from the tally and the customer counts.
"""

import io
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics import cohorts
from analytics.filters import ClosureFilter
from closures import bulk, erasure, operations, tally
from closures.models import Closure, CohortTally
from closures.rules import ClosureChoice
from customers.counts import cards_by_since_month
from customers.models import Customer, Tag
from tests.closures.steps import reason
from tests.factories import ClosureFactory, CustomerFactory, UserFactory

from .history import local, local_day

TODAY = date(2024, 5, 15)
URL = reverse("analytics:dashboard")


@dataclass
class World:
    cards: list = field(default_factory=list)
    closures: list = field(default_factory=list)
    owners: list = field(default_factory=list)


def _card(world: World, since: date, **extra) -> Customer:
    card = CustomerFactory(customer_since=since, created_at=local(since.year, since.month, since.day, 9), **extra)
    world.cards.append(card)
    return card


def _closure(world: World, card: Customer, when, *, action="close", reverted=None) -> Closure:
    closure = ClosureFactory(customer=card, action=action, performed_at=when, reverted_at=reverted)
    world.closures.append(closure)
    return closure


def build_world(seed: int = 11, n: int = 160) -> World:
    """Cards starting from 2021 to May 2024 in two segments; most have closures: kept or reinstated
    (then closed again), closed, voided, archived or erased, at every tenure."""
    rng = random.Random(seed)
    world = World()
    world.owners = [UserFactory(username=f"owner{i}") for i in range(3)]
    first = date(2021, 1, 1)
    for i in range(n):
        since = first + timedelta(days=rng.randrange((TODAY - first).days))
        card = _card(world, since, segment="key" if i % 3 == 0 else "regular", owner=world.owners[i % 4 % 3])
        when = local(since.year, since.month, since.day, 10) + timedelta(
            days=rng.randrange(0, 1100), hours=rng.randrange(14)
        )
        if rng.random() < 0.25 or local_day(when) >= TODAY:
            continue  # still a customer
        action = rng.choices(["close", "void", "archive", "erase"], weights=[70, 10, 10, 10])[0]
        if action != "erase" and rng.random() < 0.3:  # reinstated, and perhaps closed again later
            back = when + timedelta(days=rng.randrange(1, 60))
            _closure(world, card, when, action=action, reverted=back)
            when = back + timedelta(days=rng.randrange(1, 200))
            if local_day(when) >= TODAY or rng.random() < 0.4:
                continue
            action = "close"
        _closure(world, card, when, action=action)
    return world


def expected(world: World, *, grain="month", first=None, last=None, today=TODAY, cards=None) -> dict:
    """{cohort label: (size, [closed within 3, 6, 12, 24 months, or None when too young])}."""
    chosen = {c.pk for c in (cards if cards is not None else world.cards)}
    in_force = {c.customer_id: c for c in world.closures if c.reverted_at is None and c.customer_id in chosen}
    groups: dict[date, list] = {}
    for card in world.cards:
        if card.pk not in chosen or (card.pk in in_force and in_force[card.pk].action == "void"):
            continue
        since = card.customer_since
        start = date(since.year, since.month if grain == "month" else (since.month - 1) // 3 * 3 + 1, 1)
        groups.setdefault(start, []).append(card)
    out = {}
    for start, members in sorted(groups.items()):
        months = 1 if grain == "month" else 3
        end = start + relativedelta(months=months) - timedelta(days=1)
        if (first and end < first) or (last and start > last):
            continue
        row = []
        for n in cohorts.HORIZONS:
            if end + relativedelta(months=n) > today:
                row.append(None)
                continue
            row.append(
                sum(
                    1
                    for card in members
                    if card.pk in in_force
                    and in_force[card.pk].action == "close"
                    and local_day(in_force[card.pk].performed_at) < card.customer_since + relativedelta(months=n)
                )
            )
        label = f"{start:%Y-%m}" if grain == "month" else f"{start.year} Q{(start.month - 1) // 3 + 1}"
        out[label] = (len(members), row)
    return out


def shown(table) -> dict:
    return {row.label: (row.size, [cell.closed for cell in row.cells]) for row in table.rows}


def table_for(query: dict, *, grain="month", limit=100, today=TODAY):
    fs = ClosureFilter(query, today=today)
    assert fs.is_valid(), fs.errors
    cache.clear()
    return cohorts.cohort_table(fs, grain=grain, limit=limit)


@pytest.fixture
def world(db):
    return build_world()


# --- the figures ---------------------------------------------------------------------------------
def test_every_cohort_size_and_closed_count_matches_the_raw_rows(world):
    table = table_for({"period": "all"})
    want = expected(world)
    assert shown(table) == want
    assert sum(size for size, _row in want.values()) > 100
    assert any(row[0] for _size, row in want.values()), "some cards must close within 3 months to prove anything"
    assert not table.filtered  # read from the tally and the card counts


def test_shares_are_the_closed_cards_over_the_cohort(world):
    for row in table_for({"period": "all"}).rows:
        for cell in row.cells:
            assert cell.share == (None if cell.closed is None else cell.closed / row.size)


def test_quarters_add_up_their_months_and_wait_for_their_last_month(world):
    table = table_for({"period": "all"}, grain="quarter")
    assert shown(table) == expected(world, grain="quarter")
    labels = [row.label for row in table.rows]
    assert labels[0] == "2021 Q1" and labels[-1] == "2024 Q2"
    # 2024 Q1 ends on 31 March: 3 months later is 30 June, after today (15 May).
    assert [cell.ready for cell in table.rows[-2].cells] == [False, False, False, False]


@pytest.mark.parametrize(
    "query",
    [{"segment": "key"}, {"segment": "regular", "period": "custom", "start": "2022-02-10", "end": "2023-06-30"}],
    ids=["key accounts, all time", "regular customers of a custom period"],
)
def test_a_population_filter_narrows_both_the_cohorts_and_their_closures(world, query):
    query = {"period": "all", **query}
    table = table_for(query)
    members = [c for c in world.cards if c.segment == query["segment"]]
    first = date.fromisoformat(query["start"]) if "start" in query else None
    last = date.fromisoformat(query["end"]) if "end" in query else None
    want = expected(world, cards=members, first=first, last=last)
    assert shown(table) == want
    assert table.filtered
    everyone = expected(world, first=first, last=last)
    assert sum(s for s, _r in want.values()) < sum(s for s, _r in everyone.values())


@pytest.mark.parametrize("with_segment", [False, True], ids=["an owner", "an owner and a segment"])
def test_other_population_filters_read_the_cards_and_the_populations_closures(world, with_segment):
    owner = world.owners[1]
    query = {"period": "all", "owner": owner.pk, **({"segment": "key"} if with_segment else {})}
    members = [c for c in world.cards if c.owner_id == owner.pk and (not with_segment or c.segment == "key")]
    fs = ClosureFilter(query, today=TODAY)
    assert fs.is_valid(), fs.errors
    with CaptureQueriesContext(connection) as queries:
        table = cohorts.cohort_table(fs, limit=100)
    assert shown(table) == expected(world, cards=members)
    # The cards by since, the population's closures (and with a segment, on PostgreSQL, their ids
    # read once first). An owner alone: the cards by since per owner (on PostgreSQL the epoch token,
    # the settled days, cached from then on, and the recent days) and the cohort owner tally.
    postgres = connection.vendor == "postgresql"
    assert table.filtered and len(queries) == ((3 if with_segment else 4) if postgres else 2)
    assert not any("closures_cohorttally" in q["sql"] for q in queries)


def test_a_tag_filter_reads_the_raw_tables_for_the_tagged_cards(world):
    tag = Tag.objects.create(name="迁移")
    tagged = world.cards[::4]
    for card in tagged:
        card.tags.add(tag)
    table = table_for({"period": "all", "tag": tag.pk})
    assert table.filtered
    assert shown(table) == expected(world, cards=tagged)


def test_the_period_selects_cohorts_by_when_customers_started_and_the_limit_keeps_the_latest(world):
    table = table_for({"period": "custom", "start": "2022-03-20", "end": "2022-11-02"})
    want = expected(world, first=date(2022, 3, 20), last=date(2022, 11, 2))
    assert shown(table) == want
    # The whole months it touches: March from the 1st, November to the 30th.
    assert set(want) <= {f"2022-{m:02d}" for m in range(3, 12)} and {"2022-03", "2022-11"} <= set(want)
    everything = list(expected(world))
    limited = table_for({"period": "all"}, limit=6)
    assert [row.label for row in limited.rows] == everything[-6:]
    assert limited.earlier == len(everything) - 6


# --- the definitions, case by case ------------------------------------------------------------------
@pytest.fixture
def cases(db):
    """One cohort (June 2021, ten cards) with one card per rule, and a month-end cohort."""
    w = World()
    june = [_card(w, date(2021, 6, 15)) for _ in range(10)]
    _closure(w, june[0], local(2021, 7, 1, 10))  # 0 months: within 3
    _closure(w, june[1], local(2021, 9, 14, 23, 30))  # the last local day before 15 September: within 3
    _closure(w, june[2], local(2021, 9, 15, 0, 30))  # 15 September local (14th in UTC): within 6, not 3
    _closure(w, june[3], local(2022, 3, 1, 10))  # within 12
    _closure(w, june[4], local(2022, 3, 1, 10), reverted=local(2022, 3, 5, 10))  # reinstated: not closed
    _closure(w, june[5], local(2021, 7, 1, 10), reverted=local(2021, 7, 3, 10))  # reinstated early ...
    _closure(w, june[5], local(2023, 1, 2, 10))  # ... and closed again at 18 months
    _closure(w, june[6], local(2021, 7, 1, 10), action="void")  # never a customer: not in the cohort
    _closure(w, june[7], local(2021, 7, 1, 10), action="archive")  # archived: not closed
    _closure(w, june[8], local(2021, 7, 1, 10), action="erase")  # erased while active: not closed
    # june[9] still a customer
    january = [_card(w, date(2022, 1, 31)) for _ in range(2)]
    _closure(w, january[0], local(2022, 2, 28, 10))  # 31 January + 1 month = 28 February: 1 whole month
    _closure(w, january[1], local(2022, 4, 29, 10))  # before 30 April (31 January + 3 months): within 3
    return w


def test_each_rule_counts_as_defined(cases):
    table = table_for({"period": "custom", "start": "2021-06-01", "end": "2022-01-31"})
    rows = shown(table)
    assert rows["2021-06"] == (9, [2, 3, 4, 5])  # the void card is out; 24 months: the re-closed card too
    assert rows["2022-01"] == (2, [2, 2, 2, 2])
    assert shown(table) == expected(cases, first=date(2021, 6, 1), last=date(2022, 1, 31))


def test_cells_stay_blank_until_the_cohorts_youngest_customer_is_old_enough(db):
    w = World()
    for since in (date(2024, 1, 10), date(2024, 1, 31), date(2024, 2, 5), date(2023, 5, 1)):
        _closure(w, _card(w, since), local(since.year, since.month, since.day, 12) + timedelta(days=20))
    table = table_for({"period": "all"}, today=date(2024, 4, 30))
    ready = {row.label: [cell.ready for cell in row.cells] for row in table.rows}
    assert ready["2024-01"] == [True, False, False, False]  # 31 January + 3 months = 30 April
    assert ready["2024-02"] == [False, False, False, False]  # 29 February + 3 months = 29 May
    assert ready["2023-05"] == [True, True, False, False]  # 31 May 2023 + 12 months = 31 May 2024
    assert table_for({"period": "all"}, today=date(2024, 4, 29)).rows[1].cells[0].ready is False


@pytest.mark.parametrize(
    ("since", "closed", "months"),
    [
        (date(2024, 1, 31), date(2024, 2, 28), 0),
        (date(2024, 1, 31), date(2024, 2, 29), 1),
        (date(2023, 1, 31), date(2023, 2, 28), 1),
        (date(2024, 3, 15), date(2024, 6, 14), 2),
        (date(2024, 3, 15), date(2024, 6, 15), 3),
        (date(2024, 3, 15), date(2024, 3, 1), 0),  # closed before the since date
        (date(2020, 1, 1), date(2024, 1, 1), tally.COHORT_MONTHS),  # 48 months counted as the cap
    ],
)
def test_whole_months_between_two_dates(since, closed, months):
    assert tally.months_between(since, closed) == months
    if months < tally.COHORT_MONTHS:
        assert closed < since + relativedelta(months=months + 1)
        assert months == 0 or closed >= since + relativedelta(months=months)


# --- the tally ------------------------------------------------------------------------------------
def _tally_rows() -> dict:
    return {(r.cohort, r.months, r.action, r.segment): r.n for r in CohortTally.objects.exclude(n=0)}


def test_the_cohort_tally_equals_a_recount_after_the_operations(db, manager_user, admin_user):
    """Close, void, archive, reinstate, close again, bulk close and erase, through the operations."""
    today = timezone.localdate()
    cards = [
        CustomerFactory(customer_since=today - timedelta(days=40 * i), segment=("key", "regular")[i % 2])
        for i in range(12)
    ]
    operations.close_customer(cards[0], ClosureChoice("close", reason("price")), by=manager_user)
    operations.close_customer(cards[1], ClosureChoice("void", reason("test-entry")), by=manager_user)
    operations.close_customer(cards[2], ClosureChoice("archive", reason("long-inactive")), by=manager_user)
    operations.close_customer(cards[3], ClosureChoice("close", reason("service")), by=manager_user)
    operations.reinstate(cards[3], by=manager_user, note="回来了")
    operations.close_customer(cards[3], ClosureChoice("close", reason("moved-away")), by=manager_user)
    operations.reinstate(cards[0], by=manager_user, note="误操作")
    bulk.bulk_close([c.pk for c in cards[4:9]], ClosureChoice("close", reason("price")), by=manager_user)
    for card in (cards[4], cards[9]):  # erase a closed card and an active one
        card.refresh_from_db()
        erasure.erase_customer(
            card, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation=card.customer_no
        )
    assert _tally_rows() == {k: n for k, n in tally.counted_cohorts(Closure.objects.all()).items() if n}
    assert sum(_tally_rows().values()) == Closure.objects.filter(reverted_at__isnull=True).count() == 9
    close_rows = {k: n for k, n in _tally_rows().items() if k[2] == "close"}
    assert sum(close_rows.values()) == 6  # cards 3 to 8, card 4 erased after closing


def test_the_table_reads_the_tally_and_rebuild_repairs_it(world):
    right = shown(table_for({"period": "all"}))
    CohortTally.objects.filter(action="close").update(n=0)
    wrong = shown(table_for({"period": "all"}))
    assert wrong != right and all(not any(row) for _size, row in wrong.values())
    written = tally.rebuild()
    assert written["cohorts"] == len(_tally_rows())
    assert shown(table_for({"period": "all"})) == right


def test_a_closure_without_customer_since_belongs_to_no_cohort(db):
    card = CustomerFactory(customer_since=date(2022, 5, 5))
    ClosureFactory(customer=card, customer_since=None, performed_at=local(2022, 6, 1))
    assert _tally_rows() == {}
    assert tally.counted_cohorts(Closure.objects.all()) == Counter()


# --- the page and the export ------------------------------------------------------------------------
def test_the_dashboard_ends_with_the_cohort_table(manager_client, cases):
    CustomerFactory(customer_since=timezone.localdate() - timedelta(days=10))  # a cohort too young to say
    html = manager_client.get(URL, {"period": "all"}).content.decode()
    section = html[html.index('id="cohorts"') :]
    assert html.index('id="cohorts"') > html.index("chart-trend")
    assert "<caption" in section and 'scope="row">2021-06</th>' in section
    assert 'role="region"' in section and 'tabindex="0"' in section
    assert '<td class="num">9</td>' in section  # June 2021 without its void card
    assert "22.2%" in section and "(2)" in section  # 2 of 9 within 3 months
    assert "not yet" in section  # the 2024 cohorts are too young
    assert "void records" in section.lower()
    assert 'href="?period=all&amp;grain=quarter#cohorts"' in section


def test_the_grain_stays_in_the_url_and_in_the_filter_form(manager_client, cases):
    html = manager_client.get(URL, {"period": "all", "grain": "quarter"}).content.decode()
    assert 'scope="row">2021 Q2</th>' in html and 'scope="row">2021-06</th>' not in html
    assert '<input type="hidden" name="grain" value="quarter">' in html
    assert 'aria-current="true">By quarter' in html
    html = manager_client.get(URL, {"period": "all", "grain": "fortnight"}).content.decode()
    assert 'scope="row">2021-06</th>' in html  # an unknown grain is the month


def test_the_dashboard_in_chinese_shows_the_table(manager_client, cases):
    html = manager_client.get(URL, {"period": "all"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "客户群组：按成为客户的时间" in html and "作废的记录（重复等无效记录）不计入" in html


def test_the_export_has_a_cohorts_sheet_with_the_tables_numbers(admin_client, cases):
    response = admin_client.post(f"{reverse('analytics:export')}?period=all", {"format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book["Cohorts"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Started", "Customers", "Closed within 3 months", "Share")
    june = next(r for r in rows if r[0] == "2021-06")
    assert june[:4] == ("2021-06", 9, 2, pytest.approx(2 / 9))
    young = next(r for r in rows if r[0] == "2022-01")
    assert young[1:3] == (2, 2)


@pytest.mark.postgres  # the card epoch token exists on PostgreSQL only
def test_on_postgresql_the_settled_months_are_cached_until_the_card_epoch_changes(db, django_assert_num_queries):
    march = 2022 * 12 + 2
    CustomerFactory(customer_since=date(2022, 3, 3))
    first = cards_by_since_month()
    assert first[march] == 1
    with django_assert_num_queries(1):  # the token and the two recent months, in one statement
        assert cards_by_since_month() == first
    CustomerFactory(customer_since=date(2022, 3, 9))  # stamped 400 days ago: the epoch token changes
    assert cards_by_since_month()[march] == 2
    today = timezone.localdate()
    CustomerFactory(customer_since=today, created_at=timezone.now())  # an ordinary new card: no new token
    with django_assert_num_queries(1):
        counts = cards_by_since_month()
    assert counts[today.year * 12 + today.month - 1] == 1 and counts[march] == 2
