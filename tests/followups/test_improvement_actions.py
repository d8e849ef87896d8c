"""Managers record improvement actions (title, date, the reason categories it targets, notes): list,
add, edit, delete, each audited with the old and new values; Staff may not."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closures.models import ReasonCategory
from crm.audit import ACTION_LABELS
from crm.audit_display import describe
from crm.models import AuditEntry
from followups import improvements
from followups.models import Improvement

LIST = reverse("followups:improvement_list")
ADD = reverse("followups:improvement_add")


def _today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _form(**overrides) -> dict:
    data = {"title": "Price match with competitors", "started_on": "2024-03-01", "categories": ["price", "competitor"]}
    data["notes"] = "Matched the two chains' prices."
    data.update(overrides)
    return data


@pytest.fixture
def action(manager_user):
    return Improvement.objects.create(
        title="Service hotline", started_on=date(2024, 3, 1), categories=["service"], created_by=manager_user
    )


def test_a_manager_records_an_action_and_the_audit_keeps_its_values(manager_client, manager_user):
    response = manager_client.post(ADD, _form(), follow=True)
    item = Improvement.objects.get()
    assert (item.title, item.started_on, item.categories) == (
        "Price match with competitors",
        date(2024, 3, 1),
        ["price", "competitor"],
    )
    assert item.notes == "Matched the two chains' prices." and item.created_by == manager_user
    assert "Improvement action “Price match with competitors” recorded." in response.content.decode()
    entry = AuditEntry.objects.get(action="followups.improvement_add")
    assert entry.actor == manager_user and entry.object_id == str(item.pk)
    assert entry.changes["started_on"] == [None, "2024-03-01"]
    assert entry.changes["categories"] == [None, "competitor, price"]


def test_the_list_shows_each_action_with_its_categories_and_planned_ones_labelled(manager_client, manager_user, action):
    Improvement.objects.create(
        title="Loyalty tiers", started_on=_today() + timedelta(days=30), categories=["price"], created_by=manager_user
    )
    html = manager_client.get(LIST).content.decode()
    assert "Service hotline" in html and "Loyalty tiers" in html
    assert html.count(">Planned</span>") == 1
    assert 'class="table stack"' in html and 'data-label="Reason categories">Service</td>' in html
    assert reverse("followups:improvement_edit", args=[action.pk]) in html


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("categories", [], "Choose at least one reason category."),
        ("categories", ["no-such-category"], "Choose reason categories from the list."),
        ("title", "   ", "Enter a title."),
        ("started_on", "", "Enter the date of the action."),
        ("started_on", "2024-02-30", "Enter a valid date."),
    ],
)
def test_bad_input_gets_a_message_next_to_its_field_and_nothing_is_written(manager_client, field, value, message):
    response = manager_client.post(ADD, _form(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in " ".join(errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Improvement.objects.exists() and not AuditEntry.objects.filter(action__startswith="followups.").exists()


def test_a_planned_action_may_be_dated_up_to_a_year_ahead_but_not_later(manager_client):
    latest = improvements.latest_date(_today())
    response = manager_client.post(ADD, _form(started_on=(latest + timedelta(days=1)).isoformat()))
    assert "A planned action may be dated at most a year ahead" in " ".join(
        response.context["form"].errors["started_on"]
    )
    assert not Improvement.objects.exists()
    manager_client.post(ADD, _form(started_on=latest.isoformat()))
    assert Improvement.objects.get().started_on == latest


def test_the_form_offers_the_reason_categories_as_data_without_retired_ones(manager_client, action):
    ReasonCategory.objects.filter(key="moved").update(is_active=False)
    ReasonCategory.objects.filter(key="service").update(is_active=False)
    html = manager_client.get(ADD).content.decode()
    assert 'value="price"' in html and 'value="moved"' not in html and 'value="service"' not in html
    # ... but an action keeps the retired category it already targets
    html = manager_client.get(reverse("followups:improvement_edit", args=[action.pk])).content.decode()
    assert 'value="service"' in html and "checked" in html and 'value="moved"' not in html


def test_editing_changes_the_action_and_audits_old_and_new(manager_client, admin_user, action):
    url = reverse("followups:improvement_edit", args=[action.pk])
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        url, _form(title="Service hotline 24h", started_on="2024-03-01", categories=["service", "product"])
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.title == "Service hotline 24h" and action.categories == ["service", "product"]
    entry = AuditEntry.objects.get(action="followups.improvement_change")
    assert entry.actor == admin_user
    assert entry.changes["title"] == ["Service hotline", "Service hotline 24h"]
    assert entry.changes["categories"] == ["service", "product, service"]
    assert "started_on" not in entry.changes


def test_saving_an_unchanged_action_writes_no_audit_entry(manager_client, action):
    url = reverse("followups:improvement_edit", args=[action.pk])
    manager_client.post(
        url, {"title": action.title, "started_on": "2024-03-01", "categories": ["service"], "notes": ""}
    )
    assert not AuditEntry.objects.filter(action="followups.improvement_change").exists()


def test_deleting_asks_first_then_deletes_and_audits_what_it_said(manager_client, manager_user, action):
    url = reverse("followups:improvement_delete", args=[action.pk])
    page = manager_client.get(url)
    assert "Delete improvement action" in page.content.decode() and Improvement.objects.filter(pk=action.pk).exists()
    response = manager_client.post(url, follow=True)
    assert not Improvement.objects.filter(pk=action.pk).exists()
    assert "Improvement action “Service hotline” deleted." in response.content.decode()
    entry = AuditEntry.objects.get(action="followups.improvement_delete")
    assert entry.actor == manager_user and entry.object_id == str(action.pk)
    assert entry.changes["title"] == ["Service hotline", None] and entry.changes["categories"] == ["service", None]


def test_the_audit_trail_names_the_actions_in_words(manager_client, action):
    manager_client.post(ADD, _form())
    assert str(ACTION_LABELS["followups.improvement_add"]) == "Improvement action recorded"
    assert str(ACTION_LABELS["followups.improvement_delete"]) == "Improvement action deleted"
    (shown,) = describe(AuditEntry.objects.filter(action="followups.improvement_add"), unmasked=False)
    changes = {str(c.label): c.new for c in shown.changes}
    assert shown.title == "Improvement action recorded"
    assert changes["Reason categories it targets"] == "Competitor, Price" and changes["Date"] == "2024-03-01"


@pytest.mark.parametrize("name", ["list", "add", "edit", "delete"])
def test_staff_get_403_and_nothing_changes(staff_client, action, name):
    url = {
        "list": LIST,
        "add": ADD,
        "edit": reverse("followups:improvement_edit", args=[action.pk]),
        "delete": reverse("followups:improvement_delete", args=[action.pk]),
    }[name]
    assert staff_client.get(url).status_code == 403
    assert staff_client.post(url, _form(title="Hijacked")).status_code == 403
    action.refresh_from_db()
    assert action.title == "Service hotline" and Improvement.objects.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="followups.").exists()


def test_an_unknown_action_is_404(manager_client):
    assert manager_client.get(reverse("followups:improvement_edit", args=[999])).status_code == 404
    assert manager_client.post(reverse("followups:improvement_delete", args=[999])).status_code == 404


def test_the_operation_refuses_an_action_without_categories_whoever_calls_it(manager_user):
    with pytest.raises(ValidationError) as refused:
        improvements.add_improvement(
            Improvement(title="x", started_on=date(2024, 1, 1), categories=[]), by=manager_user
        )
    assert "Choose at least one reason category." in str(refused.value)
    assert not Improvement.objects.exists()


def test_the_pages_are_in_chinese(manager_client, action):
    html = manager_client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "改进措施" in html and "新建改进措施" in html and "服务" in html
    html = manager_client.get(ADD, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "针对的原因类别" in html and "保存" in html
    response = manager_client.post(ADD, _form(categories=[]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "请至少选择一个原因类别。" in response.content.decode()
    html = manager_client.get(reverse("followups:improvement_delete", args=[action.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "删除改进措施" in html.content.decode()
