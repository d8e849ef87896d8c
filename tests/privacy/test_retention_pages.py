"""The retention pages as an Admin uses them: rules with their preview, the list to download, a run
and its report, legal holds from the card."""

import csv
import io

import pytest
from django.urls import reverse

from crm.models import AuditEntry
from customers.models import Customer
from privacy import holds
from privacy.models import LegalHold, RetentionRule

from .retention_world import closed_card, switch_on

pytestmark = pytest.mark.django_db


def test_the_rules_page_shows_each_rule_its_meaning_and_what_it_would_touch(admin_client, admin_user):
    switch_on("closed", "erase", 36, by=admin_user)
    free = [closed_card(40) for _ in range(2)]
    holds.place(closed_card(40), "Dispute", by=admin_user)

    page = admin_client.get(reverse("privacy:retention")).content.decode()

    assert page.count("Switched off") == 3 and page.count("Switched on") == 1
    assert "2 cards would be touched now." in page
    assert "1 more is held:" in page and "Legal hold 1" in page
    assert all(card.customer_no in page for card in free)
    assert "every figure of Closure analytics stays as it was" in page


def test_changing_a_rule_is_audited_and_a_bad_age_is_explained(admin_client, admin_user):
    rule = RetentionRule.objects.get(status="void", action="erase")
    url = reverse("privacy:retention_rule", args=[rule.pk])

    refused = admin_client.post(url, {"after_months": "0", "enabled": "on"})
    assert "Between 1 and 1,200 months, please." in refused.content.decode()
    assert RetentionRule.objects.get(pk=rule.pk).enabled is False

    assert admin_client.post(url, {"after_months": "18", "enabled": "on"}).status_code == 302
    rule.refresh_from_db()
    assert (rule.after_months, rule.enabled, rule.changed_by) == (18, True, admin_user)
    entry = AuditEntry.objects.get(action="privacy.retention_rule")
    assert entry.changes == {"after_months": [12, 18], "enabled": [False, True]}


def test_the_list_holds_every_card_the_rule_touches_or_holds_with_why_and_no_names(admin_client, admin_user):
    rule = switch_on("closed", "erase", 36, by=admin_user)
    touched = closed_card(40, name="赵可删", city="杭州")
    kept = closed_card(40, name="钱保留", points=5)

    response = admin_client.get(reverse("privacy:retention_list", args=[rule.pk]))

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "Customer number"
    outcome = {row[0]: row[-1] for row in rows[1:]}
    assert outcome == {touched.customer_no: "Anonymise", kept.customer_no: "Balance or points to settle"}
    assert "赵可删" not in body and "钱保留" not in body
    assert [row[4] for row in rows[1:]] == ["杭州", "上海"]


def test_run_now_erases_the_cards_and_shows_the_report(admin_client, admin_user, django_capture_on_commit_callbacks):
    switch_on("closed", "erase", 36, by=admin_user)
    card = closed_card(40)
    closed_card(40, points=3)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("privacy:retention_start"))

    assert response.status_code == 302
    report = admin_client.get(response["Location"]).content.decode()
    assert Customer.objects.get(pk=card.pk).is_erased
    assert "Cards changed" in report and "Balance or points to settle" in report
    runs = admin_client.get(reverse("privacy:retention")).content.decode()
    assert "Done" in runs


def test_run_now_with_every_rule_off_says_so(admin_client):
    response = admin_client.post(reverse("privacy:retention_start"), follow=True)
    assert "No rule that changes data is switched on" in response.content.decode()


def test_a_legal_hold_is_placed_from_the_card_shown_on_it_and_released_with_a_note(admin_client, admin_user):
    card = closed_card(2)
    card_page = admin_client.get(reverse("customers:card", args=[card.pk])).content.decode()
    assert reverse("privacy:hold", args=[card.pk]) in card_page

    placed = admin_client.post(reverse("privacy:hold", args=[card.pk]), {"reason": "Court order 17"})
    assert placed.status_code == 302
    card_page = admin_client.get(reverse("customers:card", args=[card.pk])).content.decode()
    assert "Legal hold" in card_page and "Court order 17" in card_page
    assert "Court order 17" in admin_client.get(reverse("privacy:holds")).content.decode()

    hold = LegalHold.objects.get()
    refused = admin_client.post(reverse("privacy:release", args=[hold.pk]), {"note": ""})
    assert "This field is required." in refused.content.decode()
    admin_client.post(reverse("privacy:release", args=[hold.pk]), {"note": "Order lifted"})
    hold.refresh_from_db()
    assert (hold.is_active, hold.release_note, hold.released_by) == (False, "Order lifted", admin_user)


def test_the_held_cards_page_lists_automatic_holds_with_why(admin_client, admin_user):
    switch_on("closed", "erase", 36, by=admin_user)
    with_points = closed_card(40, points=8)
    page = admin_client.get(reverse("privacy:holds")).content.decode()
    assert with_points.customer_no in page and "Balance or points to settle" in page
    assert "1 card held" in page
