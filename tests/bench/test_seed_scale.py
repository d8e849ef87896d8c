"""seed_scale: a large data set that is consistent the way the app's own operations leave it.

Loaded small here (a few hundred cards); the benchmark loads a million with the same code. The
command is called as an object: production's settings, which the tests use, do not install the
bench app (tests/bench/test_not_in_production.py).
"""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Q, Sum

from bench.management.commands.seed_scale import Command as SeedScale
from closures import tally
from closures.models import ACTION_STATUS, Closure, ClosureStaffTally, ClosureTally
from crm.models import ERASED_MARKER, AuditEntry
from customers.models import Customer, NameGram
from tests.factories import CustomerFactory
from tests.module_data import kept_for_module


def seed(customers=600, closures=150, **options):
    out = io.StringIO()
    call_command(SeedScale(), customers=customers, closures=closures, nice=0, stdout=out, **options)
    return out.getvalue()


@pytest.mark.sqlite
@pytest.mark.django_db
def test_seed_scale_refuses_sqlite_with_a_clear_message():
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        seed()


@pytest.fixture(scope="class")
def loaded(django_db_setup, django_db_blocker):
    """The default small data set, loaded once for the class (tests/module_data.py)."""
    with kept_for_module(django_db_blocker):
        yield seed()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.xdist_group("seed_scale")
@pytest.mark.usefixtures("loaded")
class TestOnPostgres:
    """What one load leaves, read by each test."""

    def test_loads_the_requested_numbers(self):
        assert Customer.objects.count() == 600
        assert Closure.objects.count() == 150

    def test_every_status_matches_the_cards_open_closure(self):
        open_action = dict(Closure.objects.open().values_list("customer_id", "action"))
        for pk, status in Customer.objects.values_list("pk", "status"):
            if status == Customer.Status.ERASED:
                continue
            expected = ACTION_STATUS[open_action[pk]] if pk in open_action else Customer.Status.ACTIVE
            assert status == expected, pk

    def test_closure_snapshots_describe_the_card_as_it_was(self):
        for closure in Closure.objects.select_related("customer", "reason"):
            customer = closure.customer
            assert closure.segment == customer.segment
            assert closure.owner_id == customer.owner_id
            assert closure.category == closure.reason.category
            assert closure.tenure_days == (closure.performed_at - customer.created_at).days
            assert closure.reason.applies_to(closure.action)
            assert closure.reverted_at is None or closure.reverted_at > closure.performed_at

    def test_purchase_figures_on_the_card_match_its_purchases(self):
        for customer in Customer.objects.all()[:200]:
            purchases = list(customer.purchases.all())
            assert customer.purchase_count == len(purchases)
            assert customer.purchase_total == sum((p.amount for p in purchases), start=customer.purchase_total * 0)

    def test_every_loaded_balance_is_its_cards_ledger(self):
        holding = Customer.objects.filter(Q(balance__gt=0) | Q(points__gt=0))
        assert holding.exists()
        for customer in holding[:200]:
            totals = customer.ledger.aggregate(amount=Sum("amount"), points=Sum("points"))
            assert (totals["amount"], totals["points"]) == (customer.balance, customer.points)

    def test_name_grams_are_exactly_what_the_trigger_would_store(self):
        for customer in Customer.objects.all()[:100]:
            stored = set(NameGram.objects.filter(customer=customer).values_list("gram", flat=True))
            with connection.cursor() as cursor:
                cursor.execute("SELECT customers_name_grams(%s)", [customer.name])
                assert stored == {row[0] for row in cursor.fetchall()}

    def test_every_closure_is_in_the_audit_trail(self):
        audited = set(AuditEntry.objects.filter(action__startswith="closure.").values_list("object_id", flat=True))
        assert {str(pk) for pk in Closure.objects.values_list("pk", flat=True)} <= audited

    def test_new_cards_continue_after_the_loaded_ids(self):
        assert CustomerFactory().pk > 600

    def test_the_dashboard_tallies_count_every_loaded_closure(self):
        for name, model, key in (("main", ClosureTally, tally.MAIN_KEY), ("staff", ClosureStaffTally, tally.STAFF_KEY)):
            stored = {tuple(row[c] for c in key): row["n"] for row in model.objects.values(*key, "n")}
            recount = {tuple(row[c] for c in key): row["n"] for row in tally.counted(Closure.objects.all())[name]}
            assert stored == recount
            assert sum(stored.values()) == 150


@pytest.mark.postgres
@pytest.mark.django_db
class TestLoading:
    """Loads of their own: sizes, reloads and refusals."""

    def test_erased_cards_keep_no_personal_data_and_their_closures_say_so(self):
        seed(customers=3000, closures=1500)
        erased = Customer.objects.filter(status=Customer.Status.ERASED)
        assert erased.exists()
        for customer in erased:
            assert (customer.name, customer.phone, customer.email, customer.address) == (ERASED_MARKER, "", "", "")
            closures = Closure.objects.filter(customer=customer)
            assert closures.exists()
            assert all(c.customer_erased and not c.notes and not c.settlement_note for c in closures)
        assert not Closure.objects.filter(customer_erased=True).exclude(customer__status="erased").exists()

    def test_running_again_with_the_same_sizes_does_nothing(self):
        seed()
        assert "nothing to do" in seed()
        assert Customer.objects.count() == 600

    def test_a_different_size_needs_reset(self):
        seed()
        with pytest.raises(CommandError, match="--reset"):
            seed(customers=700)
        seed(customers=700, reset=True)
        assert Customer.objects.count() == 700

    def test_never_replaces_customers_it_did_not_create(self):
        CustomerFactory()
        with pytest.raises(CommandError, match="did not create"):
            seed(reset=True)
        assert Customer.objects.count() == 1
