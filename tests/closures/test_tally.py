"""The dashboard's closure tallies stay equal to a full recount of the closure table, whatever the
operations do: closes, voids, archives, bulk closures, reinstatements, closing again, erasure and
approvals, across month and year ends (on SQLite, and on PostgreSQL with DATABASE_URL)."""

import io
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from closures import bulk, erasure, operations, tally, writes
from closures.models import (
    Closure,
    ClosureOwnerTally,
    ClosureSettings,
    ClosureStaffTally,
    ClosureTally,
    CohortOwnerTally,
)
from closures.rules import ClosureChoice
from customers import gate
from tests.factories import ClosureFactory, ClosureReasonFactory, CustomerFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def stored(model, key) -> dict:
    """The tally as {key: n}, rows counted down to zero left out (the figures ignore them too)."""
    return {tuple(row[c] for c in key): row["n"] for row in model.objects.exclude(n=0).values(*key, "n")}


def recounted(name, key) -> dict:
    """The same counts by GROUP BY over the closure table."""
    return {tuple(row[c] for c in key): row["n"] for row in tally.counted(Closure.objects.all())[name]}


def assert_tallies_match_a_recount():
    every = {name: stored(model, key) for name, (model, key) in tally.TALLY_KEYS.items()}
    for name, (_model, key) in tally.TALLY_KEYS.items():
        assert every[name] == recounted(name, key), name
        assert sum(every[name].values()) == Closure.objects.count(), name
    cohort_owners = stored(CohortOwnerTally, tally.COHORT_OWNER_KEY)
    assert cohort_owners == dict(tally.counted_cohorts(Closure.objects.all(), by="owner"))
    assert sum(cohort_owners.values()) == Closure.objects.filter(reverted_at=None).count()


@pytest.fixture(autouse=True)
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def at(monkeypatch):
    """Run the next operations at a chosen moment (the operations stamp closures with timezone.now())."""

    def travel(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return travel


@pytest.fixture
def reasons(db):
    return {
        "close": ClosureReasonFactory(code="t-close", category="price", for_close=True, for_archive=True),
        "void": ClosureReasonFactory(code="t-void", category="data_error", for_void=True),
        "archive": ClosureReasonFactory(code="t-archive", category="inactivity", for_archive=True),
        "erase": ClosureReasonFactory(code="t-erase", category="customer_request", for_erase=True),
    }


@pytest.mark.django_db
def test_the_tallies_equal_a_recount_after_every_kind_of_operation(at, reasons, staff_user, manager_user, admin_user):
    li, wang = UserFactory(username="li.na", role="Staff"), UserFactory(username="wang.fang", role="Staff")
    cards = [
        CustomerFactory(created_at=local(2021, 3, 1), segment=s, owner=owner)
        for s in ["regular", "key", "potential"] * 4
        for owner in [li if s == "key" else wang]
    ]
    assert_tallies_match_a_recount()

    at(local(2023, 12, 31, 23, 30))  # the last half hour of a year, local time
    operations.close_customer(cards[0], ClosureChoice("close", reasons["close"]), by=staff_user)
    operations.close_customer(cards[1], ClosureChoice("void", reasons["void"]), by=staff_user)
    operations.close_customer(cards[2], ClosureChoice("archive", reasons["archive"]), by=staff_user)
    assert_tallies_match_a_recount()

    at(local(2024, 1, 1, 0, 30))
    result = bulk.bulk_close([c.pk for c in cards[3:8]], ClosureChoice("close", reasons["close"]), by=manager_user)
    assert len(result.done) == 5
    assert_tallies_match_a_recount()

    at(local(2024, 2, 29, 23, 59))  # reinstated in another month than the closure
    operations.reinstate(cards[0], by=manager_user, note="客户回来了")
    operations.reinstate(cards[3], by=manager_user, note="误操作")
    assert_tallies_match_a_recount()
    gate.update_card(cards[3], {"owner": li}, by=manager_user, source=gate.FORM)  # its reverted closure moves
    gate.update_card(cards[0], {"owner": None}, by=manager_user, source=gate.FORM)
    assert_tallies_match_a_recount()

    at(local(2024, 3, 1, 9))
    operations.close_customer(cards[0], ClosureChoice("archive", reasons["close"]), by=staff_user)  # closed again
    erasure.erase_customer(
        cards[1], ClosureChoice("erase", reasons["erase"]), by=admin_user, confirmation=cards[1].customer_no
    )
    erasure.erase_customer(
        cards[8], ClosureChoice("erase", reasons["erase"]), by=admin_user, confirmation=cards[8].customer_no
    )
    assert_tallies_match_a_recount()

    ClosureSettings.objects.update_or_create(pk=1, defaults={"approval_required": True, "approval_policy": "all"})
    approved = operations.request_closure(cards[9], ClosureChoice("close", reasons["close"]), by=staff_user)
    rejected = operations.request_closure(cards[10], ClosureChoice("close", reasons["close"]), by=staff_user)
    assert_tallies_match_a_recount()  # a request alone closes nothing
    at(local(2024, 4, 2, 10))
    operations.approve(approved, by=manager_user)
    operations.reject(rejected, by=manager_user, note="余额未结清")
    assert_tallies_match_a_recount()

    # The history really exercised what the recount checks: months, year end, reverted months.
    main = stored(ClosureTally, tally.MAIN_KEY)
    months = {key[0] for key in main}
    owners = {key[0] for key in stored(ClosureOwnerTally, tally.OWNER_KEY)}
    assert owners == {li.pk, wang.pk, 0}
    assert {2023 * 12 + 11, 2024 * 12 + 0, 2024 * 12 + 2, 2024 * 12 + 3} <= months
    assert {key[1] for key in main} == {0, 2024 * 12 + 1}
    assert Closure.objects.filter(customer_erased=True).count() == 2
    assert Closure.objects.count() == 11  # 3 + 5 in bulk + closed again + an erased active card + approved


@pytest.mark.django_db
def test_a_reinstatement_moves_the_closure_to_its_reverted_month(at, reasons, staff_user, manager_user):
    card = CustomerFactory(created_at=local(2023, 1, 1), segment="key")
    at(local(2024, 1, 31, 23, 30))
    operations.close_customer(card, ClosureChoice("close", reasons["close"]), by=staff_user)
    at(local(2024, 2, 1, 0, 30))
    operations.reinstate(card, by=manager_user, note="客户回心转意")

    rows = list(ClosureTally.objects.exclude(n=0).values_list("month", "reverted_month", "segment", "band", "n"))
    assert rows == [(2024 * 12 + 0, 2024 * 12 + 1, "key", "1to2y", 1)]
    assert ClosureTally.objects.get(month=2024 * 12, reverted_month=0).n == 0


@pytest.mark.django_db
def test_an_operation_that_fails_after_counting_leaves_the_tallies_as_they_were(
    monkeypatch, reasons, manager_user, staff_user
):
    """The tallies are written in the operation's transaction, so they roll back with it."""
    cards = [CustomerFactory() for _ in range(3)]
    operations.close_customer(cards[0], ClosureChoice("close", reasons["close"]), by=staff_user)
    before = stored(ClosureTally, tally.MAIN_KEY), stored(ClosureStaffTally, tally.STAFF_KEY)

    def audit_down(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(writes, "record_bulk_closures", audit_down)
    with pytest.raises(RuntimeError):
        bulk.bulk_close([c.pk for c in cards[1:]], ClosureChoice("close", reasons["close"]), by=manager_user)

    assert (stored(ClosureTally, tally.MAIN_KEY), stored(ClosureStaffTally, tally.STAFF_KEY)) == before
    assert Closure.objects.count() == 1
    assert_tallies_match_a_recount()


@pytest.mark.django_db
def test_rebuild_recounts_tallies_that_went_wrong(reasons, staff_user):
    for _ in range(3):
        operations.close_customer(CustomerFactory(), ClosureChoice("close", reasons["close"]), by=staff_user)
    ClosureTally.objects.update(n=99)
    ClosureStaffTally.objects.all().delete()
    out = io.StringIO()

    call_command("rebuild_closure_tally", stdout=out)

    assert_tallies_match_a_recount()
    assert sum(stored(ClosureTally, tally.MAIN_KEY).values()) == 3
    assert "Closure tallies rebuilt" in out.getvalue()


LIMITS = [(0, "lt3m"), (89, "lt3m"), (90, "3to12m"), (364, "3to12m"), (365, "1to2y"), (1094, "2to3y"), (1095, "gt3y")]


@pytest.mark.django_db
def test_tenure_bands_counted_in_python_and_in_sql_agree_at_their_limits():
    for days, _band in LIMITS:
        ClosureFactory(tenure_days=days)
    in_sql = dict(Closure.objects.annotate(band=tally.tenure_band()).values_list("tenure_days", "band"))
    assert in_sql == dict(LIMITS)
    assert {days: tally.band_of(days) for days, _band in LIMITS} == dict(LIMITS)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_closing_cards_at_the_same_moment_are_both_counted():
    reason = ClosureReasonFactory(code="race-close", category="price", for_close=True)
    people = [UserFactory(username=f"racer{i}", role="Staff") for i in range(2)]
    cards = [CustomerFactory(segment="regular", created_at=local(2023, 1, 1)) for _ in range(2)]
    barrier, errors = threading.Barrier(2), []

    def close(i):
        try:
            barrier.wait()
            operations.close_customer(cards[i], ClosureChoice("close", reason), by=people[i])
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=close, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert ClosureTally.objects.get().n == 2  # same month, action, reason, segment and band: one row
    assert_tallies_match_a_recount()
