"""Bulk closures (Managers, Admins): one action, one reason, one transaction, skipped cards explained."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from closures import bulk
from closures.models import Closure, ClosureRequest
from closures.rules import ClosureChoice
from crm import audit
from crm.audit_display import describe
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory

from .steps import messages_of, reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(staff_user):
    """Two closable cards and one of each kind that must be skipped."""
    cards = {
        "ok1": CustomerFactory(customer_no="B000001"),
        "ok2": CustomerFactory(customer_no="B000002"),
        "closed": CustomerFactory(customer_no="B000003", status="closed"),
        "erased": CustomerFactory(customer_no="B000004", status="erased"),
        "pending": CustomerFactory(customer_no="B000005"),
        "money": CustomerFactory(customer_no="B000006", balance=Decimal("9.90")),
    }
    ClosureRequest.objects.create(
        customer=cards["pending"], action="close", reason=reason("price"), requested_by=staff_user
    )
    return cards


def test_bulk_close_closes_what_it_can_and_says_why_it_skipped_the_rest(manager_user, mixed):
    result = bulk.bulk_close(
        [c.pk for c in mixed.values()], ClosureChoice("archive", reason("long-inactive")), by=manager_user
    )

    assert sorted(c.customer.customer_no for c in result.done) == ["B000001", "B000002"]
    why = {customer.customer_no: str(reason_) for customer, reason_ in result.skipped}
    assert why.keys() == {"B000003", "B000004", "B000005", "B000006"}
    assert why["B000003"] == "This card is not active (status: Closed); nothing was changed."
    assert why["B000004"] == "This card's personal data has already been deleted; nothing was changed."
    assert why["B000005"].startswith("A closure of this card, requested by Li Na at ")
    assert why["B000006"] == (
        "This card still has a balance of ¥9.90 and 0 points: choose how they are settled "
        "(refunded, transferred to another card or forfeited)."
    )
    assert set(Customer.objects.filter(status="archived").values_list("customer_no", flat=True)) == {
        "B000001",
        "B000002",
    }
    assert AuditEntry.objects.filter(action="closure.archive").count() == 2
    assert all(c.performed_by == manager_user for c in Closure.objects.all())


def test_an_acknowledged_settlement_note_lets_bulk_close_cards_with_money(manager_user, mixed):
    result = bulk.bulk_close(
        [mixed["money"].pk],
        ClosureChoice(
            "close",
            reason("business-closed"),
            settlement_note="已退款",
            settlement="forfeit",
            forfeit_reason="written off",
        ),
        by=manager_user,
    )
    assert len(result.done) == 1
    assert Closure.objects.get().settlement_note == "已退款"


def test_bulk_close_takes_at_most_5000_cards(manager_user):
    with pytest.raises(ValidationError, match="at most 5,000"):
        bulk.bulk_close(range(1, 5002), ClosureChoice("close", reason("service")), by=manager_user)


def test_bulk_close_refuses_duplicate_reasons_and_missing_notes(manager_user, mixed):
    with pytest.raises(ValidationError, match="one by one"):
        bulk.bulk_close([mixed["ok1"].pk], ClosureChoice("void", reason("duplicate")), by=manager_user)
    with pytest.raises(ValidationError, match="needs notes"):
        bulk.bulk_close([mixed["ok1"].pk], ClosureChoice("close", reason("other")), by=manager_user)
    assert not Closure.objects.exists()


def test_bulk_close_is_one_transaction(manager_user, mixed, monkeypatch):
    def failing_audit(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record_many", failing_audit)
    with pytest.raises(RuntimeError):
        bulk.bulk_close([mixed["ok1"].pk, mixed["ok2"].pk], ClosureChoice("close", reason("service")), by=manager_user)
    assert not Closure.objects.exists()
    assert Customer.objects.filter(status="closed").count() == 1  # only the fixture's own closed card
    assert not AuditEntry.objects.filter(action="closure.close").exists()


def test_bulk_audit_entries_say_who_what_and_why(manager_client, manager_user, mixed):
    bulk.bulk_close([mixed["ok1"].pk], ClosureChoice("close", reason("service"), notes="清理"), by=manager_user)
    entry = AuditEntry.objects.get(action="closure.close")
    closure = Closure.objects.get()
    assert (entry.actor, entry.actor_name, entry.customer_id) == (manager_user, "manager_wang", mixed["ok1"].pk)
    assert (entry.object_type, entry.object_id) == ("closure", str(closure.pk))
    assert entry.changes == {"status": ["active", "closed"]}
    assert entry.notes == "清理"
    assert entry.data == {"reason": reason("service").pk, "bulk": True}
    (shown,) = describe([entry], unmasked=False)
    assert (shown.title, shown.reason, shown.details) == (
        "Card closed",
        reason("service").label_en,
        ["Part of a bulk closure"],
    )


def test_bulk_close_of_many_cards_takes_a_fixed_number_of_queries(django_assert_max_num_queries, manager_user):
    ids = [c.pk for c in Customer.objects.bulk_create(CustomerFactory.build_batch(300))]
    inactive = reason("long-inactive")
    # Batched inserts: SQLite's 999-parameter limit makes small batches, still far from one query per card
    # (the tallies: one upsert each, seven of them since the data scopes' owner tallies).
    with django_assert_max_num_queries(45):
        result = bulk.bulk_close(ids, ClosureChoice("archive", inactive), by=manager_user)
    assert len(result.done) == 300


def test_bulk_pages_select_confirm_and_report(manager_client, mixed):
    ids = "&".join(f"ids={c.pk}" for c in mixed.values())
    chooser = manager_client.get(f"{reverse('closures:bulk')}?{ids}")
    assert "6 customers selected." in chooser.content.decode()
    selection = chooser.context["form"]["selection"].value()

    preview = manager_client.post(
        reverse("closures:bulk"),
        {
            "selection": selection,
            "choice": f"close:{reason('service').pk}",
            "notes": "批量清理",
            "settlement": "forfeit",
            "forfeit_reason": "written off",
        },
    )
    page = preview.content.decode()
    assert preview.status_code == 200
    assert all(c.customer_no in page for c in mixed.values())
    assert Closure.objects.count() == 0

    result = manager_client.post(reverse("closures:bulk_confirm"), {"token": preview.context["token"]})

    assert result.status_code == 200
    assert "3 cards done, 3 skipped." in messages_of(result)
    body = result.content.decode()
    assert "This card is not active (status: Closed)" in body
    assert "is waiting for a Manager&#x27;s approval" in body
    assert Customer.objects.filter(status="closed").count() == 4
    mixed["money"].refresh_from_db()
    assert (mixed["money"].status, mixed["money"].balance) == ("closed", Decimal("0.00"))
    assert set(Closure.objects.values_list("notes", flat=True)) == {"批量清理"}


def test_a_second_bulk_closure_of_the_same_cards_skips_everything(manager_client, manager_user, mixed):
    args = ([mixed["ok1"].pk, mixed["ok2"].pk],)
    bulk.bulk_close(*args, ClosureChoice("close", reason("service")), by=manager_user)
    again = bulk.bulk_close(*args, ClosureChoice("close", reason("service")), by=manager_user)
    assert again.done == []
    assert [why.startswith("This card was already closed by Wang Fang at ") for _c, why in again.skipped] == [
        True,
        True,
    ]
    assert Closure.objects.count() == 2


def test_the_bulk_page_refuses_more_than_5000_cards(manager_client):
    ids = ",".join(str(n) for n in range(1, 5002))
    page = manager_client.get(f"{reverse('closures:bulk')}?ids={ids}").content.decode()
    assert "At most 5000 cards can be closed at once." in page


def test_the_reason_list_is_grouped_by_action(manager_client, mixed):
    chooser = manager_client.get(f"{reverse('closures:bulk')}?ids={mixed['ok1'].pk}").content.decode()
    assert '<optgroup label="Close card">' in chooser
    assert '<optgroup label="Archive">' in chooser
    assert reason("duplicate").label_en not in chooser


def test_a_reason_must_fit_the_chosen_action(manager_client, mixed):
    from closures import tokens

    response = manager_client.post(
        reverse("closures:bulk"),
        {"selection": tokens.sign_selection([mixed["ok1"].pk]), "choice": f"void:{reason('service').pk}"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["choice"]


def test_the_whole_filtered_result_can_be_selected(manager_client):
    wanted = [CustomerFactory(city="杭州") for _ in range(3)]
    CustomerFactory(city="上海")
    CustomerFactory(city="杭州", status="closed")  # active only, as the search shows by default

    chooser = manager_client.get(f"{reverse('closures:bulk')}?all=1&city=杭州&page=2")

    assert "3 customers selected." in chooser.content.decode()
    from closures import tokens

    assert tokens.read_selection(chooser.context["form"]["selection"].value()) == sorted(c.pk for c in wanted)
