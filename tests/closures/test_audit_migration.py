"""Migration closures 0007: audit entries written in words become data, read in any language."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from closures.models import ClosureReason
from crm.audit_display import describe
from crm.models import AuditEntry

BEFORE = [("closures", "0006_bulk_closure"), ("crm", "0006_job_kind_without_bulk_close")]
AFTER = [("closures", "0007_audit_entries_as_data")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def old_entries():
    apps = _migrate(BEFORE)
    try:
        yield apps.get_model("crm", "AuditEntry")
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_entries_written_in_english_or_chinese_become_data(old_entries):
    reason = ClosureReason.objects.create(code="moved-m", label_en="Moved away M", label_zh="搬走了M", for_close=True)
    rows = {
        "bulk": ("closure.archive", "Archive (bulk)", "Moved away M", "清理"),
        "requested": ("closure.close", "销卡(由 李娜 申请)", "搬走了M", "客户来电\n结算:退回现金"),
        "approve": ("closure.approve", "Close card approved", "Moved away M", ""),
        "reinstate": ("closure.reinstate", "恢复客户管理卡", "Moved away M", "搞错了"),
        "call": ("interaction.create", "Call: 客户询问余额", "", ""),
        "import": (
            "customer.import",
            "april.xlsx: 4 new, 1 updated, 0 unchanged",
            "",
            "columns: customer_no, name; new tags: VIP",
        ),
        "odd": ("closure.close", "something else entirely", "A reason nobody has", ""),
    }
    made = {
        key: old_entries.objects.create(action=a, object_type="x", customer_id=1, summary=s, reason=r, notes=n)
        for key, (a, s, r, n) in rows.items()
    }

    _migrate(AFTER)

    got = {key: AuditEntry.objects.get(pk=entry.pk) for key, entry in made.items()}
    assert (got["bulk"].data, got["bulk"].summary, got["bulk"].reason) == ({"bulk": True, "reason": reason.pk}, "", "")
    assert got["requested"].data == {"requested_by": "李娜", "settlement": "退回现金", "reason": reason.pk}
    assert got["requested"].notes == "客户来电"
    assert got["approve"].data == {"action": "close", "reason": reason.pk}
    assert (got["reinstate"].data, got["reinstate"].notes) == ({"reason": reason.pk}, "搞错了")
    assert got["call"].summary == "客户询问余额"
    assert (got["import"].summary, got["import"].data) == (
        "april.xlsx",
        {"columns": ["customer_no", "name"], "new_tags": ["VIP"]},
    )
    assert (got["odd"].data, got["odd"].summary, got["odd"].reason) == (
        {},
        "something else entirely",
        "A reason nobody has",
    )

    with translation.override("zh-hans"):
        shown = describe([got["bulk"], got["approve"]], unmasked=True)
    assert (shown[0].reason, shown[0].details, shown[1].summary) == ("搬走了M", ["批量注销的一部分"], "销卡")
