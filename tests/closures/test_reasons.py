"""Admins manage the predefined reasons on a page of the app; nobody deletes one."""

import pytest
from django.urls import reverse

from closures.models import ClosureReason, ClosureSettings
from crm.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_the_migration_seeds_default_reasons_in_both_languages():
    reasons = ClosureReason.objects.all()
    assert reasons.count() >= 10
    assert all(r.label_en and r.label_zh for r in reasons)
    assert reasons.filter(category="duplicate", for_void=True).exists()
    assert reasons.filter(category="other").exists()


def test_reason_list_shows_active_and_retired_reasons(admin_client):
    retired = ClosureReason.objects.create(
        code="retired-one", label_en="Old reason", label_zh="旧原因", category="price", for_close=True, is_active=False
    )
    response = admin_client.get(reverse("closures:reason_list"))
    assert response.status_code == 200
    assert retired.label_en in response.content.decode()
    assert "Retired" in response.content.decode()


def test_admin_creates_a_reason_and_the_creation_is_audited(admin_client, admin_user):
    response = admin_client.post(
        reverse("closures:reason_create"),
        {
            "label_en": "Moved abroad",
            "label_zh": "移居海外",
            "category": "moved",
            "for_close": "on",
            "display_order": "15",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    reason = ClosureReason.objects.get(label_en="Moved abroad")
    assert reason.code == "moved-abroad"
    assert reason.for_close and not reason.for_void
    entry = AuditEntry.objects.get(action="reason.create")
    assert entry.actor == admin_user
    assert entry.changes["label_zh"] == [None, "移居海外"]


def test_a_reason_must_apply_to_at_least_one_action(admin_client):
    response = admin_client.post(
        reverse("closures:reason_create"),
        {"label_en": "Nothing", "label_zh": "无", "category": "other", "display_order": "1", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Choose at least one action this reason applies to." in response.content.decode()
    assert not ClosureReason.objects.filter(label_en="Nothing").exists()


def test_a_reason_without_any_label_is_refused_next_to_the_english_label(admin_client):
    response = admin_client.post(reverse("closures:reason_create"), {"category": "price", "for_close": "on"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["label_en"] == ["Give a label in English or in Chinese (or both)."]
    assert 'id="id_label_en_error"' in response.content.decode()


def test_retiring_a_reason_keeps_it_and_records_the_change(admin_client):
    reason = ClosureReason.objects.filter(for_close=True, is_active=True).first()
    data = {
        "label_en": reason.label_en,
        "label_zh": reason.label_zh,
        "category": reason.category,
        "for_close": "on",
        "display_order": reason.display_order,
    }  # is_active unticked: retire it
    response = admin_client.post(reverse("closures:reason_edit", args=[reason.pk]), data)
    assert response.status_code == 302
    reason.refresh_from_db()
    assert reason.is_active is False
    entry = AuditEntry.objects.get(action="reason.update")
    assert entry.changes["is_active"] == [True, False]


def test_staff_and_managers_cannot_manage_reasons_even_by_posting(staff_client, manager_client):
    for client in (staff_client, manager_client):
        response = client.post(
            reverse("closures:reason_create"),
            {"label_en": "Sneaky", "label_zh": "偷偷", "category": "other", "for_close": "on", "display_order": "1"},
        )
        assert response.status_code == 403
    assert not ClosureReason.objects.filter(label_en="Sneaky").exists()


def test_admin_turns_approval_on_with_a_policy(admin_client):
    response = admin_client.post(reverse("closures:settings"), {"approval_required": "on", "approval_policy": "all"})
    assert response.status_code == 302
    settings_row = ClosureSettings.load()
    assert settings_row.approval_required is True
    assert settings_row.approval_policy == "all"
    assert AuditEntry.objects.filter(action="settings.update").exists()


def test_approval_is_off_by_default():
    assert ClosureSettings.load().approval_required is False
