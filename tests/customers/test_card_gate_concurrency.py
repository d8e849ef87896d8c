"""The card gate under real concurrency (PostgreSQL: real row locks between real connections).

Reproductions: 8–10 simultaneous "New customer" posts gave an IntegrityError 500 after the number
generator's retries; an import and a bulk closure of overlapping cards could deadlock, because
they locked rows in different orders.
"""

import io

import pytest
from django.test import Client
from django.urls import reverse

from closures import bulk
from closures.models import Closure
from closures.rules import ClosureChoice
from customers import imports
from customers.models import Customer
from tests.concurrency import run_together
from tests.factories import ClosureReasonFactory, CustomerFactory, UserFactory
from tests.fixtures.customer_files import csv_bytes

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_ten_new_customers_created_at_the_same_moment_all_get_their_own_number():
    staff = UserFactory(role="Staff")
    CustomerFactory(customer_no="C000001")  # a number the sequence will meet and skip

    def create(n):
        client = Client()
        client.force_login(staff)
        data = {"name": f"同时{n}", "segment": "potential", "stage": "prospect", "balance": "0", "points": "0"}
        return client.post(reverse("customers:create"), data)

    responses = run_together(*[lambda n=n: create(n) for n in range(10)])

    assert [getattr(r, "status_code", r) for r in responses] == [302] * 10
    numbers = list(Customer.objects.filter(name__startswith="同时").values_list("customer_no", flat=True))
    assert len(numbers) == len(set(numbers)) == 10


def test_an_import_and_a_bulk_closure_of_the_same_cards_both_finish(monkeypatch):
    admin = UserFactory(role="Admin")
    reason = ClosureReasonFactory(code="overlap", label_en="Overlap", for_close=True)
    # The file names the cards from the highest primary key down, in chunks of 50: an import that
    # locked each chunk as it came met the bulk closure's key order head-on.
    monkeypatch.setattr("customers.imports.cleaning.CHUNK_SIZE", 50)
    cards = [CustomerFactory(customer_no=f"OV-{n:03d}", balance=0, points=0) for n in range(400)]
    rows = [[card.customer_no, f"新名{n}"] for n, card in reversed(list(enumerate(cards)))]
    data = csv_bytes([], header=["customer_no", "name"], raw_rows=rows)

    def run_import():
        return imports.import_customers(io.BytesIO(data), "overlap.csv", user=admin, commit=True)

    def run_bulk():
        return bulk.bulk_close([c.pk for c in cards], ClosureChoice(action="close", reason=reason), by=admin)

    imported, closed = run_together(run_import, run_bulk)

    assert not isinstance(imported, Exception), imported
    assert not isinstance(closed, Exception), closed
    if imported.written:  # the import went first: every card renamed, then closed by the bulk closure
        assert Customer.objects.filter(name__startswith="新名").count() == 400
        assert Closure.objects.count() == 400
    else:  # the bulk closure went first: the import refuses every closed card, writing nothing
        assert Closure.objects.count() == 400
        assert len(imported.problems) == 400
