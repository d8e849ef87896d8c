"""Migration customers 0010: one canonical form for stored numbers, and no silent merge.

Imports used to store numbers as typed, so "case-0005" and "CASE-0005" could be two cards. The
migration rewrites numbers into the canonical form (audited on each card) and, where two cards would
end up with the same number, stops and lists them instead of merging them.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.models import AuditEntry
from customers.models import Customer

BEFORE = [("customers", "0009_phone_rev_covering_index")]
AFTER = [("customers", "0010_customer_numbers_any_case")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def before_0010():
    """The historical models before 0010; afterwards the database is at the latest migrations again."""
    apps = _migrate(BEFORE)
    try:
        yield apps
    finally:
        apps.get_model("customers", "Customer").objects.filter(customer_no__istartswith="case-").delete()
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_numbers_in_another_form_are_rewritten_and_audited(before_0010):
    old = before_0010.get_model("customers", "Customer").objects.create(customer_no=" tel-0002-orfbo", name="甲")
    _migrate(AFTER)
    # Only the number: the table is at 0010, without the columns later migrations add.
    assert Customer.objects.values_list("customer_no", flat=True).get(pk=old.pk) == "TEL-0002-ORFBO"
    entry = AuditEntry.objects.get(customer_id=old.pk)
    assert entry.changes == {"customer_no": [" tel-0002-orfbo", "TEL-0002-ORFBO"]}
    assert entry.data == {"source": {"kind": "migration"}}


def test_numbers_that_differ_only_by_case_stop_the_migration_and_are_listed(before_0010):
    HCustomer = before_0010.get_model("customers", "Customer")
    lower = HCustomer.objects.create(customer_no="case-0005", name="甲")
    upper = HCustomer.objects.create(customer_no="CASE-0005", name="乙")
    with pytest.raises(RuntimeError) as stopped:
        _migrate(AFTER)
    message = str(stopped.value)
    assert f"case-0005 (id {lower.pk}), CASE-0005 (id {upper.pk})" in message
    assert "Nothing was changed" in message
    assert set(HCustomer.objects.values_list("customer_no", flat=True)) >= {"case-0005", "CASE-0005"}
