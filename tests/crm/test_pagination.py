"""crm.pagination: capped counts, and no COUNT query when the page itself tells the total."""

import pytest

from crm.pagination import CappedPaginator
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def paginator(per_page=10, cap=25):
    return CappedPaginator(Customer.objects.order_by("pk"), per_page, cap=cap)


def test_a_first_page_shorter_than_a_page_gives_the_total_without_a_count(django_assert_num_queries):
    CustomerFactory.create_batch(3)
    pages = paginator()
    with django_assert_num_queries(1):
        page = pages.page(1)
        assert pages.count == 3 and len(page) == 3 and not page.has_next()


def test_an_empty_result_is_counted_as_zero_from_its_first_page(django_assert_num_queries):
    pages = paginator()
    with django_assert_num_queries(1):
        pages.page(1)
        assert pages.count == 0 and not pages.count_is_capped


def test_the_last_page_gives_the_total(django_assert_num_queries):
    CustomerFactory.create_batch(14)
    last_four = list(Customer.objects.order_by("pk")[10:14].values_list("pk", flat=True))
    pages = paginator()
    with django_assert_num_queries(1):
        page = pages.page(2)
        assert pages.count == 14 and [c.pk for c in page] == last_four


def test_a_full_page_still_counts_up_to_the_cap(django_assert_num_queries):
    CustomerFactory.create_batch(30)
    pages = paginator()
    with django_assert_num_queries(2):
        page = pages.page(1)
        assert page.has_next() and pages.count == 26 and pages.count_is_capped


def test_a_page_past_the_end_counts_with_a_query(django_assert_num_queries):
    CustomerFactory.create_batch(4)
    pages = paginator()
    with django_assert_num_queries(2):
        page = pages.page(3)
        assert len(page) == 0 and pages.count == 4


def test_a_page_past_the_capped_count_links_back_to_the_page_before_it():
    # The count stops at the cap (26 rows -> "3 pages" of 10), yet page 5 exists: Django's own
    # Page checked "Previous" (page 4) against those 3 pages and raised EmptyPage, a 500 on the
    # audit log and the request queue from page 23 on, and on search from page 43 on.
    CustomerFactory.create_batch(60)
    page = paginator().page(5)

    assert [page.number, page.previous_page_number(), page.next_page_number()] == [5, 4, 6]
    assert page.has_previous() and page.has_next() and page.paginator.count_is_capped
    assert (page.start_index(), page.end_index()) == (41, 50)


def test_the_pagination_links_render_for_a_page_past_the_cap(rf):
    from django.template.loader import render_to_string

    CustomerFactory.create_batch(60)
    html = render_to_string("includes/pagination.html", {"page_obj": paginator().page(5)}, request=rf.get("/?page=5"))

    assert 'href="?page=4" rel="prev"' in html and 'href="?page=6" rel="next"' in html
