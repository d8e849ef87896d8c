"""Migrations run forwards on a populated database (issue 7 §5), on SQLite and on PostgreSQL.

The test takes customers, closures and crm back to their first migration, writes rows with the
models as they were then, migrates forwards to the latest migrations and checks that every row is
intact and that the data migrations did their work: the default closure reasons are seeded, the
new request columns got their defaults and, on PostgreSQL, the cards that existed before the
search migration have their name grams and the audit table refuses edits. Whatever happens, the
database ends at the latest migrations again.
"""

import importlib
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from closures.models import Closure, ClosureReason, ClosureRequest
from crm.models import AuditEntry, Job
from customers.models import Customer, NameGram

DEFAULT_REASONS = importlib.import_module("closures.migrations.0002_default_reasons").DEFAULT_REASONS
FIRST = [("customers", "0001_initial"), ("closures", "0001_initial"), ("crm", "0001_initial")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def at_first_migrations(transactional_db):
    """The historical app registry at FIRST; afterwards the database is at the latest migrations again."""
    executor = _migrate(FIRST)
    try:
        yield executor.loader.project_state(FIRST).apps
    finally:
        _migrate(_latest())


def _populate(apps) -> dict:
    """Rows written with the models of the first migrations."""
    User = apps.get_model("auth", "User")
    Tag = apps.get_model("customers", "Tag")
    HCustomer = apps.get_model("customers", "Customer")
    Interaction = apps.get_model("customers", "Interaction")
    Purchase = apps.get_model("customers", "Purchase")
    Reason = apps.get_model("closures", "ClosureReason")
    HClosure = apps.get_model("closures", "Closure")
    HRequest = apps.get_model("closures", "ClosureRequest")
    HAudit = apps.get_model("crm", "AuditEntry")
    HJob = apps.get_model("crm", "Job")

    Reason.objects.all().delete()  # so that seeding them is the migration's work (a first run starts seeded)
    manager = User.objects.create(username="old_manager", first_name="Wang")
    vip = Tag.objects.create(name="VIP")
    zhang = HCustomer.objects.create(
        customer_no="C000001", name="张伟", phone="+8613812345678", city="上海", balance=Decimal("120.50"), points=30
    )
    zhang.tags.add(vip)
    closed = HCustomer.objects.create(customer_no="C000002", name="Li Lei", status="closed", segment="key")
    pending = HCustomer.objects.create(customer_no="C000003", name="王小明")
    Interaction.objects.create(customer=zhang, kind="call", occurred_at=timezone.now(), summary="回访")
    Purchase.objects.create(
        customer=zhang, product="会员年卡", quantity=1, amount=Decimal("199.00"), purchased_on="2024-05-01"
    )
    own_reason = Reason.objects.create(
        code="legacy-reason", label_en="Legacy reason", label_zh="旧原因", category="other", for_close=True
    )
    closure = HClosure.objects.create(
        customer=closed,
        action="close",
        reason=own_reason,
        category="other",
        notes="<script>alert(1)</script>",
        previous_status="active",
        segment="key",
        tenure_days=400,
        performed_by=manager,
    )
    request = HRequest.objects.create(customer=pending, action="close", reason=own_reason, requested_by=manager)
    entry = HAudit.objects.create(
        action="closure.close", actor=manager, actor_name="old_manager", customer_id=closed.pk, summary="Close card"
    )
    job = HJob.objects.create(kind="closures_csv", created_by=manager, params={"filters": {}})
    return {
        "zhang": zhang.pk,
        "closed": closed.pk,
        "pending": pending.pk,
        "reason": own_reason.pk,
        "closure": closure.pk,
        "request": request.pk,
        "entry": entry.pk,
        "job": job.pk,
    }


def test_migrating_forwards_keeps_every_row_and_runs_the_data_migrations(at_first_migrations):
    ids = _populate(at_first_migrations)
    assert not ClosureReason.objects.filter(code="other").exists()

    _migrate(_latest())

    assert not MigrationExecutor(connection).migration_plan(_latest())  # at the latest migrations
    zhang = Customer.objects.get(pk=ids["zhang"])
    assert (zhang.customer_no, zhang.name, zhang.phone, zhang.city) == ("C000001", "张伟", "+8613812345678", "上海")
    assert (zhang.balance, zhang.points, zhang.status) == (Decimal("120.50"), 30, "active")
    assert [t.name for t in zhang.tags.all()] == ["VIP"]
    assert zhang.interactions.count() == 1 and zhang.purchases.get().amount == Decimal("199.00")
    assert Customer.objects.get(pk=ids["closed"]).status == "closed"

    closure = Closure.objects.get(pk=ids["closure"])
    assert closure.customer_id == ids["closed"] and closure.reason.code == "legacy-reason"
    assert closure.notes == "<script>alert(1)</script>" and closure.performed_by.username == "old_manager"
    request = ClosureRequest.objects.get(pk=ids["request"])
    assert request.state == "pending" and (request.balance_seen, request.points_seen) == (Decimal("0"), 0)
    entry = AuditEntry.objects.get(pk=ids["entry"])  # "Close card" read into data (closures 0007)
    assert (entry.action, entry.summary, entry.customer_id) == ("closure.close", "", ids["closed"])
    assert Job.objects.get(pk=ids["job"]).state == "queued"

    # The data migration seeded the default reasons next to the one that already existed.
    codes = set(ClosureReason.objects.values_list("code", flat=True))
    assert {row[0] for row in DEFAULT_REASONS} <= codes and "legacy-reason" in codes
    assert ClosureReason.objects.get(code="other").notes_required

    if connection.vendor == "postgresql":
        grams = set(NameGram.objects.filter(customer_id=ids["zhang"]).values_list("gram", flat=True))
        assert grams == {"张", "伟", "张伟"}
        assert NameGram.objects.filter(customer_id=ids["closed"], gram="li").exists()
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE crm_auditentry SET summary = 'rewritten' WHERE id = %s", [ids["entry"]])
        assert AuditEntry.objects.get(pk=ids["entry"]).summary == ""
