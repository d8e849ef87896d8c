"""Migrations 0009 and 0010 turn the categories fixed in code into rows with the same keys and labels,
so no reason, closure or export changes meaning, and keep notes required on the reasons in "Other"."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from closures import categories
from closures.models import Category, Closure, ClosureReason, ReasonCategory

BEFORE = [("closures", "0008_closure_customer_since_import_batch")]


def test_every_category_that_was_fixed_in_code_is_a_row_with_its_key_and_both_labels(db):
    rows = {c.key: c for c in ReasonCategory.objects.all()}
    assert set(Category.values) <= set(rows)
    for key, label in Category.choices:
        with translation.override("en"):
            english = str(label)
        with translation.override("zh-hans"):
            chinese = str(label)
        assert (rows[key].label_en, rows[key].label_zh, rows[key].is_active) == (english, chinese, True)
    with translation.override("zh-hans"):
        assert categories.labels() == {key: str(label) for key, label in Category.choices}


def test_every_seeded_reason_is_in_a_category_of_the_table(db):
    keys = set(ReasonCategory.objects.values_list("key", flat=True))
    assert set(ClosureReason.objects.values_list("category", flat=True)) <= keys


def _migrate(targets) -> MigrationExecutor:
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection)


@pytest.fixture
def before_categories(transactional_db):
    """The historical apps at closures 0008; afterwards the database is at the latest migrations again."""
    executor = _migrate(BEFORE)
    try:
        yield executor.loader.project_state(BEFORE).apps
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_migrating_keeps_other_reasons_asking_for_notes_and_gives_unknown_keys_a_row(before_categories):
    apps = before_categories
    Reason, HClosure = apps.get_model("closures", "ClosureReason"), apps.get_model("closures", "Closure")
    User, Customer = apps.get_model("auth", "User"), apps.get_model("customers", "Customer")
    vague = Reason.objects.create(code="vague", label_en="Vague", label_zh="含糊", category="other", for_close=True)
    odd = Reason.objects.create(code="odd", label_en="Odd", label_zh="奇怪", category="weird_key", for_close=True)
    HClosure.objects.create(
        customer=Customer.objects.create(customer_no="M000001", name="Old", status="closed"),
        action="close",
        reason=odd,
        category="weird_key",
        previous_status="active",
        segment="regular",
        performed_by=User.objects.create(username="old_admin"),
        performed_at=timezone.now(),
    )
    assert not vague.notes_required

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert ClosureReason.objects.get(code="vague").notes_required
    assert not ClosureReason.objects.get(code="odd").notes_required
    weird = ReasonCategory.objects.get(key="weird_key")
    assert weird.label == "weird_key" and weird.is_active
    assert Closure.objects.get().category == "weird_key"
    assert ReasonCategory.objects.get(key="price").label_zh == "价格"
