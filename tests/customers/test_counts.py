"""Cards that were customers before a day: a cached count on PostgreSQL that equals a recount whatever changed."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import counts
from customers.counts import since_before_each
from customers.models import Customer
from tests.factories import CustomerFactory

TODAY = timezone.localdate()
DAY = TODAY - dt.timedelta(days=100)


def since_before(day) -> int:
    """One day's cached count, through the app's function (which takes several at once)."""
    return since_before_each([day])[0]


def recount(day=DAY) -> int:
    return Customer.objects.filter(customer_since__lt=day).count()


def token() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token::text FROM customers_cardepoch")
        return cursor.fetchone()[0]


def queries_of(fn) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, [q["sql"] for q in ctx.captured_queries]


def card(days_ago: int, **fields) -> Customer:
    return CustomerFactory(customer_since=TODAY - dt.timedelta(days=days_ago), **fields)


@pytest.fixture
def cards(db):
    """Three customers since long before DAY, one since after it."""
    return [card(100 + d) for d in (1, 30, 300)] + [card(99)]


def test_the_count_is_the_number_of_cards_that_were_customers_strictly_before_the_day(cards):
    assert since_before(DAY) == 3 == recount()
    assert since_before(DAY + dt.timedelta(days=2)) == 4


def test_a_day_before_every_card_counts_none(cards):
    assert since_before(DAY - dt.timedelta(days=1000)) == 0


def test_without_days_nothing_is_counted(db):
    assert since_before_each([]) == []


def test_a_recent_day_counts_the_cards_of_the_last_few_days_too(cards):
    card(0)
    card(2)
    tomorrow = TODAY + dt.timedelta(days=1)
    assert since_before_each([tomorrow, TODAY, DAY]) == [6, 5, 3]


def test_counts_are_cached_per_database_alias_and_day():
    assert counts._key("default", DAY, "t") != counts._key("replica", DAY, "t")
    assert counts._key("default", DAY, "t") != counts._key("default", DAY, "u")
    assert counts._key("default", DAY, "t") != counts._key("default", DAY + dt.timedelta(days=1), "t")


# --- whatever changed, the count equals a recount (cached on PostgreSQL) ----------------------
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda: CustomerFactory(created_at=timezone.now(), customer_since=TODAY), id="an ordinary create"),
        pytest.param(lambda: card(105), id="a migrated customer's card"),
        pytest.param(
            lambda: Customer.objects.bulk_create(
                [CustomerFactory.build(customer_since=DAY - dt.timedelta(days=d)) for d in (2, 3)]
                + [CustomerFactory.build(customer_since=TODAY)]
            ),
            id="a bulk create",
        ),
        pytest.param(lambda: Customer.objects.filter(customer_since__lt=DAY).first().delete(), id="a delete"),
        pytest.param(
            lambda: Customer.objects.filter(customer_since__gte=DAY).update(customer_since=DAY - dt.timedelta(days=9)),
            id="customer since moved before the day",
        ),
        pytest.param(
            lambda: Customer.objects.filter(customer_since__lt=DAY).update(customer_since=TODAY),
            id="customer since moved after the day",
        ),
    ],
)
def test_the_cached_count_equals_a_recount_after_each_kind_of_change(cards, change):
    assert since_before(DAY) == recount() == 3  # now cached
    change()
    assert since_before(DAY) == recount()


# --- PostgreSQL: the epoch token and the cache ------------------------------------------------
@pytest.mark.postgres
def test_a_cached_count_costs_one_token_read_and_a_miss_one_more_query(cards):
    days = [DAY, DAY - dt.timedelta(days=90)]
    first, miss = queries_of(lambda: since_before_each(days))
    again, hit = queries_of(lambda: since_before_each(days))
    assert first == again == [3, 1]
    assert len(miss) == 2 and "customers_customer" in miss[1]
    assert len(hit) == 1 and "customers_cardepoch" in hit[0] and "customers_customer" not in hit[0]


@pytest.mark.postgres
def test_a_recent_day_reads_the_cache_and_a_short_range_only(cards):
    since_before(TODAY)
    card(1)  # a customer since yesterday: no bump
    count, sql = queries_of(lambda: since_before(TODAY))
    assert count == 5 == recount(TODAY)
    assert len(sql) == 2 and "customers_cardepoch" in sql[0]
    assert "customer_since" in sql[1] and ">=" in sql[1]


@pytest.mark.postgres
def test_an_ordinary_create_or_edit_leaves_the_token_alone(cards):
    before = token()
    new = card(0)
    Customer.objects.bulk_create([CustomerFactory.build(customer_since=TODAY) for _ in range(3)])
    new.name = "王小明"
    new.save()  # writes every column, customer_since included, unchanged
    assert token() == before


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: card(30), id="a migrated customer's card"),
        pytest.param(lambda c: c.delete(), id="delete"),
        pytest.param(lambda c: Customer.objects.filter(pk=c.pk).delete(), id="delete by queryset"),
        pytest.param(
            lambda c: Customer.objects.filter(pk=c.pk).update(customer_since=c.customer_since - dt.timedelta(days=1)),
            id="customer since changed",
        ),
    ],
)
def test_an_old_customer_since_a_delete_or_a_changed_one_replaces_the_token(cards, change):
    before = token()
    change(cards[-1])
    assert token() != before


@pytest.mark.postgres
def test_truncating_the_cards_replaces_the_token(cards):
    before = token()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's deferred foreign keys block TRUNCATE
        cursor.execute("TRUNCATE customers_customer CASCADE")
    assert token() != before
    assert since_before(DAY) == 0


@pytest.mark.postgres
def test_a_count_cached_inside_a_rolled_back_transaction_is_never_served(cards):
    assert since_before(DAY) == 3
    with pytest.raises(RuntimeError), transaction.atomic():
        card(101)
        assert since_before(DAY) == 4  # cached under the transaction's own token
        raise RuntimeError("roll back")
    assert since_before(DAY) == 3
    # A counter would now come back to the rolled-back value and serve its count (4); a random
    # token cannot.
    Customer.objects.bulk_create([CustomerFactory.build(customer_since=DAY - dt.timedelta(days=d)) for d in (1, 2)])
    assert since_before(DAY) == 5 == recount()


@pytest.mark.postgres
def test_without_the_epoch_row_every_call_counts(cards):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_cardepoch")
    assert since_before(DAY) == 3
    card(101)
    assert since_before(DAY) == 4


# --- SQLite: the plain count ------------------------------------------------------------------
@pytest.mark.sqlite
def test_on_sqlite_every_call_counts_without_a_cache(cards):
    count, sql = queries_of(lambda: since_before(DAY))
    assert count == 3 == recount() and len(sql) == 1
    card(101)
    Customer.objects.filter(customer_since__gte=DAY).delete()
    count, sql = queries_of(lambda: since_before(DAY))
    assert count == 4 == recount() and len(sql) == 1
