"""Admins write each message (notice, survey, win-back) for each channel and language on the policy
page, see the placeholders and a preview with a sample customer, and cannot save a template that
would break when sent."""

import re

import pytest
from django.urls import reverse

from crm.audit_display import describe
from crm.models import AuditEntry
from followups import messages, preview
from followups.models import MessageTemplate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_policy")]


def url(kind="survey", channel="email", language="en") -> str:
    return reverse("followups:policy_template", args=[kind, channel, language])


def field_error(response, field: str) -> list[str]:
    return re.findall(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', response.content.decode())


def preview_part(response) -> str:
    page = response.content.decode()
    start = page.find('<div id="preview"')
    assert start != -1, "no preview on the page"
    return page[start : page.find("</section>", start)]


# --- The list -----------------------------------------------------------------------------------


def test_the_policy_page_lists_every_kind_channel_and_language_with_missing_ones_marked(admin_client):
    MessageTemplate.objects.create(
        kind="notice", channel="email", language="zh-hans", subject="您的会员卡已注销", body="{name}您好"
    )
    page = admin_client.get(reverse("followups:policy")).content.decode()
    for kind in ("notice", "survey", "winback"):
        for channel in ("email", "sms"):
            for language in ("en", "zh-hans"):
                assert f'href="/followups/policy/templates/{kind}/{channel}/{language}/"' in page
    assert page.count("Not written yet") == 11
    assert "您的会员卡已注销" in page


def test_an_unknown_kind_channel_or_language_is_not_found(admin_client):
    assert admin_client.get(url(kind="callback")).status_code == 404
    assert admin_client.get(url(channel="phone")).status_code == 404
    assert admin_client.get(url(language="fr")).status_code == 404


# --- Writing one ---------------------------------------------------------------------------------


def test_admin_writes_a_missing_template_and_it_is_audited(admin_client, admin_user):
    page = admin_client.get(url()).content.decode()
    assert "Not written yet" in page
    response = admin_client.post(
        url(), {"subject": "Why did you leave, {name}?", "body": "Tell us: {survey_link}\n{unsubscribe_link}"}
    )
    assert response.status_code == 302
    written = MessageTemplate.objects.get(kind="survey", channel="email", language="en")
    assert written.subject == "Why did you leave, {name}?"
    entry = AuditEntry.objects.get(action="followups.template_change")
    assert entry.actor == admin_user
    assert entry.changes["template_subject"] == [None, "Why did you leave, {name}?"]
    [shown] = describe([entry], unmasked=False)
    assert (shown.title, shown.summary) == ("Message template changed", "Exit survey · E-mail · English")


def test_admin_changes_a_template_and_the_audit_keeps_old_and_new(admin_client):
    MessageTemplate.objects.create(kind="notice", channel="sms", language="zh-hans", body="旧的文字")
    response = admin_client.post(
        url("notice", "sms", "zh-hans"), {"body": "{name}您好，您的卡已注销。", "provider_template": "SMS_1234"}
    )
    assert response.status_code == 302
    template = MessageTemplate.objects.get(kind="notice", channel="sms", language="zh-hans")
    assert (template.body, template.provider_template, template.subject) == (
        "{name}您好，您的卡已注销。",
        "SMS_1234",
        "",
    )
    entry = AuditEntry.objects.get(action="followups.template_change")
    assert entry.changes == {
        "template_text": ["旧的文字", "{name}您好，您的卡已注销。"],
        "provider_template": ["", "SMS_1234"],
    }


def test_an_sms_has_no_subject_and_an_email_no_provider_code(admin_client):
    sms = admin_client.get(url(channel="sms")).content.decode()
    assert 'name="subject"' not in sms and 'name="provider_template"' in sms
    assert "70 when the text has Chinese in it" in sms
    email = admin_client.get(url(channel="email")).content.decode()
    assert 'name="subject"' in email and 'name="provider_template"' not in email


def test_the_placeholders_are_listed_with_their_meaning(admin_client):
    page = admin_client.get(url()).content.decode()
    for name in messages.PLACEHOLDERS:
        assert f"<code>{{{name}}}</code>" in page
    assert "the customer&#x27;s name" in page
    assert list(preview.PLACEHOLDER_MEANINGS) == list(messages.PLACEHOLDERS)


# --- Refusals -------------------------------------------------------------------------------------


def test_a_misspelt_placeholder_is_refused_next_to_the_text(admin_client):
    response = admin_client.post(url(), {"subject": "Hello", "body": "Dear {nmae}, tell us why: {survey_link}"})
    assert response.status_code == 200
    [error] = field_error(response, "body")
    assert error.startswith("Unknown placeholder {nmae}; use one of: {name}, {customer_no}")
    assert not MessageTemplate.objects.exists()


def test_an_unclosed_brace_in_the_subject_is_refused_next_to_the_subject(admin_client):
    response = admin_client.post(url(), {"subject": "Hello {name", "body": "Text"})
    assert field_error(response, "subject") == ["A brace { or } is not closed; write {{ or }} for a brace itself."]
    assert not MessageTemplate.objects.exists()


def test_an_email_needs_a_subject(admin_client):
    response = admin_client.post(url(), {"subject": "", "body": "Text"})
    assert field_error(response, "subject") == ["An e-mail needs a subject."]
    assert not MessageTemplate.objects.exists()


def test_previewing_a_broken_template_shows_the_error_and_saves_nothing(admin_client):
    response = admin_client.post(url(), {"subject": "Hi", "body": "{nmae}", "preview": "1"})
    assert field_error(response, "body")
    assert "<h2>Preview</h2>" not in response.content.decode()
    assert not MessageTemplate.objects.exists()


# --- The preview -----------------------------------------------------------------------------------


def test_the_preview_fills_in_the_english_sample_without_saving(admin_client, settings):
    settings.CRM_COMPANY_NAME = "Acme"
    response = admin_client.post(
        url(language="en"),
        {
            "subject": "{name}, your card {customer_no}",
            "body": "{settlement}\n{survey_link}\n{company}",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    shown = preview_part(response)
    assert "Subject: Zhang Wei, your card C000123" in shown
    assert "The balance of ¥1,280.00 on your card was refunded, WeChat Pay." in shown
    assert "/sample-link/" in shown and "Acme" in shown
    assert not MessageTemplate.objects.exists()


def test_the_preview_fills_in_the_chinese_sample_in_chinese(admin_client):
    response = admin_client.post(url("notice", "sms", "zh-hans"), {"body": "{name}您好，{settlement}", "preview": "1"})
    shown = preview_part(response)
    assert "张伟您好，您卡上的储值余额 ¥1,280.00 已退款，微信支付。" in shown
    assert "Zhang Wei" not in shown


def test_the_preview_escapes_hostile_text(admin_client):
    response = admin_client.post(
        url(),
        {"subject": "<b>{name}</b>", "body": "<script>alert(1)</script>\n<img src=x onerror=alert(2)>", "preview": "1"},
    )
    shown = preview_part(response)
    assert "<script>" not in shown and "<img" not in shown and "<b>" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>&lt;img src=x onerror=alert(2)&gt;" in shown


def test_a_written_template_shows_its_preview_when_opened(admin_client):
    MessageTemplate.objects.create(
        kind="winback", channel="email", language="en", subject="Come back", body="Hi {name}"
    )
    shown = preview_part(admin_client.get(url("winback", "email", "en")))
    assert "Hi Zhang Wei" in shown


def test_an_htmx_preview_returns_only_the_editor(admin_client):
    response = admin_client.post(
        url(), {"subject": "S", "body": "Hi {name}", "preview": "1"}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<section class="narrow card" id="template-editor">')
    assert "Hi Zhang Wei" in page and "<html" not in page


def test_the_sms_length_hint_counts_segments(admin_client):
    response = admin_client.post(url("notice", "sms", "zh-hans"), {"body": "您" * 71, "preview": "1"})
    assert "71 characters: 2 SMS segments (67 characters each when a text with Chinese is split)." in preview_part(
        response
    )


def test_sms_length_uses_gsm_for_latin_text_and_ucs2_for_chinese():
    assert preview.sms_length("a" * 160) == preview.SmsLength(characters=160, segments=1, per_segment=160, gsm=True)
    assert preview.sms_length("a" * 161).segments == 2
    assert preview.sms_length("€" * 3).characters == 6  # the GSM extension table: two characters each
    assert preview.sms_length("您" * 70) == preview.SmsLength(characters=70, segments=1, per_segment=70, gsm=False)
    assert preview.sms_length("您" * 135).segments == 3


@pytest.mark.parametrize("role_client", ["staff", "manager"], indirect=True)
def test_staff_and_managers_cannot_write_templates(role_client):
    assert role_client.get(url()).status_code == 403
    assert role_client.post(url(), {"subject": "S", "body": "B"}).status_code == 403
    assert not MessageTemplate.objects.exists()
