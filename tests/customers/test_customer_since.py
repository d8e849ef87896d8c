""" "Customer since" (客户起始日期) and source on the card: the form, the card gate, the audit trail and
the card page. The date is one a customer can have had (not in the future, not before 1900, not after
the card's first closure), and tenure, also at closing, counts from it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from closures import operations
from closures.models import Closure
from closures.rules import ClosureChoice
from crm.models import AuditEntry
from customers import gate, since
from customers.forms import CustomerForm
from customers.models import Customer, ImportBatch
from tests.closures.steps import reason
from tests.factories import ClosureFactory, CustomerFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def edit_data(customer: Customer, **overrides) -> dict:
    data = {
        "customer_no": customer.customer_no,
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "city": customer.city,
        "segment": customer.segment,
        "stage": customer.stage,
        "customer_since": customer.customer_since.isoformat(),
        "source": customer.source,
        "balance": "0",
        "points": "0",
    }
    data.update(overrides)
    return data


def form_errors(customer: Customer, **overrides) -> dict:
    form = CustomerForm(edit_data(customer, **overrides), instance=customer)
    form.is_valid()
    return form.errors


# --- The form ------------------------------------------------------------------------------------
def test_a_new_card_is_a_customer_since_today_unless_the_form_says_otherwise(admin_client):
    response = admin_client.post(
        reverse("customers:create"),
        {
            "name": "王芳",
            "phone": "13700001111",
            "segment": "regular",
            "stage": "prospect",
            "balance": "0",
            "points": "0",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.get(name="王芳").customer_since == TODAY

    admin_client.post(
        reverse("customers:create"),
        {
            "name": "李娜",
            "phone": "13700002222",
            "segment": "regular",
            "stage": "prospect",
            "balance": "0",
            "points": "0",
            "customer_since": "2015-06-01",
            "source": "  旧系统   Legacy CRM ",
        },
    )
    card = Customer.objects.get(name="李娜")
    assert (card.customer_since, card.source) == (dt.date(2015, 6, 1), "旧系统 Legacy CRM")


def test_the_form_refuses_a_date_in_the_future_or_before_1900_next_to_the_field():
    customer = CustomerFactory()
    tomorrow = TODAY + dt.timedelta(days=1)
    assert form_errors(customer, customer_since=tomorrow.isoformat()) == {
        "customer_since": [f"The date a customer became one cannot be in the future ({tomorrow.isoformat()})."]
    }
    assert form_errors(customer, customer_since="1899-12-31") == {
        "customer_since": ["Enter a date after 1 January 1900 (1899-12-31 is before it)."]
    }
    assert form_errors(customer, customer_since="31/12/2020") == {
        "customer_since": ["Enter the date as YYYY-MM-DD, for example 2019-03-21."]
    }
    assert form_errors(customer, customer_since=TODAY.isoformat()) == {}
    assert form_errors(customer, customer_since="1900-01-01") == {}


def test_the_form_refuses_a_date_after_the_first_closure_even_a_reverted_one(manager_user):
    customer = CustomerFactory(customer_since=dt.date(2020, 1, 1))
    first = ClosureFactory(customer=customer, performed_at=timezone.make_aware(dt.datetime(2023, 5, 10, 12)))
    first.reverted_at = timezone.make_aware(dt.datetime(2023, 6, 1))
    first.save()
    ClosureFactory(customer=customer, performed_at=timezone.make_aware(dt.datetime(2024, 2, 1, 12)))

    message = "The card was first closed on 2023-05-10; the customer must have become one on or before that date."
    assert form_errors(customer, customer_since="2023-05-11") == {"customer_since": [message]}
    assert form_errors(customer, customer_since="2023-05-10") == {}


def test_an_edit_that_leaves_the_date_empty_keeps_it(admin_client):
    customer = CustomerFactory(customer_since=dt.date(2018, 3, 4))
    response = admin_client.post(
        reverse("customers:edit", args=[customer.pk]), edit_data(customer, customer_since="", city="杭州")
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.customer_since, customer.city) == (dt.date(2018, 3, 4), "杭州")


# --- The gate ------------------------------------------------------------------------------------
def test_the_gate_records_customer_since_and_source_old_and_new(manager_user):
    customer = CustomerFactory(customer_since=dt.date(2021, 1, 1), source="")

    change = gate.update_card(
        customer, {"customer_since": dt.date(2019, 7, 1), "source": "门店 Store"}, by=manager_user, source=gate.FORM
    )

    assert change.changes == {"customer_since": ["2021-01-01", "2019-07-01"], "source": ["", "门店 Store"]}
    customer.refresh_from_db()
    assert (customer.customer_since, customer.source) == (dt.date(2019, 7, 1), "门店 Store")
    entry = AuditEntry.objects.get(action="customer.update")
    assert entry.changes == change.changes


def test_the_card_history_names_the_new_fields(admin_client, manager_user):
    customer = CustomerFactory(customer_since=dt.date(2021, 1, 1))
    gate.update_card(
        customer, {"customer_since": dt.date(2019, 7, 1), "source": "门店"}, by=manager_user, source=gate.FORM
    )

    html = admin_client.get(reverse("customers:card", args=[customer.pk])).content.decode()

    assert "Customer since</span>: 2021-01-01 → 2019-07-01" in html
    assert "Source</span>: — → 门店" in html


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (TODAY + dt.timedelta(days=1), "cannot be in the future"),
        (dt.date(1899, 12, 31), "Enter a date after 1 January 1900"),
        (dt.date(2023, 5, 11), "The card was first closed on 2023-05-10"),
    ],
)
def test_the_gate_refuses_an_impossible_date_on_the_field_and_writes_nothing(manager_user, day, message):
    customer = CustomerFactory(customer_since=dt.date(2020, 1, 1))
    ClosureFactory(customer=customer, performed_at=timezone.make_aware(dt.datetime(2023, 5, 10, 12)))

    with pytest.raises(ValidationError) as refused:
        gate.update_card(customer, {"customer_since": day}, by=manager_user, source=gate.FORM)

    assert list(refused.value.message_dict) == ["customer_since"]
    assert message in refused.value.message_dict["customer_since"][0]
    customer.refresh_from_db()
    assert customer.customer_since == dt.date(2020, 1, 1)
    assert not AuditEntry.objects.filter(action="customer.update").exists()


def test_create_card_refuses_a_future_date(manager_user):
    with pytest.raises(ValidationError) as refused:
        gate.create_card(
            {"name": "甲", "customer_since": TODAY + dt.timedelta(days=3)}, by=manager_user, source=gate.FORM
        )
    assert list(refused.value.message_dict) == ["customer_since"]
    assert not Customer.objects.exists()


def test_the_closure_rule_uses_the_local_date_of_the_closure(settings):
    # 2023-05-09 20:00 UTC is already 2023-05-10 in Shanghai
    settings.TIME_ZONE = "Asia/Shanghai"
    customer = CustomerFactory()
    ClosureFactory(customer=customer, performed_at=dt.datetime(2023, 5, 9, 20, tzinfo=dt.UTC))
    assert since.first_closed_on([customer.pk]) == {customer.pk: dt.date(2023, 5, 10)}


# --- Tenure --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "today", "words"),
    [
        (dt.date(2022, 1, 15), dt.date(2024, 4, 15), "2 years 3 months"),
        (dt.date(2022, 1, 15), dt.date(2024, 4, 14), "2 years 2 months"),
        (dt.date(2024, 1, 31), dt.date(2024, 2, 29), "1 month"),
        (dt.date(2023, 4, 1), dt.date(2024, 4, 1), "1 year"),
        (dt.date(2024, 4, 1), dt.date(2024, 4, 30), "less than a month"),
    ],
)
def test_tenure_in_words(start, today, words):
    assert since.tenure_text(start, today) == words


def test_months_before_keeps_the_day_or_the_end_of_a_shorter_month():
    assert since.months_before(dt.date(2024, 3, 31), 1) == dt.date(2024, 2, 29)
    assert since.months_before(dt.date(2024, 3, 15), 15) == dt.date(2022, 12, 15)
    assert since.months_before(dt.date(2024, 3, 15), 0) == dt.date(2024, 3, 15)


def test_the_card_page_shows_customer_since_tenure_source_and_batch(staff_client, admin_user):
    batch = ImportBatch.objects.create(file_name="老客户.xlsx", created_by=admin_user, rows=1, created_count=1)
    start = since.months_before(TODAY, 27)
    customer = CustomerFactory(customer_since=start, source="旧系统 Legacy CRM", import_batch=batch)

    html = staff_client.get(reverse("customers:card", args=[customer.pk])).content.decode()

    assert f'<dt>Customer since</dt><dd>{start:%Y-%m-%d} <span class="muted">(for 2 years 3 months)</span>' in html
    assert "<dt>Source</dt><dd>旧系统 Legacy CRM</dd>" in html
    assert f'href="{reverse("customers:search")}?batch={batch.pk}&amp;status=active' in html
    assert "老客户.xlsx" in html


def test_a_closure_counts_tenure_from_customer_since(manager_user):
    customer = CustomerFactory(
        customer_since=TODAY - dt.timedelta(days=1000), created_at=timezone.now() - dt.timedelta(days=10)
    )

    operations.close_customer(customer, ClosureChoice("close", reason("price")), by=manager_user)

    closure = Closure.objects.get(customer=customer)
    assert (closure.tenure_days, closure.customer_since) == (1000, TODAY - dt.timedelta(days=1000))
