"""The search page: what the box matches, exact matches first, active only by default, masking."""

import pytest
from django.urls import reverse

from customers import filters
from customers.filters import SearchBox, filtered_customers, search_results
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SEARCH = reverse("customers:search")


def found(params: dict) -> list[str]:
    """Customer numbers the search returns, in order."""
    _filterset, customers = filtered_customers(params, user=None)
    return [c.customer_no for c in customers]


@pytest.fixture
def people():
    return {
        "zhang_wei": CustomerFactory(
            customer_no="C000101", name="张伟", phone="+8613812345678", email="zhang.wei@example.cn"
        ),
        "zhang_weiming": CustomerFactory(customer_no="C000102", name="张伟明", phone="+8613900005678"),
        "li_wei": CustomerFactory(customer_no="C000103", name="李伟", phone="+8613700001234"),
        "wang_fang": CustomerFactory(customer_no="C000104", name="王芳", phone="+8618600009999"),
        "smith": CustomerFactory(
            customer_no="VIP-7", name="Jennifer Smith", phone="+12025550123", email="jen@example.com"
        ),
    }


def test_the_box_is_labelled_search_customers_with_a_search_button(staff_client):
    html = staff_client.get(SEARCH).content.decode()
    assert '<label for="id_q">Search customers</label>' in html
    assert ">Search</button>" in html


@pytest.mark.parametrize("text", ["C000103", "c000103", " C000103 "])
def test_a_customer_number_finds_its_card_whatever_the_case(people, text):
    assert found({"q": text}) == ["C000103"]


@pytest.mark.parametrize(
    "text",
    ["13812345678", "+86 138 1234 5678", "138-1234-5678", "8613812345678", "0086 138 1234 5678", "+8613812345678"],
)
def test_a_full_phone_in_any_accepted_format_finds_its_card(people, text):
    assert found({"q": text}) == ["C000101"]


def test_the_last_four_digits_find_every_card_ending_with_them(people):
    assert found({"q": "5678", "o": "customer_no"}) == ["C000101", "C000102"]


def test_more_last_digits_narrow_it_down(people):
    assert found({"q": "345678"}) == ["C000101"]


def test_a_foreign_phone_is_found_by_its_full_number_and_its_last_digits(people):
    assert found({"q": "+1 202 555 0123"}) == ["VIP-7"]
    assert found({"q": "0123"}) == ["VIP-7"]


@pytest.mark.parametrize("text", ["zhang.wei@example.cn", "Zhang.Wei@Example.CN"])
def test_an_email_finds_its_card_exactly(people, text):
    assert found({"q": text}) == ["C000101"]


def test_part_of_an_email_is_not_a_match(people):
    assert found({"q": "wei@example"}) == []


def test_a_two_character_chinese_name_finds_every_name_containing_it_exact_first(people):
    assert found({"q": "张伟", "o": "-customer_no"}) == ["C000101", "C000102"]


def test_a_single_chinese_character_finds_every_name_containing_it(people):
    assert sorted(found({"q": "伟"})) == ["C000101", "C000102", "C000103"]


def test_three_chinese_characters_find_the_exact_name(people):
    assert found({"q": "张伟明"}) == ["C000102"]


def test_an_english_name_is_found_by_any_part_of_it_case_insensitively(people):
    assert found({"q": "smi"}) == ["VIP-7"]
    assert found({"q": "jennifer SMITH"}) == ["VIP-7"]


def test_exact_matches_come_first_whatever_the_sort(people):
    CustomerFactory(customer_no="C000001", name="张伟强")
    assert found({"q": "张伟", "o": "customer_no"}) == ["C000101", "C000001", "C000102"]


def test_the_exact_match_is_marked_in_the_results(staff_client, people):
    html = staff_client.get(SEARCH, {"q": "张伟"}).content.decode()
    assert html.count("Exact match") == 1


def test_a_search_matching_nothing_says_so(staff_client, people):
    html = staff_client.get(SEARCH, {"q": "诸葛"}).content.decode()
    assert "No customer matches this search." in html
    assert "0 customers" in html


def test_only_active_customers_are_shown_by_default(people):
    CustomerFactory(customer_no="C000201", name="张伟", status=Customer.Status.CLOSED)
    assert "C000201" not in found({"q": "张伟"})


def test_a_status_filter_shows_closed_void_and_archived_cards_with_their_badge(staff_client, people):
    for n, status in enumerate(["closed", "void", "archived"]):
        CustomerFactory(customer_no=f"C00030{n}", name="张伟", status=status)
    params = {"q": "张伟", "status": ["closed", "void", "archived"], "o": "customer_no"}
    assert found(params) == ["C000300", "C000301", "C000302"]
    html = staff_client.get(SEARCH, params).content.decode()
    for status in ["closed", "void", "archived"]:
        assert f'<span class="badge {status}">' in html


def test_erased_cards_are_listed_without_personal_data(staff_client):
    CustomerFactory(customer_no="C000400", name="王秀英", status=Customer.Status.ERASED, phone="+8613811112222")
    response = staff_client.get(SEARCH, {"status": "erased"})
    html = response.content.decode()
    assert "C000400" in html
    assert '<span class="badge erased">' in html
    assert "王秀英" not in html and "1111 2222" not in html and "****2222" not in html


def test_staff_see_masked_phones_and_emails(staff_client, people):
    html = staff_client.get(SEARCH, {"q": "C000101"}).content.decode()
    assert "+86138****5678" in html
    assert "z***@example.cn" in html
    assert "zhang.wei@example.cn" not in html


def test_admins_see_full_phones_and_emails(admin_client, people):
    html = admin_client.get(SEARCH, {"q": "C000101"}).content.decode()
    assert "+86 138 1234 5678" in html
    assert "zhang.wei@example.cn" in html


def test_an_htmx_request_gets_only_the_results(staff_client, people):
    response = staff_client.get(SEARCH, {"q": "张伟"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<mark>张伟</mark>明" in html  # the match marked (customers.highlight)
    assert "<html" not in html and "Search customers" not in html
    assert "HX-Request" in response["Vary"]


def test_the_plain_page_works_without_javascript(staff_client, people):
    html = staff_client.get(SEARCH, {"q": "张伟"}).content.decode()
    assert "<html" in html and "<mark>张伟</mark>明" in html
    assert 'method="get"' in html


def test_the_search_box_searches_as_you_type_with_htmx(staff_client):
    html = staff_client.get(SEARCH).content.decode()
    assert 'hx-get="/"' in html
    assert 'hx-target="#results"' in html
    assert "delay:300ms" in html


@pytest.mark.parametrize("sort", ["", "name", "-customer_no", "-total", "last_interaction"])
def test_the_pages_show_exactly_what_the_export_gets_in_the_same_order(sort):
    for n in range(28):
        CustomerFactory(customer_no=f"E{n:03d}", name="张伟" if n % 9 == 0 else f"张伟{n}", purchase_total=n % 5)
    params = {"q": "张伟", "o": sort}
    _filterset, export = filtered_customers(params, user=None)
    _filterset, results = search_results(params, user=None)
    paged = [c.customer_no for start in range(0, 50, 25) for c in results[start : start + 25]]
    assert paged == [c.customer_no for c in export]
    assert len(paged) == 28
    assert set(paged[:4]) == {"E000", "E009", "E018", "E027"}  # the exact matches


def test_the_second_page_continues_where_the_first_ended(staff_client):
    for n in range(30):
        CustomerFactory(customer_no=f"E{n:03d}", name="王芳" if n < 3 else f"王芳{n}")
    first = staff_client.get(SEARCH, {"q": "王芳"}).content.decode()
    second = staff_client.get(SEARCH, {"q": "王芳", "page": 2}).content.decode()
    shown = [f"E{n:03d}" for n in range(30) if f">E{n:03d}<" in first]
    rest = [f"E{n:03d}" for n in range(30) if f">E{n:03d}<" in second]
    assert len(shown) == 25 and len(rest) == 5
    assert not set(shown) & set(rest)
    assert {"E000", "E001", "E002"} <= set(shown)
    assert first.index(">E002<") < first.index(">E029<")  # exact matches first, then newest first


@pytest.mark.parametrize(
    "params",
    [{"q": "张伟"}, {"q": "张伟", "o": "-total"}, {"q": "5678", "page": "2"}, {"q": "wei", "segment": "", "city": " "}],
)
def test_the_box_alone_is_read_without_the_advanced_filters(params):
    assert isinstance(filters._filtered(params)[0], SearchBox)


@pytest.mark.parametrize(
    "params",
    [{"q": "张伟", "segment": "key"}, {"status": "closed"}, {"filters": "open"}, {"o": "bogus"}, {"q": "x" * 101}],
)
def test_a_filter_an_open_panel_or_a_wrong_value_takes_the_whole_filter_form(params):
    assert not isinstance(filters._filtered(params)[0], SearchBox)


@pytest.mark.parametrize("params", [{"q": "张伟"}, {"q": "张伟", "o": "name"}, {"q": "1234"}, {"o": "-updated"}, {}])
def test_the_box_alone_finds_what_the_whole_filter_form_finds(monkeypatch, params):
    CustomerFactory(customer_no="C1234", name="张伟", phone="+8613800001234")
    CustomerFactory(name="张伟明", phone="+8613900001234", purchase_total=5)
    CustomerFactory(name="李伟", status=Customer.Status.CLOSED)
    CustomerFactory(name="Zhang Wei")
    quick = found(params)
    monkeypatch.setattr(SearchBox, "for_params", classmethod(lambda cls, query, user=None: None))
    assert found(params) == quick
    assert quick


@pytest.mark.parametrize("sort", ["", "-customer_no"])
def test_exact_matches_running_past_the_first_page_continue_on_the_next(sort):
    for n in range(32):
        CustomerFactory(customer_no=f"X{n:03d}", name="张伟" if n < 30 else "张伟明")
    params = {"q": "张伟", "o": sort}
    _filterset, export = filtered_customers(params, user=None)
    _filterset, results = search_results(params, user=None)
    paged = [c.customer_no for start in range(0, 50, 25) for c in results[start : start + 25]]
    assert paged == [c.customer_no for c in export]
    assert set(paged[30:]) == {"X030", "X031"}
    assert paged[:30] == sorted(paged[:30], reverse=True)


def results_queries(client, params) -> tuple[str, list[str]]:
    """The page and the SQL of its queries that read customers (not the tag names, the session...)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        html = client.get(SEARCH, params).content.decode()
    return html, [q["sql"] for q in queries if 'FROM "customers_customer" ' in q["sql"]]


@pytest.fixture
def ending_5678():
    """30 phones ending with 5678, a customer whose number is 5678, and one that matches nothing."""
    for n in range(30):
        CustomerFactory(customer_no=f"P{n:03d}", phone=f"+86138{n:05d}5678")
    CustomerFactory(customer_no="5678", phone="+8613900000001")
    CustomerFactory(customer_no="P999", phone="+8613800001111")


def test_the_last_digits_are_paged_exact_first_from_their_ids_then_the_pages_rows(staff_client, ending_5678):
    """The matches' ids (exact first, then newest first) are read and counted in one query, from
    indexes alone on PostgreSQL, then only the page's rows: no COUNT query."""
    first, sql = results_queries(staff_client, {"q": "5678"})
    assert len(sql) == 2 and not any("COUNT(" in query for query in sql), sql
    assert "31 customers" in first
    assert first.index(">5678<") < first.index(">P029<") < first.index(">P028<")
    assert "Exact match" in first
    second, sql = results_queries(staff_client, {"q": "5678", "page": 2})
    shown = [f"P{n:03d}" for n in range(30) if f">P{n:03d}<" in first]
    rest = [f"P{n:03d}" for n in range(30) if f">P{n:03d}<" in second]
    assert len(shown) == 24 and len(rest) == 6 and not set(shown) & set(rest)
    assert "31 customers" in second and ">P999<" not in first + second


@pytest.mark.parametrize("params", [{"q": "5678", "o": "customer_no"}, {"q": "+86 139 0000 0001"}])
def test_a_phone_search_in_another_order_or_in_full_is_read_sorted_and_counted_in_one_query(
    staff_client, ending_5678, params
):
    html, sql = results_queries(staff_client, params)
    assert len(sql) == 1 and "COUNT(" in sql[0] and "OVER" in sql[0], sql
    assert html.index(">5678<") < html.index("Exact match")  # the exact match first, marked
    if params.get("o"):
        assert "31 customers" in html and html.index(">5678<") < html.index(">P000<") < html.index(">P001<")
    else:
        assert "1 customer" in html


@pytest.mark.parametrize(
    "params", [{"q": "5678"}, {"q": "5678", "o": "-customer_no"}, {"q": "(5678)"}, {"q": "jen@example.com"}]
)
def test_a_search_of_few_matches_gives_the_export_its_rows_in_the_same_order(people, params):
    CustomerFactory(customer_no="5678", phone="+8613900000001")
    _filterset, export = filtered_customers(params, user=None)
    _filterset, results = search_results(params, user=None)
    assert [c.customer_no for c in results[0:25]] == [c.customer_no for c in export]
    assert len(export) >= 1


def test_a_page_past_the_last_of_a_phone_search_is_empty_and_still_counted(staff_client, people):
    html = staff_client.get(SEARCH, {"q": "5678", "page": 3}).content.decode()
    assert "2 customers" in html
    assert ">C000101<" not in html


def test_a_name_of_many_exact_matches_counts_exact_and_partial_matches_once_each(staff_client):
    """Exact matches (by number or whole name) and partial ones are counted together, once each."""
    CustomerFactory(customer_no="WEI", name="Li Na")  # exact by number only
    for n in range(27):
        CustomerFactory(customer_no=f"W{n:03d}", name="Wei")  # exact by name (and partial)
    for n in range(5):
        CustomerFactory(customer_no=f"Z{n:03d}", name="Zhang Wei")  # partial only
    CustomerFactory(customer_no="L001", name="Li Na")
    _filterset, results = search_results({"q": "Wei"}, user=None)
    _filterset, export = filtered_customers({"q": "Wei"}, user=None)
    assert results.capped_count(1000) == len(export) == 33
    html = staff_client.get(SEARCH, {"q": "Wei"}).content.decode()
    assert "33 customers" in html
    second = staff_client.get(SEARCH, {"q": "Wei", "page": 2}).content.decode()
    assert all(f">Z{n:03d}<" in second for n in range(5))  # after the 28 exact matches
