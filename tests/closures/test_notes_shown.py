"""Whether a reason needs notes is what the Admin ticked, and the closure forms say so as soon as the
reason is chosen (static/js/app.js reads data-notes-required) and again after a refused post."""

import re

import pytest
from django.urls import reverse

from closures import operations, tokens
from closures.models import Closure
from closures.rules import ClosureChoice
from tests.factories import ClosureReasonFactory, CustomerFactory

from .steps import preview, reason, start_url

pytestmark = pytest.mark.django_db

HINT = "Notes are required for this reason."


def notes_required_values(page: str) -> set[str]:
    found = re.search(r'data-notes-required="([^"]*)"', page)
    assert found, "the reason select lists the reasons that need notes"
    return set(found.group(1).split())


def hint_shown(page: str) -> bool:
    tag = re.search(r"<p [^>]*data-notes-hint[^>]*>", page)
    assert tag and HINT in page
    return " hidden" not in tag.group(0)


def notes_textarea(page: str) -> str:
    return re.search(r'<textarea name="notes"[^>]*>', page).group(0)


@pytest.fixture
def strict():
    return ClosureReasonFactory(label_en="Strict", notes_required=True, for_close=True, for_archive=True)


# --- what needs notes --------------------------------------------------------------------------------


def test_a_reason_in_other_without_the_box_ticked_needs_no_notes(manager_user):
    loose = ClosureReasonFactory(label_en="Loosely other", category="other", notes_required=False, for_close=True)
    closure = operations.close_customer(CustomerFactory(), ClosureChoice("close", loose), by=manager_user)
    assert isinstance(closure, Closure) and closure.notes == ""


def test_the_default_other_reason_still_needs_notes():
    assert reason("other").requires_notes


def test_the_reason_form_explains_the_notes_box(admin_client):
    page = admin_client.get(reverse("closures:reason_create")).content.decode()
    assert "Nothing else makes notes required, not even the category “Other”." in page


# --- the single closure flow -----------------------------------------------------------------------


def test_the_start_page_lists_the_reasons_that_need_notes_and_hides_the_hint(staff_client, strict):
    page = staff_client.get(start_url(CustomerFactory(), "close")).content.decode()
    assert notes_required_values(page) == {str(strict.pk), str(reason("other").pk)}
    assert not hint_shown(page)
    assert " required" not in notes_textarea(page)


def test_a_refused_start_shows_the_hint_and_marks_notes_required(staff_client, strict):
    response = preview(staff_client, CustomerFactory(), "close", reason=strict)
    page = response.content.decode()
    assert response.status_code == 200
    assert hint_shown(page)
    assert " required" in notes_textarea(page)
    assert response.context["form"].errors["notes"] == ["This reason needs notes explaining it."]


def test_a_refused_start_for_another_reason_keeps_the_hint_hidden(staff_client):
    loose = ClosureReasonFactory(label_en="Loose", for_close=True)
    customer = CustomerFactory()
    response = staff_client.post(start_url(customer, "close"), {"reason": loose.pk, "notes": "x" * 1001})
    assert response.context["form"].errors["notes"]
    assert not hint_shown(response.content.decode())


# --- the bulk flow ---------------------------------------------------------------------------------


def test_the_bulk_page_lists_the_choices_that_need_notes(manager_client, strict):
    page = manager_client.get(f"{reverse('closures:bulk')}?ids={CustomerFactory().pk}").content.decode()
    assert {f"close:{strict.pk}", f"archive:{strict.pk}"} <= notes_required_values(page)
    assert f"close:{reason('service').pk}" not in notes_required_values(page)
    assert not hint_shown(page)


def test_a_refused_bulk_post_shows_the_hint_and_keeps_the_selected_count(manager_client, strict):
    cards = [CustomerFactory(), CustomerFactory()]
    data = {"selection": tokens.sign_selection([c.pk for c in cards]), "choice": f"close:{strict.pk}", "notes": ""}
    response = manager_client.post(reverse("closures:bulk"), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["notes"] == ["This reason needs notes explaining it."]
    assert "2 customers selected." in page
    assert hint_shown(page)
    assert " required" in notes_textarea(page)
