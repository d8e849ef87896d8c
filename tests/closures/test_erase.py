"""Delete (Admin only): personal data erased for good, the closure record kept for analytics."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from closures import erasure, operations
from closures.models import Closure, ClosureRequest, ClosureSettings
from closures.rules import ClosureChoice
from crm import audit
from crm.audit_display import describe
from crm.models import ERASED_MARKER, AuditEntry
from customers.models import Customer
from tests.factories import ClosureReasonFactory, CustomerFactory, InteractionFactory, TagFactory, UserFactory

from .steps import close_through_pages, confirm, messages_of, preview, reason, start_url, token_of

pytestmark = pytest.mark.django_db

PERSONAL = [
    "王小明",
    "+8613812345678",
    "+8613800000000",
    "13812345678",
    "wxm@example.cn",
    "wxm_wechat",
    "上海市浦东新区世纪大道100号",
    "1990-05-01",
    "小明贸易有限公司",
    "总经理",
    "进出口商人",
    "喜欢绿茶，周末联系",
    "VIP客户",
    "讨论续费事宜",
    "考虑续费",
    "王先生说要出国",
]


@pytest.fixture
def person(staff_user):
    customer = CustomerFactory(
        customer_no="E000001",
        name="王小明",
        phone="+8613812345678",
        email="wxm@example.cn",
        wechat="wxm_wechat",
        address="上海市浦东新区世纪大道100号",
        birth_date=dt.date(1990, 5, 1),
        company="小明贸易有限公司",
        title="总经理",
        occupation="进出口商人",
        preferences="喜欢绿茶，周末联系",
        segment=Customer.Segment.KEY,
        owner=UserFactory(username="owner_sun"),
        balance=Decimal("12.00"),
        points=30,
    )
    customer.tags.add(TagFactory(name="VIP客户"))
    InteractionFactory(customer=customer, summary="讨论续费事宜", outcome="考虑续费")
    audit.record(
        "customer.update",
        actor=staff_user,
        object_type="customer",
        object_id=customer.pk,
        customer_id=customer.pk,
        summary="王小明 (E000001)",
        changes={"phone": ["+8613800000000", "+8613812345678"], "address": ["", "上海市浦东新区世纪大道100号"]},
        notes="王小明 called from 13812345678",
    )
    return customer


def erase_through_pages(client, customer, *, typed, **fields):
    page = preview(client, customer, "erase", reason=reason("erasure-request"), notes="客户书面申请")
    return confirm(client, customer, "erase", token_of(page), confirmation=typed, **fields)


def all_text_about(customer) -> str:
    """Everything stored about the card that a page, a search or an export could show."""
    customer.refresh_from_db()
    parts = [str(getattr(customer, f.attname)) for f in Customer._meta.concrete_fields]
    parts += [t.name for t in customer.tags.all()]
    parts += [f"{i.summary} {i.outcome}" for i in customer.interactions.all()]
    parts += [f"{c.notes} {c.settlement_note} {c.revert_note}" for c in Closure.objects.filter(customer=customer)]
    for entry in AuditEntry.objects.filter(customer_id=customer.pk):
        parts += [entry.summary, str(entry.changes), entry.notes]
    return "\n".join(parts)


def test_the_impact_page_lists_what_will_be_erased_and_asks_for_the_number(admin_client, person):
    page = preview(admin_client, person, "erase", reason=reason("erasure-request")).content.decode()
    assert "Erased irreversibly" in page
    assert "interaction summaries" in page
    assert "Type the customer number to confirm" in page
    assert "Delete" in page and "Confirm" in page and "Cancel" in page


def test_only_reasons_for_deletion_are_offered(admin_client, person):
    page = admin_client.get(start_url(person, "erase")).content.decode()
    assert reason("erasure-request").label_en in page
    assert reason("service").label_en not in page


def test_a_wrong_customer_number_erases_nothing(admin_client, person):
    response = erase_through_pages(
        admin_client, person, typed="E00000", settlement="forfeit", forfeit_reason="written off", settlement_note="退款"
    )
    assert response.status_code == 200
    assert "Type E000001 exactly; deletion cannot be undone." in response.content.decode()
    person.refresh_from_db()
    assert (person.status, person.name) == ("active", "王小明")


def test_deleting_an_active_card_erases_personal_data_and_records_an_erase_closure(admin_client, admin_user, person):
    response = erase_through_pages(
        admin_client,
        person,
        typed="E000001",
        settlement="forfeit",
        forfeit_reason="written off",
        settlement_note="余额已退",
    )

    assert response.status_code == 302
    assert "The personal data of card E000001 was deleted." in messages_of(response)
    person.refresh_from_db()
    assert person.status == "erased"
    assert person.name == ERASED_MARKER
    assert (person.phone, person.email, person.wechat, person.address) == ("", "", "", "")
    assert person.birth_date is None
    assert (person.company, person.title, person.occupation, person.preferences) == ("", "", "", "")
    assert not person.tags.exists()
    text = all_text_about(person)
    for value in PERSONAL:
        assert value not in text, value
    closure = Closure.objects.get(customer=person)
    assert (closure.action, closure.customer_erased, closure.performed_by) == ("erase", True, admin_user)
    assert (closure.segment, closure.owner.username) == (Customer.Segment.KEY, "owner_sun")
    assert (closure.balance_at_closure, closure.points_at_closure, closure.tenure_days) == (Decimal("12.00"), 30, 400)
    entry = AuditEntry.objects.get(action="closure.erase")
    assert entry.changes == {"status": ["active", "erased"]}
    assert entry.customer_id == person.pk


def test_deleting_a_closed_card_keeps_its_closure_so_analytics_do_not_change(staff_client, admin_user, person):
    close_through_pages(
        staff_client,
        person,
        "close",
        reason=reason("moved-away"),
        notes="王先生说要出国",
        settlement="forfeit",
        forfeit_reason="written off",
        settlement_note="余额退回 13812345678",
    )
    before = Closure.objects.values("action", "reason", "category", "segment", "owner", "tenure_days").get()

    erasure.erase_customer(
        person, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation="E000001"
    )

    closure = Closure.objects.get(customer=person)
    after = Closure.objects.values("action", "reason", "category", "segment", "owner", "tenure_days").get()
    assert after == before
    assert closure.customer_erased is True
    assert closure.reverted_at is None
    assert (closure.notes, closure.settlement_note) == ("", "")
    text = all_text_about(person)
    for value in PERSONAL:
        assert value not in text, value
    assert "closure.erase" in AuditEntry.objects.filter(customer_id=person.pk).values_list("action", flat=True)


def test_the_erased_card_panel_shows_no_personal_data(admin_user, person):
    erasure.erase_customer(
        person,
        ClosureChoice(
            "erase",
            reason("erasure-request"),
            settlement="forfeit",
            forfeit_reason="written off",
            settlement_note="余额已退",
        ),
        by=admin_user,
        confirmation="E000001",
    )
    person.refresh_from_db()  # as the card view loads it
    request = RequestFactory().get("/")
    request.user = admin_user
    html = render_to_string(
        "closures/_card_panel.html", {"customer": person, "user": admin_user, "perms": None}, request=request
    )
    assert "Delete" in html  # the erase closure is shown
    for value in PERSONAL:
        assert value not in html


def test_an_erased_card_cannot_be_deleted_again_or_closed(admin_client, admin_user, person):
    erasure.erase_customer(
        person,
        ClosureChoice(
            "erase", reason("test-entry"), settlement="forfeit", forfeit_reason="written off", settlement_note="测试卡"
        ),
        by=admin_user,
        confirmation="E000001",
    )
    response = admin_client.get(start_url(person, "erase"))
    assert response.status_code == 302
    with pytest.raises(ValidationError, match="already been deleted"):
        erasure.erase_customer(
            person, ClosureChoice("erase", reason("test-entry")), by=admin_user, confirmation="E000001"
        )
    with pytest.raises(ValidationError, match="already been deleted"):
        operations.close_customer(person, ClosureChoice("close", reason("service")), by=admin_user)
    assert Closure.objects.filter(customer=person).count() == 1


def test_a_manager_cannot_delete_even_by_calling_the_operation(manager_user, person):
    with pytest.raises(ValidationError, match="Only an Admin"):
        erasure.erase_customer(
            person, ClosureChoice("erase", reason("test-entry")), by=manager_user, confirmation="E000001"
        )
    person.refresh_from_db()
    assert person.name == "王小明"


@pytest.mark.postgres
def test_on_postgresql_erasure_redacts_old_audit_entries_through_the_append_only_trigger(admin_user, person):
    erasure.erase_customer(
        person,
        ClosureChoice(
            "erase",
            ClosureReasonFactory(for_close=False, for_erase=True),
            settlement="forfeit",
            forfeit_reason="written off",
            settlement_note="余额已退",
        ),
        by=admin_user,
        confirmation="E000001",
    )
    entry = AuditEntry.objects.get(action="customer.update", customer_id=person.pk)
    assert entry.changes["phone"] == [ERASED_MARKER, ERASED_MARKER]
    assert entry.summary == f"{ERASED_MARKER} (E000001)"
    assert "13812345678" not in entry.notes


def test_deleting_withdraws_a_pending_request_and_wipes_its_notes(staff_user, admin_user, person):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    operations.request_closure(
        person,
        ClosureChoice(
            "close",
            reason("moved-away"),
            notes="王先生说要出国",
            settlement="forfeit",
            forfeit_reason="written off",
            settlement_note="退款到 13812345678",
        ),
        by=staff_user,
    )

    erasure.erase_customer(
        person,
        ClosureChoice(
            "erase",
            reason("erasure-request"),
            settlement="forfeit",
            forfeit_reason="written off",
            settlement_note="余额已退",
        ),
        by=admin_user,
        confirmation="E000001",
    )

    withdrawn = ClosureRequest.objects.get(customer=person)
    assert withdrawn.state == ClosureRequest.State.WITHDRAWN
    assert (withdrawn.notes, withdrawn.settlement_note) == ("", "")
    text = all_text_about(person)
    for value in PERSONAL:
        assert value not in text, value


def test_each_request_withdrawn_by_deleting_gets_its_own_audit_entry(staff_user, admin_user, admin_client, person):
    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    pending = operations.request_closure(
        person,
        ClosureChoice(
            "archive",
            reason("long-inactive"),
            settlement="forfeit",
            forfeit_reason="written off",
            settlement_note="退款到 13812345678",
        ),
        by=staff_user,
    )

    erasure.erase_customer(
        person,
        ClosureChoice(
            "erase",
            reason("erasure-request"),
            settlement="forfeit",
            forfeit_reason="written off",
            settlement_note="余额已退",
        ),
        by=admin_user,
        confirmation="E000001",
    )

    entry = AuditEntry.objects.get(action="closure.withdraw")
    assert (entry.customer_id, entry.object_type, entry.object_id) == (person.pk, "closurerequest", str(pending.pk))
    assert entry.actor == admin_user
    assert entry.data == {"action": "archive", "reason": reason("long-inactive").pk, "withdrawn_because": "erased"}
    assert entry.changes == {"state": ["pending", "withdrawn"]}
    (shown,) = describe([entry], unmasked=True)
    assert (shown.title, shown.summary, shown.reason) == (
        "Closure request withdrawn",
        "Archive",
        reason("long-inactive").label_en,
    )
    assert shown.details == ["Withdrawn because the card's personal data was deleted"]
    timeline = admin_client.get(reverse("customers:card", args=[person.pk])).content.decode()
    assert "Closure request withdrawn" in timeline
    assert "Withdrawn because the card&#x27;s personal data was deleted" in timeline


def test_deleting_a_closed_card_through_the_pages_says_it_was_deleted(staff_client, admin_client, person):
    close_through_pages(
        staff_client,
        person,
        "close",
        reason=reason("price"),
        settlement="forfeit",
        forfeit_reason="written off",
        settlement_note="已退",
    )
    response = erase_through_pages(admin_client, person, typed="E000001")
    assert messages_of(response) == ["The personal data of card E000001 was deleted."]
    person.refresh_from_db()
    assert person.status == "erased"
