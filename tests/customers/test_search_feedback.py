"""Search feedback: the matches the status filter hides ("12 closed cards also match — show them")
and the matched part of a name, number or phone marked in the results."""

import re

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers import also
from customers.filters import also_matching
from customers.highlight import Marks, mark_phone_end
from customers.models import Customer
from customers.search import parse
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SEARCH = reverse("customers:search")
ALSO = reverse("customers:search_also")


@pytest.fixture
def zhangs():
    """One active 张伟, and 张伟 cards in each status the default search hides."""
    cards = {"active": CustomerFactory(customer_no="Z001", name="张伟")}
    for n, status in enumerate(["closed", "closed", "void", "archived"], start=2):
        cards.setdefault(status, []).append(CustomerFactory(customer_no=f"Z00{n}", name=f"张伟{n}", status=status))
    CustomerFactory(customer_no="Z009", name="李娜", status="closed")  # hidden, but no match
    return cards


# --- "N closed cards also match" -----------------------------------------------------------------


def test_the_search_page_fetches_the_hidden_matches_after_its_results(staff_client, zhangs):
    html = staff_client.get(SEARCH, {"q": "张伟"}).content.decode()
    assert f'hx-get="{ALSO}?q=%E5%BC%A0%E4%BC%9F"' in html
    assert 'hx-trigger="load"' in html
    # Without JavaScript: a plain link that searches every status.
    assert "Search closed, void and archived cards too" in html


def test_the_hidden_matches_are_counted_per_status_with_a_link_that_shows_them(staff_client, zhangs):
    html = staff_client.get(ALSO, {"q": "张伟"}).content.decode()
    assert "2 closed cards, 1 void card and 1 archived card also match this search." in html
    link = re.search(r'<a href="([^"]+)">Show them</a>', html)[1].replace("&amp;", "&")
    assert link == "/?q=%E5%BC%A0%E4%BC%9F&status=active&status=closed&status=void&status=archived"
    shown = staff_client.get(link).content.decode()
    assert all(f">Z00{n}<" in shown for n in range(1, 6)) and ">Z009<" not in shown
    assert "5 customers" in shown


def test_one_hidden_match_is_worded_in_the_singular(staff_client):
    CustomerFactory(name="欧阳娜娜", status="void")
    html = staff_client.get(ALSO, {"q": "欧阳"}).content.decode()
    assert "1 void card also matches this search." in html


def test_the_hint_is_translated(staff_client, zhangs):
    html = staff_client.get(ALSO, {"q": "张伟"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Show them" not in html and "also match" not in html
    assert "2" in html and "<a href=" in html


def test_statuses_ticked_in_the_filter_are_not_hidden_and_active_ones_can_be(staff_client, zhangs):
    html = staff_client.get(ALSO, {"q": "张伟", "status": ["closed", "void"]}).content.decode()
    assert "1 active card and 1 archived card also match this search." in html
    assert "status=closed&amp;status=void&amp;status=active&amp;status=archived" in html


def test_the_hidden_matches_keep_the_other_filters(staff_client):
    CustomerFactory(name="张伟", status="closed", city="北京")
    CustomerFactory(name="张伟", status="closed", city="上海")
    html = staff_client.get(ALSO, {"q": "张伟", "city": "北京"}).content.decode()
    assert "1 closed card also matches this search." in html
    assert "city=%E5%8C%97%E4%BA%AC" in html


def test_no_hint_without_matches_or_text_or_hidden_statuses(staff_client, zhangs):
    assert "data-also-match" not in staff_client.get(ALSO, {"q": "王芳"}).content.decode()
    assert "data-also-match" not in staff_client.get(ALSO, {}).content.decode()
    every = {"q": "张伟", "status": ["active", "closed", "void", "archived", "erased"]}
    assert "data-also-match" not in staff_client.get(ALSO, every).content.decode()
    page = staff_client.get(SEARCH, every).content.decode()
    assert ALSO not in page
    assert ALSO not in staff_client.get(SEARCH, {"city": "上海"}).content.decode()  # no text in the box


def test_the_hidden_matches_are_counted_with_one_capped_query(zhangs):
    """One query whatever the search, reading at most cap + 1 matching rows (on PostgreSQL, at most
    cap + 1 a status for 1–2 characters of a name, each part along the (status, id) index)."""
    for params in ({"q": "张伟"}, {"q": "Z001"}, {"q": "5678"}, {"q": "张伟3"}):
        with CaptureQueriesContext(connection) as queries:
            _filterset, found = also_matching(params, user=None)
        (sql,) = [q["sql"] for q in queries]
        assert "LIMIT 1001" in sql and "GROUP BY" in sql, sql
        assert found is not None
    _filterset, found = also_matching({"q": "张伟"}, user=None)
    assert found.counts == {"closed": 2, "void": 1, "archived": 1} and not found.capped


def test_the_hint_says_more_than_the_cap_when_it_is_reached(zhangs):
    found = also.count_by_status(Customer.objects.all(), parse("张伟"), ["closed", "void", "archived"], cap=2)
    assert found.capped
    assert found.sentence() == "More than 2 cards with a hidden status also match this search."


def test_the_search_page_itself_runs_no_extra_query_for_the_hint(staff_client, zhangs):
    """The hint has its own request: the results' queries are the same with or without it."""
    with CaptureQueriesContext(connection) as queries:
        staff_client.get(SEARCH, {"q": "张伟"})
    assert not [q["sql"] for q in queries if "GROUP BY" in q["sql"]]


# --- the matched part marked ------------------------------------------------------------------------


def test_the_matched_part_of_a_name_is_marked(staff_client):
    CustomerFactory(name="张伟明")
    CustomerFactory(name="欧阳伟")
    html = staff_client.get(SEARCH, {"q": "伟"}).content.decode()
    assert "张<mark>伟</mark>明" in html and "欧阳<mark>伟</mark>" in html
    html = staff_client.get(SEARCH, {"q": "张伟"}).content.decode()
    assert "<mark>张伟</mark>明" in html


def test_a_name_is_escaped_before_it_is_marked(staff_client):
    CustomerFactory(name="<script>alert(1)</script> Bob")
    html = staff_client.get(SEARCH, {"q": "script"}).content.decode()
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; Bob" in html
    assert "<script>alert" not in html


def test_a_latin_name_is_marked_whatever_the_case(staff_client):
    CustomerFactory(name="Jennifer SMITH")
    html = staff_client.get(SEARCH, {"q": "smi"}).content.decode()
    assert "Jennifer <mark>SMI</mark>TH" in html


@pytest.mark.parametrize("typed", ["c000777", "Ｃ０００７７７", " C000777 "])
def test_a_customer_number_is_marked_however_it_was_typed(staff_client, typed):
    CustomerFactory(customer_no="C000777", name="王芳")
    html = staff_client.get(SEARCH, {"q": typed}).content.decode()
    assert "<mark>C000777</mark>" in html


def test_the_last_digits_of_a_phone_are_marked_in_the_masked_number(staff_client):
    CustomerFactory(customer_no="P001", phone="+8613812345678")
    html = staff_client.get(SEARCH, {"q": "5678"}).content.decode()
    assert "+86138****<mark>5678</mark>" in html


def test_a_full_phone_is_marked_for_whoever_sees_it_unmasked(admin_client):
    CustomerFactory(customer_no="P001", phone="+8613812345678")
    html = admin_client.get(SEARCH, {"q": "138 1234 5678"}).content.decode()
    assert "+<mark>86 138 1234 5678</mark>" in html or "+86 <mark>138 1234 5678</mark>" in html


def test_nothing_is_marked_without_a_search(staff_client):
    CustomerFactory(name="张伟")
    assert "<mark>" not in staff_client.get(SEARCH).content.decode()


def test_a_phone_that_only_shares_some_last_digits_is_not_marked():
    assert mark_phone_end("+86 138 1234 1678", "5678") == "+86 138 1234 1678"
    assert mark_phone_end("+86138****5678", "12345678") == "+86138****<mark>5678</mark>"


def test_the_marks_follow_what_the_search_matched():
    assert Marks.for_terms(parse("张伟")) == Marks(name="张伟", number="张伟")
    assert Marks.for_terms(parse("jen@example.com")).email == "jen@example.com"
    assert Marks.for_terms(parse("１３８-1234")).digits == "1381234"
    assert Marks.for_terms(None) is None


def test_the_highlight_filter_escapes_then_marks():
    template = Template("{% load customer_tags %}{{ name|highlight:q }}")
    html = template.render(Context({"name": "<b>张伟</b>", "q": "张"}))
    assert html == "&lt;b&gt;<mark>张</mark>伟&lt;/b&gt;"
    assert Template("{% load customer_tags %}{{ name|highlight:q }}").render(Context({"name": "a&b", "q": ""})) == (
        "a&amp;b"
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("text", "indexes"),
    [
        ("伟", ["customer_status_id"]),
        ("张伟", ["customer_status_id"]),
        # A few hidden cards in the test table: the status index may serve them rather than the trigrams.
        ("张伟明", ["customer_name_trgm", "customer_status_id"]),
        ("5678", ["phone_rev", "customer_status_id"]),
    ],
)
def test_on_postgresql_the_hint_reads_the_searchs_own_indexes(zhangs, text, indexes):
    """Each part of the count is served by an index (1–2 characters: the name grams in step with
    the (status, id) index, capped; 3 or more: the trigram index; last digits: phone_rev)."""
    sql, params = also.statement(Customer.objects.all(), parse(text), ["closed", "void", "archived"], 1000)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # In a table of a few dozen cards the planner may read the hidden statuses through any index
    # that starts with the status (customer_status_updated, customer_status_name): each is an index.
    status_led = ("customer_status_id", "customer_status_updated", "customer_status_name")
    wanted = [*indexes, *status_led] if "customer_status_id" in indexes else indexes
    assert any(index in plan for index in wanted), plan
    assert "Seq Scan on customers_customer" not in plan, plan
    assert "Limit" in plan, plan
