"""The language menu changes the language only when its button is pressed (WCAG 3.2.2)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _language_form(html: str) -> str:
    return re.search(r'<form[^>]*class="lang-form".*?</form>', html, re.S).group(0)


def test_the_language_select_does_not_submit_itself_and_has_a_visible_button(staff_client):
    form = _language_form(staff_client.get(reverse("customers:search")).content.decode())
    select = re.search(r"<select[^>]*>", form).group(0)
    assert 'name="language"' in select
    assert "autosubmit" not in select and "onchange" not in select
    button = re.search(r"<button[^>]*>\s*Switch\s*</button>", form)
    assert button is not None
    assert 'type="submit"' in button.group(0) and "js-hide" not in button.group(0)


def test_the_login_page_has_the_same_button(client):
    form = _language_form(client.get(reverse("login")).content.decode())
    assert re.search(r'<button type="submit"[^>]*>\s*Switch\s*</button>', form)


def test_no_script_submits_a_form_when_a_select_changes():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "app.js").read_text()
    assert "js-autosubmit" not in script
    assert ".submit()" not in script
