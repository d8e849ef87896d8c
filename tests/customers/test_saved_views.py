"""Saved views: a search kept under a name, private or shared; owners rename and delete their own,
Admins may delete shared ones; only the search's own parameters are kept."""

import pytest
from django.urls import reverse

from customers.models import SavedView
from customers.saved import clean_query

pytestmark = pytest.mark.django_db
SEARCH = reverse("customers:search")
CREATE = reverse("customers:saved_view_create")


def _url(name: str, view: SavedView) -> str:
    return reverse(f"customers:{name}", kwargs={"pk": view.pk})


@pytest.fixture
def views(staff_user, manager_user):
    return {
        "mine": SavedView.objects.create(owner=staff_user, name="上海重点", query="city=上海&segment=key"),
        "shared": SavedView.objects.create(owner=manager_user, name="待回访", query="q=张", shared=True),
        "private": SavedView.objects.create(owner=manager_user, name="经理私人", query="q=李"),
    }


def test_saving_the_current_search_keeps_only_its_own_parameters(staff_client, staff_user):
    form = staff_client.get(CREATE, {"q": "张伟", "status": ["active", "closed"], "page": "3"})
    page = form.content.decode()
    assert "张伟" in page and 'value="q=%E5%BC%A0%E4%BC%9F&amp;status=active&amp;status=closed"' in page

    response = staff_client.post(
        CREATE, {"name": " 张伟  全部 ", "query": "q=张伟&status=active&status=closed&page=3&evil=1", "shared": ""}
    )

    view = SavedView.objects.get()
    assert (view.owner, view.name, view.shared) == (staff_user, "张伟 全部", False)
    assert view.query == "q=%E5%BC%A0%E4%BC%9F&status=active&status=closed"
    assert response.status_code == 302 and response["Location"] == f"{SEARCH}?{view.query}"


def test_a_saved_view_can_be_shared_with_everyone(staff_client, manager_client):
    staff_client.post(CREATE, {"name": "北京", "query": "city=北京", "shared": "on"})
    view = SavedView.objects.get()
    assert view.shared
    page = manager_client.get(SEARCH).content.decode()
    assert f'href="{_url("saved_view_open", view)}">北京</a>' in page
    assert "Shared by" in page


def test_the_search_page_lists_my_views_and_shared_ones_not_other_peoples_private_ones(staff_client, views):
    page = staff_client.get(SEARCH).content.decode()
    assert "上海重点" in page and "待回访" in page and "经理私人" not in page
    assert _url("saved_view_edit", views["mine"]) in page
    assert _url("saved_view_edit", views["shared"]) not in page
    assert _url("saved_view_delete", views["shared"]) not in page  # Staff may not delete others' shared views


def test_admins_see_a_delete_link_for_shared_views(admin_client, views):
    page = admin_client.get(SEARCH).content.decode()
    assert _url("saved_view_delete", views["shared"]) in page


def test_opening_a_saved_view_runs_its_search(staff_client, views):
    response = staff_client.get(_url("saved_view_open", views["shared"]))
    assert response.status_code == 302 and response["Location"] == "/?q=%E5%BC%A0"


def test_someone_elses_private_view_is_not_found(staff_client, views):
    for name in ("saved_view_open", "saved_view_edit", "saved_view_delete"):
        assert staff_client.get(_url(name, views["private"])).status_code == 404
    assert staff_client.post(_url("saved_view_delete", views["private"])).status_code == 404
    assert SavedView.objects.filter(pk=views["private"].pk).exists()


def test_an_owner_renames_their_view(staff_client, views):
    response = staff_client.post(_url("saved_view_edit", views["mine"]), {"name": "上海重点客户", "shared": "on"})
    assert response.status_code == 302
    views["mine"].refresh_from_db()
    assert (views["mine"].name, views["mine"].shared) == ("上海重点客户", True)
    assert views["mine"].query == "city=上海&segment=key"  # renaming keeps the search


def test_staff_cannot_rename_or_delete_someone_elses_shared_view(staff_client, views):
    assert staff_client.post(_url("saved_view_edit", views["shared"]), {"name": "x"}).status_code == 404
    assert staff_client.post(_url("saved_view_delete", views["shared"])).status_code == 404
    views["shared"].refresh_from_db()
    assert views["shared"].name == "待回访"


def test_an_owner_deletes_their_view_after_a_confirmation(staff_client, views):
    confirm = staff_client.get(_url("saved_view_delete", views["mine"])).content.decode()
    assert "Delete the saved view “上海重点”?" in confirm
    assert SavedView.objects.filter(pk=views["mine"].pk).exists()
    staff_client.post(_url("saved_view_delete", views["mine"]))
    assert not SavedView.objects.filter(pk=views["mine"].pk).exists()


def test_an_admin_may_delete_a_shared_view_but_not_a_private_one(admin_client, views):
    page = admin_client.get(_url("saved_view_delete", views["shared"])).content.decode()
    assert "shared with everyone: it disappears from everyone's list" in page
    assert admin_client.post(_url("saved_view_delete", views["shared"])).status_code == 302
    assert not SavedView.objects.filter(pk=views["shared"].pk).exists()
    assert admin_client.post(_url("saved_view_delete", views["private"])).status_code == 404
    assert admin_client.post(_url("saved_view_edit", views["mine"]), {"name": "x"}).status_code == 404


def test_a_name_is_unique_for_its_owner_whatever_the_case(staff_client, views, manager_client):
    response = staff_client.post(CREATE, {"name": "上海重点", "query": "q=王"})
    assert "You already have a saved view named “上海重点”; choose another name." in response.content.decode()
    assert SavedView.objects.count() == 3
    manager_client.post(CREATE, {"name": "上海重点", "query": "q=王"})  # another owner may use it
    assert SavedView.objects.filter(name="上海重点").count() == 2


def test_an_empty_search_or_a_blank_name_is_refused_next_to_its_field(staff_client):
    page = staff_client.post(CREATE, {"name": "  ", "query": "page=2&evil=1"}).content.decode()
    assert "Give the search a name." in page or "This field is required." in page
    assert "There is no search to save: search or filter first." in page
    assert not SavedView.objects.exists()


def test_the_search_page_offers_to_save_the_current_search(staff_client):
    page = staff_client.get(SEARCH, {"q": "张伟", "page": "2"}).content.decode()
    assert f'href="{CREATE}?q=%E5%BC%A0%E4%BC%9F">Save this search</a>' in page
    assert "Save this search" not in staff_client.get(SEARCH).content.decode()


def test_clean_query_keeps_known_parameters_in_the_filters_order():
    assert clean_query("?page=3&o=-total&q=+张伟+&evil=<x>&status=&tag=VIP&tag=Key") == (
        "q=%E5%BC%A0%E4%BC%9F&tag=VIP&tag=Key&o=-total"
    )
    assert clean_query("filters=open&page=2") == ""


def test_the_saved_views_are_read_only_by_the_whole_page_not_by_each_search_as_you_type(
    staff_client, views, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        staff_client.get(SEARCH, {"q": "张"}, HTTP_HX_REQUEST="true")
    assert not [q for q in queries if "customers_savedview" in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        staff_client.get(SEARCH, {"q": "张"})
    assert len([q for q in queries if "customers_savedview" in q["sql"]]) == 1
