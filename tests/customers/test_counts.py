"""Cards created before a moment: a cached count on PostgreSQL that equals a recount whatever changed."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import counts
from customers.counts import created_before_each
from customers.models import Customer
from tests.factories import CustomerFactory


def postgres(test):
    """Mark a test that needs the epoch triggers of PostgreSQL (skipped on SQLite)."""
    needs = pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"
    )
    return pytest.mark.postgres(needs(test))


MOMENT = timezone.now() - dt.timedelta(days=100)


def created_before(moment) -> int:
    """One moment's cached count, through the app's function (which takes several at once)."""
    return created_before_each([moment])[0]


def recount(moment=MOMENT) -> int:
    return Customer.objects.filter(created_at__lt=moment).count()


def token() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token::text FROM customers_cardepoch")
        return cursor.fetchone()[0]


def queries_of(fn) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, [q["sql"] for q in ctx.captured_queries]


@pytest.fixture
def cards(db):
    """Three cards created long before MOMENT, one after it."""
    old = [CustomerFactory(created_at=MOMENT - dt.timedelta(days=d)) for d in (1, 30, 300)]
    return old + [CustomerFactory(created_at=MOMENT + dt.timedelta(days=1))]


def test_the_count_is_the_number_of_cards_created_strictly_before_the_moment(cards):
    CustomerFactory(created_at=MOMENT)
    assert created_before(MOMENT) == 3 == recount()
    assert created_before_each([MOMENT + dt.timedelta(days=2), MOMENT]) == [5, 3]


def test_a_moment_before_every_card_counts_none(cards):
    assert created_before(MOMENT - dt.timedelta(days=1000)) == 0


def test_without_moments_nothing_is_counted(db):
    assert queries_of(lambda: created_before_each([]))[1] == []


def test_counts_are_cached_per_database_alias_and_instant():
    assert counts._key("default", MOMENT, "t") != counts._key("replica", MOMENT, "t")
    assert counts._key("default", MOMENT, "t") == counts._key("default", MOMENT.astimezone(dt.UTC), "t")
    assert counts._key("default", MOMENT, "t") != counts._key("default", MOMENT, "u")


# --- whatever changed, the count equals a recount (cached on PostgreSQL) ----------------------
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda: CustomerFactory(created_at=timezone.now()), id="an ordinary create"),
        pytest.param(lambda: CustomerFactory(created_at=MOMENT - dt.timedelta(days=5)), id="a backdated create"),
        pytest.param(
            lambda: Customer.objects.bulk_create(
                [CustomerFactory.build(created_at=MOMENT - dt.timedelta(days=d)) for d in (2, 3)]
                + [CustomerFactory.build(created_at=timezone.now())]
            ),
            id="a bulk create",
        ),
        pytest.param(lambda: Customer.objects.filter(created_at__lt=MOMENT).first().delete(), id="a delete"),
        pytest.param(
            lambda: Customer.objects.filter(created_at__gt=MOMENT).update(created_at=MOMENT - dt.timedelta(days=9)),
            id="created_at moved before the moment",
        ),
        pytest.param(
            lambda: Customer.objects.filter(created_at__lt=MOMENT).update(created_at=timezone.now()),
            id="created_at moved after the moment",
        ),
    ],
)
def test_the_cached_count_equals_a_recount_after_each_kind_of_change(cards, change):
    assert created_before(MOMENT) == recount() == 3  # now cached
    change()
    assert created_before(MOMENT) == recount()


# --- PostgreSQL: the epoch token and the cache ------------------------------------------------
@postgres
def test_a_cached_count_costs_one_token_read_and_a_miss_one_more_query(cards):
    moments = [MOMENT, MOMENT - dt.timedelta(days=90)]
    first, miss = queries_of(lambda: created_before_each(moments))
    again, hit = queries_of(lambda: created_before_each(moments))
    assert first == again == [3, 1]
    assert len(miss) == 2 and "customers_customer" in miss[1]
    assert len(hit) == 1 and "customers_cardepoch" in hit[0] and "customers_customer" not in hit[0]


@postgres
def test_a_recent_moment_is_counted_every_time_without_reading_the_token(cards):
    recent = timezone.now() - dt.timedelta(minutes=30)
    assert created_before(recent) == 4
    CustomerFactory(created_at=timezone.now() - dt.timedelta(minutes=45))  # stamped within the hour: no bump
    count, sql = queries_of(lambda: created_before(recent))
    assert count == 5
    assert len(sql) == 1 and "customers_cardepoch" not in sql[0]


@postgres
def test_an_ordinary_create_or_edit_leaves_the_token_alone(cards):
    before = token()
    card = CustomerFactory(created_at=timezone.now())
    Customer.objects.bulk_create([CustomerFactory.build(created_at=timezone.now()) for _ in range(3)])
    card.name = "王小明"
    card.save()  # writes every column, created_at included, unchanged
    assert token() == before


@postgres
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: CustomerFactory(created_at=timezone.now() - dt.timedelta(hours=2)), id="backdated"),
        pytest.param(lambda c: c.delete(), id="delete"),
        pytest.param(lambda c: Customer.objects.filter(pk=c.pk).delete(), id="delete by queryset"),
        pytest.param(
            lambda c: Customer.objects.filter(pk=c.pk).update(created_at=c.created_at + dt.timedelta(seconds=1)),
            id="created_at changed",
        ),
    ],
)
def test_a_backdated_create_a_delete_or_a_new_created_at_replaces_the_token(cards, change):
    before = token()
    change(cards[-1])
    assert token() != before


@postgres
def test_truncating_the_cards_replaces_the_token(cards):
    before = token()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's deferred foreign keys block TRUNCATE
        cursor.execute("TRUNCATE customers_customer CASCADE")
    assert token() != before
    assert created_before(MOMENT) == 0


@postgres
def test_a_count_cached_inside_a_rolled_back_transaction_is_never_served(cards):
    assert created_before(MOMENT) == 3
    with pytest.raises(RuntimeError), transaction.atomic():
        CustomerFactory(created_at=MOMENT - dt.timedelta(days=1))
        assert created_before(MOMENT) == 4  # cached under the transaction's own token
        raise RuntimeError("roll back")
    assert created_before(MOMENT) == 3
    # A counter would now come back to the rolled-back value and serve its count (4); a random
    # token cannot.
    Customer.objects.bulk_create([CustomerFactory.build(created_at=MOMENT - dt.timedelta(days=d)) for d in (1, 2)])
    assert created_before(MOMENT) == 5 == recount()


@postgres
def test_without_the_epoch_row_every_call_counts(cards):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_cardepoch")
    assert created_before(MOMENT) == 3
    CustomerFactory(created_at=MOMENT - dt.timedelta(days=1))
    assert created_before(MOMENT) == 4


# --- SQLite: the plain count ------------------------------------------------------------------
@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite path")
def test_on_sqlite_every_call_counts_without_a_cache(cards):
    count, sql = queries_of(lambda: created_before(MOMENT))
    assert count == 3 == recount() and len(sql) == 1
    CustomerFactory(created_at=MOMENT - dt.timedelta(days=1))
    Customer.objects.filter(created_at__gt=MOMENT).delete()
    count, sql = queries_of(lambda: created_before(MOMENT))
    assert count == 4 == recount() and len(sql) == 1
