"""Choosing a reason that needs notes says so at once, before anything is posted (static/js/app.js)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from closures.models import ClosureReason
from tests.factories import ClosureReasonFactory, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

HINT = "Notes are required for this reason."


def test_the_single_flow_marks_notes_required_when_such_a_reason_is_chosen(page, login):
    strict = ClosureReasonFactory(label_en="Strict", notes_required=True, for_close=True)
    loose = ClosureReason.objects.get(code="price")
    customer = CustomerFactory()
    login("Staff")
    page.goto(reverse("closures:start", kwargs={"pk": customer.pk, "action": "close"}))
    notes, hint = page.get_by_label("Notes"), page.get_by_text(HINT)
    expect(hint).not_to_be_visible()

    page.get_by_label("Reason").select_option(str(strict.pk))
    expect(hint).to_be_visible()
    assert notes.evaluate("(el) => el.required")

    page.get_by_label("Reason").select_option(str(loose.pk))
    expect(hint).not_to_be_visible()
    assert not notes.evaluate("(el) => el.required")


def test_the_bulk_flow_marks_notes_required_when_such_a_reason_is_chosen(page, login):
    strict = ClosureReasonFactory(label_en="Strict", notes_required=True, for_close=True)
    cards = [CustomerFactory(), CustomerFactory()]
    login("Manager")
    page.goto(reverse("closures:bulk") + "?" + "&".join(f"ids={c.pk}" for c in cards))
    hint = page.get_by_text(HINT)
    expect(hint).not_to_be_visible()
    page.get_by_label("Reason").select_option(f"close:{strict.pk}")
    expect(hint).to_be_visible()
    assert page.get_by_label("Notes").evaluate("(el) => el.required")
