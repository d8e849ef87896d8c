"""Bulk closing follows the single-card rules: same checks and words, approval, money, no replays."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from closures import bulk, operations, rules, tokens
from closures.models import BulkClosure, Closure, ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from customers.models import Customer
from tests.factories import CustomerFactory

from .steps import messages_of, reason

pytestmark = pytest.mark.django_db


def bulk_preview(client, cards, **fields):
    """Select the cards, choose "Close card" for "service", "Continue": the confirmation page."""
    chooser = client.get(reverse("closures:bulk"), {"ids": [c.pk for c in cards]})
    data = {"selection": chooser.context["form"]["selection"].value(), "choice": f"close:{reason('service').pk}"}
    return client.post(reverse("closures:bulk"), {**data, **fields})


def bulk_confirm(client, token):
    return client.post(reverse("closures:bulk_confirm"), {"token": token})


@pytest.fixture
def bulk_staff(staff_user):
    """A Staff member given bulk closing: unlike Managers, subject to approval."""
    staff_user.user_permissions.add(Permission.objects.get(codename="bulk_close"))
    return get_user_model().objects.get(pk=staff_user.pk)  # a fresh permission cache


# --- Replays and stale previews ---------------------------------------------------------------------


def test_a_replayed_bulk_confirmation_is_refused_and_closes_no_reinstated_card(manager_client, manager_user):
    first, second = CustomerFactory(customer_no="Q000001"), CustomerFactory(customer_no="Q000002")
    token = bulk_preview(manager_client, [first, second]).context["token"]
    assert "2 cards done, 0 skipped." in messages_of(bulk_confirm(manager_client, token))
    operations.reinstate(first, by=manager_user, note="误操作")

    replay = bulk_confirm(manager_client, token)

    assert replay.status_code == 302
    (message,) = messages_of(replay)
    assert message.startswith("This bulk closure was already confirmed by Wang Fang at ")
    assert message.endswith("; nothing more was changed.")
    first.refresh_from_db()
    assert first.status == "active"
    assert Closure.objects.filter(customer=first).count() == 1  # the reverted one only
    run = BulkClosure.objects.get()
    assert (run.performed_by, run.action, run.selected, run.done, run.skipped) == (manager_user, "close", 2, 2, 0)


def test_the_same_nonce_is_refused_by_the_operation_too(manager_user):
    card = CustomerFactory()
    choice = ClosureChoice("close", reason("service"), nonce=tokens.new_nonce())
    bulk.bulk_close([card.pk], choice, by=manager_user)
    operations.reinstate(card, by=manager_user, note="误操作")

    with pytest.raises(ValidationError, match="already confirmed by Wang Fang"):
        bulk.bulk_close([card.pk], choice, by=manager_user)
    card.refresh_from_db()
    assert card.status == "active"


def test_a_card_changed_after_the_bulk_preview_is_skipped_with_that_reason(manager_client):
    edited, untouched = CustomerFactory(customer_no="Q000003"), CustomerFactory(customer_no="Q000004")
    token = bulk_preview(manager_client, [edited, untouched]).context["token"]
    edited.city = "北京"
    edited.save()

    result = bulk_confirm(manager_client, token)

    assert "1 card done, 1 skipped." in messages_of(result)
    ((skipped, why),) = result.context["result"].skipped
    assert skipped == edited
    assert (
        why
        == "The card was changed by someone else after your preview. Nothing was changed; review it and start again."
    )
    edited.refresh_from_db()
    assert edited.status == "active"


def test_a_card_reinstated_between_preview_and_confirmation_is_not_closed(manager_client, manager_user):
    card = CustomerFactory()
    operations.close_customer(card, ClosureChoice("archive", reason("long-inactive")), by=manager_user)
    token = bulk_preview(manager_client, [card]).context["token"]  # it shows as archived: it would be skipped
    operations.reinstate(card, by=manager_user, note="客户回来了")

    result = bulk_confirm(manager_client, token)

    assert [why for _c, why in result.context["result"].skipped] == [
        "The card was changed by someone else after your preview. Nothing was changed; review it and start again."
    ]
    card.refresh_from_db()
    assert card.status == "active"


def test_a_bulk_token_for_5000_cards_fits_comfortably_in_a_post():
    seen = {pk: 1_733_400_000_000_000 + pk * 7_919_000_003 for pk in range(1_000_000, 1_005_000)}
    choice = ClosureChoice("close", 3, notes="很" * 1000, seen=seen, nonce=tokens.new_nonce())

    token = tokens.sign_bulk(choice)

    assert len(token) < 150_000  # DATA_UPLOAD_MAX_MEMORY_SIZE is 5 MB
    assert tokens.read_bulk(token) == choice


# --- The single-card rules, for every card ---------------------------------------------------------


def test_each_skipped_card_gets_the_words_the_single_card_flow_refuses_it_with(manager_user, staff_user):
    cards = [
        CustomerFactory(status="closed"),
        CustomerFactory(status="erased"),
        CustomerFactory(balance=Decimal("5.00")),
        CustomerFactory(points=10),
        CustomerFactory(),
    ]
    ClosureRequest.objects.create(customer=cards[4], action="close", reason=reason("price"), requested_by=staff_user)
    choice = ClosureChoice("close", reason("service"), settlement_note="已退款")  # not acknowledged

    result = bulk.bulk_close([c.pk for c in cards], choice, by=manager_user)

    assert result.done == []
    for card, why in result.skipped:
        with pytest.raises(ValidationError) as single:
            operations.close_customer(card.pk, choice, by=manager_user)
        assert why == " ".join(single.value.messages)


def test_a_settlement_note_without_a_settlement_does_not_close_a_card_with_money(manager_user):
    card = CustomerFactory(balance=Decimal("9.90"))

    result = bulk.bulk_close(
        [card.pk], ClosureChoice("close", reason("service"), settlement_note="已退款"), by=manager_user
    )

    assert result.done == []
    assert "choose how they are settled" in result.skipped[0][1]
    card.refresh_from_db()
    assert card.status == "active"


def test_cards_that_need_approval_are_skipped_and_no_request_is_sent(bulk_staff):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    card = CustomerFactory()

    result = bulk.bulk_close([card.pk], ClosureChoice("close", reason("service")), by=bulk_staff)

    assert result.done == []
    assert result.skipped == [(card, "needs a Manager's approval: close it from its card to send a request")]
    card.refresh_from_db()
    assert card.status == "active"
    assert not ClosureRequest.objects.exists()


def test_only_the_cards_the_policy_names_need_approval(bulk_staff):
    ClosureSettings.objects.update_or_create(
        pk=1, defaults={"approval_required": True, "approval_policy": "key_or_balance"}
    )
    key, regular = CustomerFactory(segment=Customer.Segment.KEY), CustomerFactory()

    result = bulk.bulk_close([key.pk, regular.pk], ClosureChoice("close", reason("service")), by=bulk_staff)

    assert [c.customer for c in result.done] == [regular]
    assert [c for c, _why in result.skipped] == [key]


def test_the_confirm_page_says_how_many_cards_hold_money_or_need_approval(bulk_staff, staff_client):
    ClosureSettings.objects.update_or_create(
        pk=1, defaults={"approval_required": True, "approval_policy": "key_or_balance"}
    )
    cards = [CustomerFactory(balance=Decimal("1.00")), CustomerFactory(points=3), CustomerFactory()]

    page = bulk_preview(staff_client, cards, settlement="forfeit", forfeit_reason="written off").content.decode()

    assert "2 of these cards hold a balance or points: 1.00 and 3 points in all, settled as forfeited." in page
    assert "2 of these cards need a Manager's approval and are skipped" in page


def test_the_bulk_form_refuses_to_settle_cards_with_money_silently(manager_client):
    cards = [CustomerFactory(balance=Decimal("1.00")), CustomerFactory()]

    chooser = manager_client.get(reverse("closures:bulk"), {"ids": [c.pk for c in cards]}).content.decode()
    refused = bulk_preview(manager_client, cards, settlement_note="已退款")
    accepted = bulk_preview(
        manager_client, cards, settlement_note="已退款", settlement="forfeit", forfeit_reason="written off"
    )

    assert "1 of these cards holds a balance or points: how are they settled?" in chooser
    assert refused.context["form"].errors == {
        "settlement": [
            "Some of these cards hold a balance or points: choose how they are settled (refunded or forfeited); "
            "nothing is settled without your choice."
        ]
    }
    assert "1 of these cards holds a balance or points: 1.00 and 0 points in all, settled as forfeited." in (
        accepted.content.decode()
    )
    assert bulk_confirm(manager_client, accepted.context["token"]).context["result"].skipped == []
    assert Customer.objects.filter(status="closed").count() == 2


def test_without_money_in_the_selection_the_form_has_no_settlement_fields(manager_client):
    card = CustomerFactory()
    form = manager_client.get(reverse("closures:bulk"), {"ids": card.pk}).context["form"]
    assert "settlement" not in form.fields
    assert "settlement_note" not in form.fields


# --- A fixed number of queries ------------------------------------------------------------------------


def _queries_to_bulk_close(count: int, user) -> int:
    ids = [c.pk for c in Customer.objects.bulk_create(CustomerFactory.build_batch(count))]
    pending = Customer.objects.get(pk=ids[0])
    ClosureRequest.objects.create(customer=pending, action="close", reason=reason("price"), requested_by=user)
    Customer.objects.filter(pk=ids[1]).update(status="closed")
    seen = {c.pk: rules.version(c) for c in Customer.objects.filter(pk__in=ids)}
    choice = ClosureChoice("archive", reason("long-inactive"), seen=seen, nonce=tokens.new_nonce())
    with CaptureQueriesContext(connection) as queries:
        result = bulk.bulk_close(ids, choice, by=user)
    assert (len(result.done), len(result.skipped)) == (count - 2, 2)
    return len(queries)


def test_a_200_card_bulk_closure_takes_as_many_queries_as_a_20_card_one(manager_user):
    small, large = _queries_to_bulk_close(20, manager_user), _queries_to_bulk_close(200, manager_user)
    # SQLite inserts at most 999 parameters at a time: the closures and audit entries of 200 cards
    # take 4 more INSERTs each. PostgreSQL inserts 1,000 rows at a time.
    extra = 8 if connection.vendor == "sqlite" else 0
    assert large <= small + extra
    assert large < 40  # one query per card would be 200+
