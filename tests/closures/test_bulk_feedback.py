"""Bulk closure feedback: skipped cards are a warning grouped by why, with a way to try them again
through the same preview; the selection's size stays in view on every step."""

import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from closures import tokens
from closures.models import BulkClosure, Closure, ClosureReason, ClosureRequest
from customers.models import Customer
from tests.factories import CustomerFactory

from .steps import reason

pytestmark = pytest.mark.django_db
BULK = reverse("closures:bulk")
CONFIRM = reverse("closures:bulk_confirm")
SELECTED_BAR = 'class="selection-bar"'
FORFEIT = {"settlement": "forfeit", "forfeit_reason": "expired stored value"}


@pytest.fixture
def cards(staff_user):
    """Two closable cards, one with a balance, one waiting for approval, one already closed, one erased."""
    found = {
        "ok1": CustomerFactory(customer_no="F001"),
        "ok2": CustomerFactory(customer_no="F002"),
        "money": CustomerFactory(customer_no="F003", balance=Decimal("20.00")),
        "pending": CustomerFactory(customer_no="F004"),
        "closed": CustomerFactory(customer_no="F005", status="closed"),
        "erased": CustomerFactory(customer_no="F006", status="erased"),
    }
    ClosureRequest.objects.create(
        customer=found["pending"], action="close", reason=reason("price"), requested_by=staff_user
    )
    return found


def _choose(client, ids, **fields):
    chooser = client.get(BULK, {"ids": ",".join(str(pk) for pk in ids)})
    data = {"selection": chooser.context["form"]["selection"].value(), "choice": f"close:{reason('service').pk}"}
    return chooser, client.post(BULK, {**data, **fields})


def _run(client, ids, **fields):
    chooser, preview = _choose(client, ids, **fields)
    return chooser, preview, client.post(CONFIRM, {"token": preview.context["token"]})


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_a_run_that_skipped_some_cards_is_a_warning_grouped_by_why(manager_client, cards):
    _chooser, _preview, result = _run(manager_client, [c.pk for c in cards.values()], **FORFEIT)
    page = result.content.decode()

    assert _messages(result) == [("warning", "3 cards done, 3 skipped.")]
    assert 'data-result="some-skipped"' in page and "Some cards were skipped; the others were changed." in page
    groups = re.findall(r'<section class="skip-group" data-kind="(\w+)">', page)
    assert groups == ["pending", "status", "erased"]
    pending = page[page.index('data-kind="pending"') : page.index('data-kind="status"')]
    assert "F004" in pending and "A closure of this card, requested by" in pending
    assert Customer.objects.filter(status="closed").count() == 4  # F005 was closed already


def test_a_run_that_closed_nothing_is_not_shown_as_a_success(manager_client, cards):
    _chooser, _preview, result = _run(manager_client, [cards["closed"].pk, cards["pending"].pk])
    page = result.content.decode()
    assert _messages(result) == [("warning", "0 cards done, 2 skipped.")]
    assert 'data-result="nothing-done"' in page and "Nothing was changed: every selected card was skipped." in page
    assert 'class="notice danger"' in page and "success" not in page.split("<main")[1].split("data-result")[0]
    assert not Closure.objects.filter(customer__customer_no="F004").exists()


def test_a_run_that_closed_everything_is_a_success(manager_client, cards):
    _chooser, _preview, result = _run(manager_client, [cards["ok1"].pk, cards["ok2"].pk])
    assert _messages(result) == [("success", "2 cards done, 0 skipped.")]
    page = result.content.decode()
    assert 'data-result="all-done"' in page and "Retry the" not in page


def test_the_skipped_cards_can_be_tried_again_after_they_are_fixed(manager_client, cards):
    ids = [cards[name].pk for name in ("ok1", "money", "pending", "closed", "erased")]
    _chooser, _preview, result = _run(manager_client, ids, **FORFEIT)
    page = result.content.decode()
    assert "Retry the 2 skipped cards" in page  # the erased card can never be closed: left out
    retry = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.split("retry-form")[1]))
    assert retry["ids"] == f"{cards['pending'].pk},{cards['closed'].pk}"

    # Fixed meanwhile: the request is decided (rejected), the closed card reinstated.
    ClosureRequest.objects.filter(customer=cards["pending"]).update(state=ClosureRequest.State.REJECTED)
    Customer.objects.filter(pk=cards["closed"].pk).update(status=Customer.Status.ACTIVE)

    chooser = manager_client.post(BULK, retry)
    assert chooser.status_code == 200 and not chooser.context["form"].is_bound
    assert "2 customers selected." in chooser.content.decode()
    assert chooser.context["form"]["choice"].value() == f"close:{reason('service').pk}"
    selection = chooser.context["form"]["selection"].value()
    assert tokens.read_selection(selection) == sorted([cards["pending"].pk, cards["closed"].pk])
    again = manager_client.post(BULK, {"selection": selection, "choice": retry["choice"]})
    done = manager_client.post(CONFIRM, {"token": again.context["token"]})
    assert _messages(done) == [("success", "2 cards done, 0 skipped.")]
    assert set(Customer.objects.filter(status="closed").values_list("customer_no", flat=True)) >= {
        "F003",
        "F004",
        "F005",
    }
    assert BulkClosure.objects.count() == 2


def test_a_retry_is_only_the_start_of_a_new_preview(manager_client, cards):
    """Retried ids are like ticked rows: nothing changes until the new preview is confirmed, and a
    retry days later works (no expired token), since the preview re-checks every card."""
    chooser = manager_client.post(BULK, {"ids": f"{cards['ok1'].pk},{cards['ok2'].pk}", "retry": "1"})
    assert "2 customers selected." in chooser.content.decode()
    assert not Closure.objects.exists() and not BulkClosure.objects.exists()
    empty = manager_client.post(BULK, {"ids": "", "retry": "1"})
    assert "Select customers in the search results first" in empty.content.decode()


def test_the_selection_count_is_in_view_on_every_step(manager_client, cards):
    ids = [cards["ok1"].pk, cards["closed"].pk]
    chooser, preview, result = _run(manager_client, ids)
    for step in (chooser, preview, result):
        page = step.content.decode()
        bar = page[page.index(SELECTED_BAR) :][:300]
        assert "2 customers selected." in bar, page
    assert "Step 1 of 3" in chooser.content.decode()
    assert "Step 2 of 3" in preview.content.decode()
    assert "Step 3 of 3" in result.content.decode()


def test_the_page_that_asks_again_keeps_the_selection_in_view(manager_client, cards):
    chooser = manager_client.get(BULK, {"ids": f"{cards['ok1'].pk},{cards['ok2'].pk}"})
    selection = chooser.context["form"]["selection"].value()
    asked = manager_client.post(BULK, {"selection": selection, "choice": ""})
    page = asked.content.decode()
    assert asked.context["form"].errors["choice"]
    assert "2 customers selected." in page[page.index(SELECTED_BAR) :]


def test_a_reason_retired_since_the_preview_asks_again_for_the_same_cards(manager_client, cards):
    _chooser, preview = _choose(manager_client, [cards["ok1"].pk, cards["ok2"].pk])
    ClosureReason.objects.filter(pk=reason("service").pk).update(is_active=False)

    asked = manager_client.post(CONFIRM, {"token": preview.context["token"]})

    page = asked.content.decode()
    assert asked.status_code == 200 and "Choose again for the same cards." in page
    assert "2 customers selected." in page[page.index(SELECTED_BAR) :]
    assert tokens.read_selection(asked.context["form"]["selection"].value()) == sorted(
        [cards["ok1"].pk, cards["ok2"].pk]
    )
    assert not Closure.objects.exists()


def test_a_replayed_confirmation_is_still_refused_as_a_whole(manager_client, cards):
    _chooser, preview, _result = _run(manager_client, [cards["ok1"].pk])
    again = manager_client.post(CONFIRM, {"token": preview.context["token"]})
    assert again.status_code == 302
    assert "already confirmed" in " ".join(str(m) for m in get_messages(again.wsgi_request))
    assert Closure.objects.count() == 1


def test_the_search_results_keep_the_selection_count_beside_the_bulk_actions(manager_client, cards):
    page = manager_client.get(reverse("customers:search")).content.decode()
    assert 'class="actions bulk-actions"' in page
    assert 'data-selection-count="ids"' in page and "Selected: 0" in page
