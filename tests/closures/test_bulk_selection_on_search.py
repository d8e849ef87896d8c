"""Managers select cards for a bulk closure from the search results; Staff see no such controls."""

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_managers_get_a_checkbox_per_row_and_a_whole_result_link(manager_client):
    first, second = CustomerFactory(city="杭州"), CustomerFactory(city="杭州")
    body = manager_client.get(reverse("customers:search"), {"city": "杭州"}).content.decode()
    assert f'name="ids" value="{first.pk}"' in body and f'name="ids" value="{second.pk}"' in body
    assert f'action="{reverse("closures:bulk")}"' in body
    assert "all=1&amp;city=" in body


def test_staff_get_no_bulk_controls(staff_client):
    CustomerFactory()
    body = staff_client.get(reverse("customers:search")).content.decode()
    assert 'name="ids"' not in body
    assert reverse("closures:bulk") not in body


def test_the_whole_result_link_selects_what_the_search_finds(manager_client):
    wanted = [CustomerFactory(city="杭州") for _ in range(3)]
    CustomerFactory(city="北京")
    response = manager_client.get(reverse("closures:bulk"), {"all": "1", "city": "杭州"})
    assert response.status_code == 200
    assert response.context["count"] == len(wanted)
