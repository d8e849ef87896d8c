import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import audit
from customers import gate
from customers.models import Customer
from tests.factories import CustomerFactory, InteractionFactory, PurchaseFactory, TagFactory

pytestmark = pytest.mark.django_db


def card_url(customer) -> str:
    return reverse("customers:card", kwargs={"pk": customer.pk})


def test_the_card_shows_identity_contact_classification_and_money(staff_client, staff_user):
    customer = CustomerFactory(
        name="张伟",
        customer_no="C000123",
        phone="+8613812345678",
        email="zhang.wei@example.cn",
        city="杭州",
        segment=Customer.Segment.KEY,
        owner=staff_user,
        balance="88.50",
        points=420,
    )
    customer.tags.add(TagFactory(name="VIP"))
    html = staff_client.get(card_url(customer)).content.decode()
    for text in [
        "张伟",
        "C000123",
        "+86 138 1234 5678",
        "zhang.wei@example.cn",
        "杭州",
        "Key account",
        "VIP",
        "88.50",
        "420",
        "Li Na",
        'class="badge active"',
    ]:
        assert text in html, text


def test_the_card_lists_purchases_interactions_and_the_history_newest_first(staff_client, staff_user):
    customer = CustomerFactory()
    PurchaseFactory(customer=customer, product="护肤套装")
    InteractionFactory(customer=customer, summary="介绍新品")
    audit.record(
        "customer.update",
        actor=staff_user,
        obj=customer,
        customer_id=customer.pk,
        changes={"city": ["上海", "杭州"]},
        summary="first",
    )
    audit.record(
        "customer.update",
        actor=staff_user,
        obj=customer,
        customer_id=customer.pk,
        summary="second",
        reason="Moved away",
        notes="客户搬家",
    )
    html = staff_client.get(card_url(customer)).content.decode()
    assert "护肤套装" in html
    assert "介绍新品" in html
    assert "上海 → 杭州" in html
    assert "Moved away" in html and "客户搬家" in html
    assert html.index("second") < html.index("first")


def test_the_actions_menu_offers_edit_log_interaction_and_add_purchase(staff_client):
    customer = CustomerFactory()
    html = staff_client.get(card_url(customer)).content.decode()
    assert reverse("customers:edit", kwargs={"pk": customer.pk}) in html
    assert reverse("customers:add_interaction", kwargs={"pk": customer.pk}) in html
    assert reverse("customers:add_purchase", kwargs={"pk": customer.pk}) in html
    assert "Log interaction" in html


def test_the_card_includes_the_closure_panel_and_actions(staff_client):
    response = staff_client.get(card_url(CustomerFactory()))
    names = [t.name for t in response.templates]
    assert "closures/_card_panel.html" in names
    assert "closures/_card_actions.html" in names


@pytest.mark.parametrize("status", ["closed", "void", "archived"])
def test_a_non_active_card_stays_viewable_with_its_history_but_offers_no_edits(staff_client, status):
    customer = CustomerFactory(status=status, name="李娜")
    PurchaseFactory(customer=customer, product="茶叶礼盒")
    response = staff_client.get(card_url(customer))
    html = response.content.decode()
    assert response.status_code == 200
    assert "李娜" in html and "茶叶礼盒" in html
    assert f'class="badge {status}"' in html
    assert reverse("customers:edit", kwargs={"pk": customer.pk}) not in html


def test_an_erased_card_shows_no_personal_data(staff_client):
    customer = CustomerFactory(
        status=Customer.Status.ERASED,
        name="王秀英",
        phone="+8613812345678",
        email="wang@example.cn",
        address="人民路1号",
    )
    html = staff_client.get(card_url(customer)).content.decode()
    assert "Personal data erased" in html
    for personal in ["王秀英", "13812345678", "138 1234 5678", "wang@example.cn", "人民路1号"]:
        assert personal not in html, personal


def test_a_missing_card_is_404(staff_client):
    assert staff_client.get(reverse("customers:card", kwargs={"pk": 999999})).status_code == 404


def _queries_for_card(client, customer) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(card_url(customer)).status_code == 200
    return len(captured)


def test_the_card_loads_in_a_fixed_number_of_queries_however_long_its_history(staff_client, staff_user):
    small, big = CustomerFactory(owner=staff_user), CustomerFactory(owner=staff_user)
    PurchaseFactory(customer=small)
    InteractionFactory(customer=small, by=staff_user)
    small.tags.add(TagFactory())
    for n in range(30):
        PurchaseFactory(customer=big, recorded_by=staff_user)
        InteractionFactory(customer=big, by=staff_user, occurred_at=timezone.now() - dt.timedelta(hours=n))
        audit.record("customer.update", actor=staff_user, obj=big, customer_id=big.pk, summary=f"edit {n}")
    big.tags.add(*[TagFactory() for _ in range(5)])
    _queries_for_card(staff_client, small)  # warm the session and permission caches alike
    assert _queries_for_card(staff_client, big) == _queries_for_card(staff_client, small)


def test_the_card_shows_the_latest_ten_purchases_with_the_total_count(staff_client):
    customer = CustomerFactory()
    for n in range(12):
        gate.record_purchase(
            customer,
            by=None,
            product=f"item-{n:02d}",
            quantity=1,
            amount=1,
            purchased_on=timezone.localdate() - dt.timedelta(days=n),
        )
    html = staff_client.get(card_url(customer)).content.decode()
    purchases = html[html.index('id="h-purchases"') : html.index('id="h-interactions"')]
    assert "Latest 10 of 12." in purchases
    assert "item-00" in purchases and "item-11" not in purchases


def test_the_card_shows_the_latest_ten_interactions_with_the_total_count(staff_client, staff_user):
    customer = CustomerFactory()
    for n in range(13):
        InteractionFactory(customer=customer, by=staff_user, occurred_at=timezone.now() - dt.timedelta(hours=n))
    other = CustomerFactory()
    InteractionFactory(customer=other, by=staff_user)  # not counted on the first card

    html = staff_client.get(card_url(customer)).content.decode()

    assert "Latest 10 of 13." in html
    assert "Latest 1 of 1." in staff_client.get(card_url(other)).content.decode()
