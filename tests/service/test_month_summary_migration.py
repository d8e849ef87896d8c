"""Migration 0005 fills the month rows of the service summary from the day rows already stored, so
a database summarised before it keeps right figures without a rebuild."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from service import tally
from tests.service.conftest import seed_defaults

BEFORE = [("service", "0004_summary")]


def _migrate(targets) -> MigrationExecutor:
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection)


@pytest.fixture
def before_months(transactional_db):
    """The historical apps at service 0004; afterwards the database is at the latest migrations again."""
    seed_defaults()  # the categories: a transactional test before this one flushed them
    executor = _migrate(BEFORE)
    try:
        yield executor.loader.project_state(BEFORE).apps
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_month_rows_are_the_sums_of_the_day_rows_stored_before(before_months):
    apps = before_months
    Tally, Times = apps.get_model("service", "ServiceTally"), apps.get_model("service", "ServiceTimeTally")
    category = apps.get_model("service", "Category").objects.order_by("pk").first()
    key = {"category": category, "channel": "phone", "team": 0, "priority": "high"}
    Tally.objects.create(day=date(2026, 3, 2), opened=2, backlog=2, **key)
    Tally.objects.create(day=date(2026, 3, 31), backlog=-1, resolved=1, res_met=1, **key)
    Tally.objects.create(day=date(2026, 4, 1), opened=1, backlog=1, **{**key, "team": 7})
    Times.objects.create(day=date(2026, 3, 2), measure="fr", bucket=3, n=2, **key)
    Times.objects.create(day=date(2026, 3, 31), measure="fr", bucket=3, n=1, **key)
    Times.objects.create(day=date(2026, 3, 31), measure="res", bucket=40, n=1, **key)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    counts, times = tally.stored(months=True)
    assert (counts, times) == tally.monthly(*tally.stored())
    march = (date(2026, 3, 1), category.pk, "phone", 0, "high")
    assert counts[(*march, "opened")] == 2 and counts[(*march, "backlog")] == 1
    assert times[(*march, "fr", 3)] == 3 and times[(*march, "res", 40)] == 1
