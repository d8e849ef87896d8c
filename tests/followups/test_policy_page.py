"""Admins read the follow-up policy in plain words and add, change, reorder, disable and delete its
rules on one page; each change is audited, and a rule that cannot work is refused next to its field."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from closures.models import ReasonCategory
from crm.audit_display import describe
from crm.models import AuditEntry
from followups import policy
from followups.models import Followup, MessageTemplate, Rule
from tests.factories import ClosureFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_policy")]


POLICY = reverse("followups:policy")
NEW = reverse("followups:policy_rule_create")


def rule(**fields) -> Rule:
    values = {"action": "close", "kind": "notice", "channel": "email", "position": Rule.objects.count() + 1}
    return Rule.objects.create(**(values | fields))


def form(**fields) -> dict:
    data = {"action": "close", "category": "", "segment": "", "kind": "notice", "channel": "email", "delay_days": "0"}
    return {k: v for k, v in (data | fields).items() if v is not None}


def field_error(response, field: str) -> str:
    """The error shown right under ``field`` (includes/form_field.html), or ""."""
    found = re.search(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', response.content.decode())
    return found.group(1) if found else ""


def listed(response) -> list[str]:
    """The rules as the policy page words them, in its order."""
    return re.findall(r'<a href="/followups/policy/rules/\d+/">([^<]+)</a>', response.content.decode())


# --- Reading the policy -------------------------------------------------------------------------


def test_the_policy_page_words_each_rule_in_order(admin_client):
    rule(segment="key", kind="callback", channel="phone", delay_days=3, working_days=True)
    rule(category="price", kind="winback", delay_days=30)
    rule(action="void", kind="survey", channel="sms", delay_days=1, active=False)
    response = admin_client.get(POLICY)
    assert response.status_code == 200
    assert listed(response) == [
        "Close card · any reason · Key accounts → Callback by the card&#x27;s owner, 3 working days after the closure",
        "Close card · Price → Win-back offer by e-mail, 30 days after the closure",
        "Void record · any reason → Exit survey by SMS, 1 day after the closure",
    ]
    page = response.content.decode()
    assert page.count('<span class="badge active">Enabled</span>') == 2
    assert '<span class="badge void">Disabled</span>' in page


def test_the_page_explains_consent_and_that_void_and_archive_send_nothing(admin_client):
    page = admin_client.get(POLICY).content.decode()
    assert "Nothing optional is sent without the customer's consent" in page
    assert "a voided record is a data error, not a customer leaving" in page


def test_a_notice_right_after_the_closure_reads_so():
    assert policy.describe(Rule(action="close", kind="notice", channel="email")) == (
        "Close card · any reason → Closure notice by e-mail, right after the closure"
    )


# --- Adding, changing, deleting -----------------------------------------------------------------


def test_admin_adds_a_callback_rule_for_key_accounts_and_it_is_audited(admin_client, admin_user):
    rule()
    response = admin_client.post(
        NEW, form(segment="key", kind="callback", channel="phone", delay_days="3", working_days="on")
    )
    assert response.status_code == 302
    added = Rule.objects.get(kind="callback")
    assert (added.segment, added.channel, added.delay_days, added.working_days) == ("key", "phone", 3, True)
    assert added.active and added.position == 2  # goes last
    entry = AuditEntry.objects.get(action="followups.rule_add")
    assert entry.actor == admin_user and entry.object_id == str(added.pk)
    assert entry.changes["followup_kind"] == [None, "callback"]
    assert entry.changes["delay_days"] == [None, 3]


def test_admin_edits_a_rule_and_the_audit_shows_old_and_new(admin_client):
    winback = rule(category="price", kind="winback", delay_days=30)
    response = admin_client.post(
        reverse("followups:policy_rule_edit", args=[winback.pk]),
        form(category="price", kind="winback", channel="sms", delay_days="45"),
    )
    assert response.status_code == 302
    winback.refresh_from_db()
    assert (winback.channel, winback.delay_days) == ("sms", 45)
    entry = AuditEntry.objects.get(action="followups.rule_change")
    assert entry.changes == {"channel": ["email", "sms"], "delay_days": [30, 45]}
    [shown] = describe([entry], unmasked=False)
    assert shown.title == "Follow-up rule changed"
    assert shown.summary == "Close card · Price → Win-back offer by SMS, 45 days after the closure"
    assert [(c.label, c.old, c.new) for c in shown.changes] == [("Channel", "E-mail", "SMS"), ("After (days)", 30, 45)]


def test_admin_deletes_a_rule_after_a_confirm_page(admin_client):
    doomed = rule(kind="survey", delay_days=1)
    url = reverse("followups:policy_rule_delete", args=[doomed.pk])
    confirm = admin_client.get(url)
    assert "Close card · any reason → Exit survey by e-mail, 1 day after the closure" in confirm.content.decode()
    assert Rule.objects.filter(pk=doomed.pk).exists()  # nothing happens before the confirmation
    response = admin_client.post(url, follow=True)
    assert not Rule.objects.filter(pk=doomed.pk).exists()
    assert "Rule deleted: Close card · any reason → Exit survey by e-mail" in response.content.decode()
    entry = AuditEntry.objects.get(action="followups.rule_delete")
    assert entry.changes["followup_kind"] == ["survey", None]
    assert describe([entry], unmasked=False)[0].summary.startswith("Close card · any reason → Exit survey")


def test_deleting_a_rule_keeps_the_follow_ups_it_planned(admin_client):
    doomed = rule(kind="survey", delay_days=1)
    closure = ClosureFactory(customer=CustomerFactory(status="closed"))
    planned = Followup.objects.create(
        kind="survey",
        channel="email",
        customer=closure.customer,
        closure=closure,
        rule=doomed,
        due_at=closure.performed_at,
    )
    confirm = admin_client.get(reverse("followups:policy_rule_delete", args=[doomed.pk]))
    assert "1 follow-up it already planned is still pending: it stays planned." in confirm.content.decode()
    admin_client.post(reverse("followups:policy_rule_delete", args=[doomed.pk]))
    planned.refresh_from_db()
    assert planned.state == Followup.State.PENDING and planned.rule is None


# --- Order and enable/disable -------------------------------------------------------------------


def test_admin_moves_a_rule_up_and_down(admin_client):
    first, second, third = rule(kind="notice"), rule(kind="survey"), rule(kind="winback")
    admin_client.post(reverse("followups:policy_rule_move", args=[third.pk]), {"direction": "up"})
    assert list(Rule.objects.values_list("pk", flat=True)) == [first.pk, third.pk, second.pk]
    admin_client.post(reverse("followups:policy_rule_move", args=[first.pk]), {"direction": "down"})
    assert list(Rule.objects.values_list("pk", flat=True)) == [third.pk, first.pk, second.pk]
    assert list(Rule.objects.values_list("position", flat=True)) == [1, 2, 3]
    moves = AuditEntry.objects.filter(action="followups.rule_change").order_by("pk")
    assert [e.changes for e in moves] == [{"position": [3, 2]}, {"position": [1, 2]}]


def test_the_first_rule_does_not_move_further_up(admin_client):
    first, second = rule(), rule(kind="survey")
    admin_client.post(reverse("followups:policy_rule_move", args=[first.pk]), {"direction": "up"})
    assert list(Rule.objects.values_list("pk", flat=True)) == [first.pk, second.pk]
    assert not AuditEntry.objects.filter(action="followups.rule_change").exists()


def test_admin_disables_and_enables_a_rule(admin_client):
    notice = rule()
    url = reverse("followups:policy_rule_active", args=[notice.pk])
    response = admin_client.post(url, {"active": "0"}, follow=True)
    notice.refresh_from_db()
    assert not notice.active
    assert "Rule disabled: Close card · any reason → Closure notice by e-mail" in response.content.decode()
    admin_client.post(url, {"active": "1"})
    notice.refresh_from_db()
    assert notice.active
    assert [e.changes for e in AuditEntry.objects.filter(action="followups.rule_change").order_by("pk")] == [
        {"active": [True, False]},
        {"active": [False, True]},
    ]


def test_moving_and_enabling_take_only_post(admin_client):
    notice = rule()
    assert admin_client.get(reverse("followups:policy_rule_move", args=[notice.pk])).status_code == 405
    assert admin_client.get(reverse("followups:policy_rule_active", args=[notice.pk])).status_code == 405


# --- Refusals, next to the field -----------------------------------------------------------------


def test_a_callback_by_email_is_refused_next_to_the_channel(admin_client):
    response = admin_client.post(NEW, form(kind="callback", channel="email"))
    assert response.status_code == 200
    assert field_error(response, "channel") == "A callback is a phone call: choose Phone."
    assert not Rule.objects.exists()


def test_a_message_by_phone_is_refused_next_to_the_channel(admin_client):
    response = admin_client.post(NEW, form(kind="winback", channel="phone"))
    assert field_error(response, "channel") == "A message goes by e-mail or SMS; the phone is for callbacks."
    assert not Rule.objects.exists()


@pytest.mark.parametrize("days", ["-1", "366"])
def test_a_delay_outside_a_year_is_refused_next_to_the_delay(admin_client, days):
    response = admin_client.post(NEW, form(delay_days=days))
    assert field_error(response, "delay_days") == "Between 0 and 365 days."
    assert not Rule.objects.exists()


def test_a_duplicate_rule_is_refused_in_words(admin_client):
    rule(category="price", kind="winback", delay_days=30)
    response = admin_client.post(NEW, form(category="price", kind="winback", channel="sms", delay_days="60"))
    assert response.status_code == 200
    assert (
        "This rule exists already: “Close card · Price → Win-back offer by e-mail, 30 days after the closure”. "
        "Change that one instead." in response.content.decode()
    )
    assert Rule.objects.count() == 1


def test_the_same_rule_for_another_segment_is_not_a_duplicate(admin_client):
    rule(kind="callback", channel="phone", delay_days=3)
    response = admin_client.post(NEW, form(segment="key", kind="callback", channel="phone", delay_days="1"))
    assert response.status_code == 302
    assert Rule.objects.count() == 2


def test_only_active_categories_are_offered_and_a_retired_one_is_refused(admin_client):
    ReasonCategory.objects.filter(key="competitor").update(is_active=False)
    page = admin_client.get(NEW).content.decode()
    assert '<option value="price">Price</option>' in page
    assert 'value="competitor"' not in page
    response = admin_client.post(NEW, form(category="competitor", kind="winback"))
    assert "Select a valid choice" in field_error(response, "category")
    assert not Rule.objects.exists()


def test_a_rule_keeps_its_category_after_the_category_is_retired(admin_client):
    kept = rule(category="competitor", kind="winback", delay_days=30)
    ReasonCategory.objects.filter(key="competitor").update(is_active=False)
    edit_page = admin_client.get(reverse("followups:policy_rule_edit", args=[kept.pk])).content.decode()
    assert '<option value="competitor" selected>Competitor</option>' in edit_page
    response = admin_client.post(
        reverse("followups:policy_rule_edit", args=[kept.pk]),
        form(category="competitor", kind="winback", delay_days="20"),
    )
    assert response.status_code == 302
    kept.refresh_from_db()
    assert kept.delay_days == 20


def test_the_operation_refuses_a_duplicate_even_without_the_form(admin_user):
    rule(kind="survey", delay_days=1)
    with pytest.raises(ValidationError, match="This rule exists already"):
        policy.save_rule(Rule(action="close", kind="survey", channel="sms", delay_days=2), by=admin_user)
    assert Rule.objects.count() == 1


# --- Who and which language ----------------------------------------------------------------------


@pytest.mark.parametrize("role_client", ["staff", "manager"], indirect=True)
def test_staff_and_managers_cannot_change_the_policy(role_client):
    notice = rule()
    assert role_client.get(POLICY).status_code == 403
    assert role_client.post(NEW, form(kind="survey")).status_code == 403
    assert (
        role_client.post(reverse("followups:policy_rule_active", args=[notice.pk]), {"active": "0"}).status_code == 403
    )
    assert role_client.post(reverse("followups:policy_rule_delete", args=[notice.pk])).status_code == 403
    notice.refresh_from_db()
    assert notice.active and Rule.objects.count() == 1


def test_the_policy_reads_in_chinese(admin_client):
    rule(segment="key", kind="callback", channel="phone", delay_days=3, working_days=True)
    rule(category="price", kind="winback", delay_days=30)
    admin_client.post(reverse("set_language"), {"language": "zh-hans"})
    response = admin_client.get(POLICY)
    page = response.content.decode()
    assert "<h1>跟进策略</h1>" in page
    assert listed(response) == [
        "销卡 · 任何原因 · 重点客户 → 由卡的负责人电话回访，注销后 3 个工作日",
        "销卡 · 价格 → 挽回优惠（电子邮件），注销后 30 天",
    ]
    assert "未经客户同意，不会发送任何非必要的消息" in page
    assert "Nothing optional" not in page and "Rules" not in page and "Enabled" not in page


def test_a_rule_in_words_follows_the_active_language():
    with translation.override("zh-hans"):
        words = policy.describe(Rule(action="void", kind="survey", channel="sms", delay_days=1))
    assert words == "作废 · 任何原因 → 离开调查（短信），注销后 1 天"


def test_a_message_rule_says_which_languages_have_no_template_yet(admin_client):

    rule(kind="survey", channel="sms", delay_days=1)
    rule(kind="callback", channel="phone", delay_days=3)
    MessageTemplate.objects.create(kind="survey", channel="sms", language="en", body="{survey_link}")
    page = admin_client.get(POLICY).content.decode()
    assert page.count("Template not written yet:") == 1  # the callback needs none
    assert (
        'Template not written yet: <a href="/followups/policy/templates/survey/sms/zh-hans/">Simplified Chinese</a>'
        in page
    )


def test_the_audit_log_shows_policy_changes_in_words(admin_client):
    admin_client.post(NEW, form(category="price", kind="winback", delay_days="30"))
    page = admin_client.get(reverse("closures:audit")).content.decode()
    assert "Follow-up rule added" in page
    assert "Close card · Price → Win-back offer by e-mail, 30 days after the closure" in page
    assert "Follow-up: — → Win-back offer" in page
    filtered = admin_client.get(reverse("closures:audit"), {"action": "followups.rule_add"})
    assert filtered.status_code == 200 and "Follow-up rule added" in filtered.content.decode()


def test_a_rule_deleted_meanwhile_is_refused_in_words(admin_user):
    gone = rule()
    Rule.objects.filter(pk=gone.pk).delete()
    for change in (
        lambda: policy.move_rule(gone, -1, by=admin_user),
        lambda: policy.set_active(gone, False, by=admin_user),
    ):
        with pytest.raises(ValidationError, match="This rule was deleted meanwhile."):
            change()
    assert not AuditEntry.objects.exists()
