"""The import batches page (Admins) and the customer search by batch, source and part of a city.

Every committed import is a batch; the page lists them newest first and links each to the cards it
created (the search filtered by ``batch``, counted exactly however many) and to its closures (the
closure list filtered by the same batch)."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import gate, imports
from customers.filters import filtered_customers
from customers.models import Customer, ImportBatch
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
PAGE = reverse("customers:import_batches")
SEARCH = reverse("customers:search")


def found(params: dict) -> list[str]:
    _filterset, customers = filtered_customers(params, user=None)
    return sorted(c.customer_no for c in customers)


def batch_of(user, *, name="客户.xlsx", days_ago=0, **counts) -> ImportBatch:
    return ImportBatch.objects.create(
        file_name=name, created_by=user, created_at=timezone.now() - dt.timedelta(days=days_ago), **counts
    )


# --- The page ------------------------------------------------------------------------------------
def test_the_page_lists_every_batch_newest_first_with_its_counts_and_links(admin_client, admin_user):
    older = batch_of(admin_user, name="一月.xlsx", days_ago=30, rows=10, created_count=8, updated_count=2)
    newer = batch_of(admin_user, name="history.csv", kind="closures", rows=5, closed_count=5)

    html = admin_client.get(PAGE).content.decode()

    assert html.index("history.csv") < html.index("一月.xlsx")
    assert "Historical closures" in html and "Customers" in html
    assert admin_user.get_full_name() in html
    assert (
        '<td class="num" data-label="Rows">10</td>\n    <td class="num" data-label="Created">8</td>\n'
        '    <td class="num" data-label="Updated">2</td>\n    <td class="num" data-label="Closures recorded">0</td>'
        in html
    )
    assert f'href="{older.get_absolute_url().replace("&", "&amp;")}"' in html
    closures = reverse("analytics:closure_list")
    assert f'href="{closures}?batch={older.pk}&amp;period=all"' in html
    assert f'href="{closures}?batch={newer.pk}&amp;period=all"' in html
    # a closures batch created no cards: no link to customers
    assert f"batch={newer.pk}&amp;status=" not in html


def test_the_customers_link_shows_every_card_the_batch_created_whatever_its_status(admin_client, admin_user):
    batch = batch_of(admin_user, created_count=2)
    CustomerFactory(customer_no="B1", import_batch=batch)
    CustomerFactory(customer_no="B2", import_batch=batch, status=Customer.Status.CLOSED)
    CustomerFactory(customer_no="OTHER")

    html = admin_client.get(batch.get_absolute_url()).content.decode()

    assert ">B1<" in html and ">B2<" in html and ">OTHER<" not in html
    assert "2 customers" in html


def test_the_page_is_paginated(admin_client, admin_user):
    for n in range(30):
        batch_of(admin_user, name=f"file{n:02d}.csv", days_ago=n)
    first = admin_client.get(PAGE).content.decode()
    second = admin_client.get(PAGE, {"page": 2}).content.decode()
    assert first.count(".csv</td>") == 25 and 'rel="next"' in first
    assert second.count(".csv</td>") == 5 and "file29.csv" in second


def test_an_empty_page_says_so(admin_client):
    assert "No file has been imported yet." in admin_client.get(PAGE).content.decode()


@pytest.mark.parametrize("role_client", ["staff", "manager"], indirect=True)
def test_staff_and_managers_cannot_see_the_import_batches(role_client):
    assert role_client.get(PAGE).status_code == 403


def test_admins_find_the_page_in_the_menu(admin_client, manager_client):
    assert f'href="{PAGE}"' in admin_client.get(SEARCH).content.decode()
    assert f'href="{PAGE}"' not in manager_client.get(SEARCH).content.decode()


# --- The search ----------------------------------------------------------------------------------
def test_the_search_filters_by_batch_and_by_source(admin_user):
    batch = batch_of(admin_user, created_count=2)
    CustomerFactory(customer_no="B1", import_batch=batch, source="旧系统 Legacy CRM")
    CustomerFactory(customer_no="B2", import_batch=batch, source="门店 Store")
    CustomerFactory(customer_no="C1", source="旧系统 Legacy CRM")

    assert found({"batch": str(batch.pk)}) == ["B1", "B2"]
    assert found({"source": "旧系统 Legacy CRM"}) == ["B1", "C1"]
    assert found({"source": "旧系统 Legacy CRM", "batch": str(batch.pk)}) == ["B1"]


def test_the_source_filter_offers_the_sources_in_use(staff_client):
    CustomerFactory(source="门店 Store")
    CustomerFactory(source="旧系统 Legacy CRM")
    html = staff_client.get(SEARCH, {"filters": "open"}).content.decode()
    assert '<option value="旧系统 Legacy CRM">旧系统 Legacy CRM</option>' in html
    assert '<option value="门店 Store">门店 Store</option>' in html


@pytest.mark.parametrize("text", ["Testville", "testville", "测试", "城市 Test", " 测试城市  Testville "])
def test_a_city_is_found_by_any_part_of_its_name(text):
    CustomerFactory(customer_no="T1", city="测试城市 Testville")
    CustomerFactory(customer_no="T2", city="上海")
    assert found({"city": text}) == ["T1"]


def test_a_city_matching_nothing_finds_nothing():
    CustomerFactory(city="上海")
    assert found({"city": "Atlantis"}) == []


def test_a_city_given_to_a_card_is_found_once_the_change_commits(manager_user, django_capture_on_commit_callbacks):
    card = CustomerFactory(customer_no="M1", city="上海")
    assert found({"city": "杭州"}) == []  # the list of cities is now cached
    with django_capture_on_commit_callbacks(execute=True):
        gate.update_card(card, {"city": "杭州市"}, by=manager_user, source=gate.FORM)
    assert found({"city": "杭州"}) == ["M1"]


def test_a_source_imported_is_offered_once_the_import_commits(admin_user, django_capture_on_commit_callbacks):
    CustomerFactory(customer_no="X1")
    filterset, _customers = filtered_customers({"source": "旧系统"}, user=None)
    assert "source" in filterset.form.errors  # not a choice yet (and the list is now cached)
    data = "customer_no,name,source\nS1,甲,旧系统\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        assert imports.import_customers(io.BytesIO(data), "s.csv", user=admin_user, commit=True).written
    assert found({"source": "旧系统"}) == ["S1"]


def test_a_batch_of_more_than_a_thousand_cards_is_counted_exactly(staff_client, admin_user):
    batch = batch_of(admin_user, created_count=1203)
    Customer.objects.bulk_create(
        [Customer(customer_no=f"BULK{n:05d}", name=f"客户{n}", import_batch=batch) for n in range(1203)]
    )
    Customer.objects.bulk_create([Customer(customer_no=f"ELSE{n:05d}", name=f"其他{n}") for n in range(5)])

    in_batch = staff_client.get(SEARCH, {"batch": batch.pk}).content.decode()
    everyone = staff_client.get(SEARCH).content.decode()

    assert "1203 customers" in in_batch and "More than" not in in_batch
    assert "More than 1,000 customers" in everyone


def test_a_source_given_on_the_card_form_is_offered_once_the_card_is_saved(
    manager_user, django_capture_on_commit_callbacks
):
    CustomerFactory(customer_no="X1", source="门店 Store")
    assert found({"source": "门店 Store"}) == ["X1"]  # the list of sources is now cached
    with django_capture_on_commit_callbacks(execute=True):
        gate.create_card({"name": "新客", "source": "展会 Fair"}, by=manager_user, source=gate.FORM)
    assert [c.name for c in filtered_customers({"source": "展会 Fair"}, user=None)[1]] == ["新客"]
