"""A part of a page whose session ended sends the whole page to the log-in page, then back."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

SEARCH = reverse("customers:search")
HTMX = {"HX-Request": "true", "HX-Current-URL": "https://testserver/?q=%E4%BC%9F&city=x"}


def test_an_htmx_request_without_a_session_is_told_to_load_the_login_page_as_a_page(client):
    response = client.get(SEARCH, {"q": "伟"}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2F%3Fq%3D%25E4%25BC%259F%26city%3Dx"
    assert not response.has_header("Location") and b"<form" not in response.content


def test_the_fetched_filter_panel_sends_back_to_the_search_page_not_to_the_fragment(client):
    response = client.get(reverse("customers:search_filters"), headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == "/accounts/login/?next=%2F"


def test_a_plain_request_is_still_redirected_as_usual(client):
    response = client.get(SEARCH, {"q": "伟"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")
    assert not response.has_header("HX-Redirect")


def test_other_redirects_of_htmx_requests_are_left_alone(staff_client):
    response = staff_client.get("/customers/123456789", headers={"HX-Request": "true"})  # APPEND_SLASH
    assert response.status_code == 301 and response["Location"] == "/customers/123456789/"


def test_a_logged_in_htmx_request_gets_its_fragment(staff_client):
    response = staff_client.get(SEARCH, {"q": "伟"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and not response.has_header("HX-Redirect")
    assert b"<html" not in response.content
