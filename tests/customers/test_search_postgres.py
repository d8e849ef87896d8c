"""PostgreSQL search structures: the name-gram table kept by its trigger, and index use."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers import search
from customers.filters import filtered_customers, order_by_for, search_results
from customers.models import Customer, NameGram
from customers.results import SearchPaginator
from customers.search import database_locale_problem
from tests.factories import CustomerFactory, TagFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"),
    pytest.mark.django_db,
]


def stored_grams(customer) -> set[str]:
    return set(NameGram.objects.filter(customer=customer).values_list("gram", flat=True))


def name_grams(name: str) -> set[str]:
    """What the trigger should store for a name, written out: each character and each pair,
    lower-cased, leaving out any containing whitespace."""
    lowered = (name or "").lower()
    grams = {lowered[i : i + size] for size in (1, 2) for i in range(len(lowered) - size + 1)}
    return {gram for gram in grams if not any(ch.isspace() for ch in gram)}


def database_grams(name: str) -> set[str]:
    """What the database's own function (the trigger's) gives for a name."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT customers_name_grams(%s)", [name])
        return {row[0] for row in cursor.fetchall()}


def test_the_database_locale_lets_pg_trgm_see_chinese_characters():
    assert database_locale_problem() is None


def test_name_grams_are_every_character_and_pair_lower_cased_without_whitespace():
    assert database_grams("张伟明") == name_grams("张伟明") == {"张", "伟", "明", "张伟", "伟明"}
    assert database_grams("Li Na") == name_grams("Li Na") == {"l", "i", "n", "a", "li", "na"}


def test_a_new_card_gets_its_grams():
    customer = CustomerFactory(name="欧阳娜娜")
    assert stored_grams(customer) == {"欧", "阳", "娜", "欧阳", "阳娜", "娜娜"}


def test_a_renamed_card_gets_its_new_grams_and_loses_the_old_ones():
    customer = CustomerFactory(name="张伟")
    customer.name = "Zhang Wei"
    customer.save()
    assert stored_grams(customer) == name_grams("Zhang Wei")
    Customer.objects.filter(pk=customer.pk).update(name="李娜")
    assert stored_grams(customer) == {"李", "娜", "李娜"}


def test_an_update_that_keeps_the_name_keeps_the_grams():
    customer = CustomerFactory(name="王芳")
    Customer.objects.filter(pk=customer.pk).update(city="杭州", status="closed")
    assert stored_grams(customer) == {"王", "芳", "王芳"}


def test_bulk_created_cards_get_their_grams():
    names = ["赵丽颖", "Jennifer Smith", "周杰"]
    customers = Customer.objects.bulk_create(
        [Customer(customer_no=f"B{n}", name=name, phone_rev="") for n, name in enumerate(names)]
    )
    for customer, name in zip(customers, names, strict=True):
        assert stored_grams(customer) == name_grams(name)


def test_the_gram_table_equals_what_every_name_should_give():
    for name in ["张伟", "张伟明", "李伟", "Mary-Jane O'Neil", "  空格  名字 "]:
        CustomerFactory(name=name)
    expected = {(gram, c.pk) for c in Customer.objects.all() for gram in name_grams(c.name)}
    assert set(NameGram.objects.values_list("gram", "customer_id")) == expected


def test_an_erased_name_loses_its_grams():
    customer = CustomerFactory(name="王秀英")
    Customer.objects.filter(pk=customer.pk).update(name="[erased]", status="erased")
    assert "王" not in stored_grams(customer)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("伟", {"张伟", "张伟明", "李伟"}), ("张伟", {"张伟", "张伟明"}), ("张伟明", {"张伟明"}), ("na", {"Li Na"})],
)
def test_one_two_and_three_character_names_find_the_right_cards(text, expected):
    for name in ["张伟", "张伟明", "李伟", "王芳", "Li Na"]:
        CustomerFactory(name=name)
    _filterset, customers = filtered_customers({"q": text}, user=None)
    assert {c.name for c in customers} == expected


def _plan(queryset) -> str:
    """The plan with sequential scans made unattractive, so an index that can serve the query is used.

    The test tables are tiny, so the planner would rightly scan them; switching sequential
    scans off shows whether the query's expressions match an index at all (if none did, the
    plan would still be a sequential scan). docs/benchmarks.md has the plans at scale.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.parametrize(
    ("text", "match_indexes", "exact_indexes"),
    [
        ("张伟明", ["customer_name_trgm"], ["customer_name_upper"]),
        ("Zhang Wei", ["customer_name_trgm"], ["customer_name_upper"]),  # a space: cannot be a customer number
        ("伟", ["customers_namegram_pkey"], ["customer_name_upper"]),
        ("张伟", ["customers_namegram_pkey"], ["customer_name_upper"]),
        ("wu", ["customers_namegram_pkey"], ["customer_no_unique_any_case", "customer_name_upper"]),
        ("C000123", ["customer_name_trgm"], ["customer_no_unique_any_case", "customer_name_upper"]),
        ("zhang@example.cn", ["customer_email_upper"], ["customer_email_upper"]),
        ("5678", ["customer_phone_rev_covering", "customer_no_unique_any_case"], ["customer_no_unique_any_case"]),
        ("138 1234 5678", ["customers_customer_phone", "customer_phone_rev_covering"], ["customers_customer_phone"]),
        (
            "13812345678",
            ["customers_customer_phone", "customer_phone_rev_covering", "customer_no_unique_any_case"],
            ["customer_no_unique_any_case"],
        ),
    ],
)
def test_each_kind_of_search_is_served_by_its_indexes(text, match_indexes, exact_indexes):
    CustomerFactory(name="张伟明", customer_no="C000123", phone="+8613812345678", email="zhang@example.cn")
    terms = search.parse(text)
    for condition, indexes in ((terms.match, match_indexes), (terms.exact, exact_indexes)):
        plan = _plan(Customer.objects.filter(condition).order_by())
        assert "Seq Scan" not in plan, plan
        for index in indexes:
            assert index in plan, plan


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("-total", "customer_status_total"),
        ("total", "customer_status_total"),
        ("-last_interaction", "customer_status_interaction"),
        ("last_interaction", "customer_status_interaction"),
        ("segment", "customer_status_segment"),
        ("city", "customer_status_city"),
        ("-updated", "customer_status_updated"),
        ("name", "customer_status_name"),
    ],
)
def test_a_sorted_page_of_active_customers_is_read_in_index_order(sort, index):
    Customer.objects.bulk_create(
        Customer(customer_no=f"S{n:04d}", name=f"Name {n}", city=f"City {n % 40}", purchase_total=n % 97)
        for n in range(600)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    plan = _plan(Customer.objects.filter(status="active").order_by(*order_by_for(sort))[:25])
    assert index in plan, plan


def test_the_matches_of_a_short_name_are_counted_from_indexes_without_reading_names():
    """The capped count of 伟's matches (12% of cards at scale) leaves the exact matches out by
    id, which the (status, id) index checks; "NOT upper(name) = ..." read every candidate row."""
    Customer.objects.bulk_create(Customer(customer_no=f"W{n:04d}", name=f"伟{n}") for n in range(300))
    CustomerFactory(name="伟")
    _filterset, results = search_results({"q": "伟"}, user=None)
    assert len(results.exact_ids) == 1
    plan = _plan(results.others.order_by("-pk")[:1001])
    assert "customer_status_id" in plan, plan
    assert "upper" not in plan.lower(), plan
    assert results.capped_count(1000) == 301


def test_a_page_of_results_reads_its_tag_names_with_its_rows(staff_client):
    """On PostgreSQL the tag names come with the rows (an array subquery), not from a query of their own."""
    vip, key = TagFactory(name="VIP"), TagFactory(name="Key")
    for n in range(20):  # one page
        customer = CustomerFactory(name=f"张伟{n}")
        if n % 2:
            customer.tags.set([vip, key])
    CustomerFactory(name="张伟")
    queries = CaptureQueriesContext(connection)
    with queries:
        for params in ({"q": "张伟"}, {"q": "张伟0"}, {}):
            response = staff_client.get("/", params)
            assert response.status_code == 200
    assert not [q["sql"] for q in queries if q["sql"].startswith('SELECT "customers_customer_tags"')]
    page = response.content.decode()
    assert page.count('<span class="badge tag">Key</span> <span class="badge tag">VIP</span>') == 10


def test_a_filtered_search_is_counted_from_the_filters_index_not_along_the_sort():
    """Counting in the page's order walked the sort column's index in search of the filter's
    matches (key accounts in 上海 sorted by name: 55,000 rows read for 1,001 at a million cards)."""
    Customer.objects.bulk_create(
        Customer(customer_no=f"F{n:04d}", name=f"Name {n}", city="上海" if n % 7 == 0 else "北京", segment="key")
        for n in range(700)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    _filterset, results = search_results({"segment": "key", "city": "上海", "o": "name"}, user=None)
    paginator = SearchPaginator(results)
    queries = CaptureQueriesContext(connection)
    with queries:
        assert paginator.count == 100
    (count,) = [q["sql"] for q in queries]
    assert "ORDER BY" not in count and "ARRAY" not in count, count
