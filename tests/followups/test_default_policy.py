"""The default follow-up policy the data migration installs, and its messages."""

import importlib

import pytest
from django.apps import apps as django_apps

from followups.messages import problems
from followups.models import MessageTemplate, Rule

pytestmark = pytest.mark.django_db

migration = importlib.import_module("followups.migrations.0004_default_policy")


def test_close_card_gets_notice_survey_callback_for_key_accounts_and_win_back_for_price_and_competitor():
    rules = {
        (r.action, r.category, r.segment, r.kind, r.channel, r.delay_days, r.working_days) for r in Rule.objects.all()
    }
    assert rules == {
        ("close", "", "", "notice", "email", 0, False),
        ("close", "", "", "survey", "email", 1, False),
        ("close", "", "key", "callback", "phone", 3, True),
        ("close", "price", "", "winback", "email", 30, False),
        ("close", "competitor", "", "winback", "email", 30, False),
    }  # void and archive: nothing


def test_every_message_exists_in_both_languages_on_both_channels_with_an_unsubscribe_link():
    found = {(t.kind, t.channel, t.language): t for t in MessageTemplate.objects.all()}
    assert set(found) == {
        (kind, channel, language)
        for kind in ("notice", "survey", "winback")
        for channel in ("email", "sms")
        for language in ("en", "zh-hans")
    }
    for key, template in found.items():
        assert "{unsubscribe_link}" in template.body, key
        assert not problems(template.subject) and not problems(template.body), key
        assert ("{survey_link}" in template.body) == (template.kind == "survey"), key
        assert bool(template.subject) == (template.channel == "email"), key
    notice = found[("notice", "email", "zh-hans")].body
    assert "已注销" in notice and "{settlement}" in notice and "欢迎您回来" in notice


def test_the_reverse_removes_the_defaults_and_running_it_again_adds_them_once():
    migration.backward(django_apps, None)
    assert not Rule.objects.exists() and not MessageTemplate.objects.exists()
    migration.forward(django_apps, None)
    migration.forward(django_apps, None)
    assert Rule.objects.count() == 5 and MessageTemplate.objects.count() == 12
