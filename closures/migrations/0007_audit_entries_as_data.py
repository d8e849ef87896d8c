"""Old audit entries into the structure they are now written in (crm.audit_display reads them).

Entries used to freeze words in their writer's language: "Close card, requested by 李娜", the reason's
label, "Settlement: …" appended to the notes, "Call: …" before an interaction's summary, "april.xlsx:
4 new, …". Those written in English or Chinese by this product's own code are parsed into data (the
reason's id, the requester, bulk, the settlement, the action, the import's columns) so they read in
whatever language reads them; what cannot be parsed stays as it was and is shown as written. Entries
are updated in groups that share their words (a few statements, whatever the size of the trail),
except those with a settlement note, one by one.
"""

import re

from django.db import migrations
from django.db.models import Q

ACTIONS = {  # closure action -> its label as written in English and in Chinese
    "close": ("Close card", "销卡"),
    "void": ("Void record", "作废"),
    "archive": ("Archive", "归档"),
    "erase": ("Delete", "删除"),
}
FIXED_SUMMARIES = {"closure.reinstate": ("Card reinstated", "恢复客户管理卡"), "closure.erase": ("Personal data deleted", "删除个人数据")}
DECISIONS = {  # action -> the summary's pattern in English and Chinese, {label} the closure action
    "closure.request": ("{label} requested", "申请{label}"),
    "closure.approve": ("{label} approved", "{label}申请已批准"),
    "closure.reject": ("{label} rejected", "{label}申请已驳回"),
}
KINDS = {"call": ("Call", "电话"), "email": ("Email", "邮件"), "meeting": ("Meeting", "会议"), "visit": ("Visit", "拜访"), "message": ("Message", "消息")}
JOB_KINDS = {
    "closures_xlsx": ("Closures export (Excel)", "销卡导出(Excel)"),
    "closures_csv": ("Closures export (CSV)", "销卡导出(CSV)"),
    "customers_xlsx": ("Customers export (Excel)", "客户导出(Excel)"),
    "customers_csv": ("Customers export (CSV)", "客户导出(CSV)"),
    "customers_import": ("Customer import", "客户导入"),
}
SETTLEMENT = re.compile(r"(?:^|\n)(?:Settlement: |结算:)(?P<note>.*)\Z", re.S)
IMPORT_SUMMARY = re.compile(r"(?P<file>.*): \d+ new, \d+ updated, \d+ unchanged")


def closure_summary(action: str, summary: str) -> dict | None:
    """The data an old closure summary held ("Close card, requested by NAME (bulk)"), or None."""
    labels = ACTIONS.get(action.removeprefix("closure."))
    if labels is None:
        return None
    for label in labels:
        rest = summary
        data = {}
        for bulk in (" (bulk)", " (批量)"):
            if rest.endswith(bulk):
                rest, data["bulk"] = rest[: -len(bulk)], True
        if rest == label:
            return data
        for start, end in ((f"{label}, requested by ", ""), (f"{label}(由 ", " 申请)")):
            if rest.startswith(start) and rest.endswith(end) and len(rest) > len(start) + len(end):
                return {**data, "requested_by": rest[len(start) : len(rest) - len(end)]}
    return None


def decision_summary(action: str, summary: str) -> dict | None:
    for pattern in DECISIONS[action]:
        for code, labels in ACTIONS.items():
            if any(summary == pattern.format(label=label) for label in labels):
                return {"action": code}
    return None


def parsed(action: str, summary: str) -> tuple[dict, str] | None:
    """(data, new summary) for an old entry's summary, or None when it cannot be read."""
    if action in FIXED_SUMMARIES:
        return ({}, "") if summary in FIXED_SUMMARIES[action] else None
    if action in DECISIONS:
        data = decision_summary(action, summary)
        return (data, "") if data is not None else None
    if action.startswith("closure."):
        data = closure_summary(action, summary)
        return (data, "") if data is not None else None
    if action == "interaction.create":
        for labels in KINDS.values():
            for label in labels:
                if summary.startswith(f"{label}: "):
                    return {}, summary[len(label) + 2 :]
        return None
    if action == "customer.import":
        match = IMPORT_SUMMARY.fullmatch(summary)
        return ({}, match["file"]) if match else None
    if action == "job.download":
        kind = next((code for code, labels in JOB_KINDS.items() if summary in labels), None)
        return ({"kind": kind}, "") if kind else None
    if action in ("customer.export", "closures.export"):
        return {}, ""
    return None


def import_notes(notes: str) -> dict:
    """ "columns: a, b; new tags: x, y" -> {"columns": [...], "new_tags": [...]}."""
    data = {}
    for part in notes.split("; "):
        name, _sep, values = part.partition(": ")
        if name in ("columns", "new tags") and values:
            data["columns" if name == "columns" else "new_tags"] = [v for v in values.split(", ") if v]
    return data


def convert(apps, schema_editor):
    AuditEntry = apps.get_model("crm", "AuditEntry")
    Reason = apps.get_model("closures", "ClosureReason")
    db = schema_editor.connection.alias
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL crm.audit_redaction = 'on'")  # the append-only trigger's one door
    reasons = {}
    for pk, label_en, label_zh in Reason.objects.using(db).values_list("pk", "label_en", "label_zh"):
        reasons.setdefault(label_en, pk)
        reasons.setdefault(label_zh, pk)
    old = AuditEntry.objects.using(db).filter(data={})
    _settlements(old.filter(action__startswith="closure.").filter(Q(notes__contains="Settlement: ") | Q(notes__contains="结算:")), reasons)
    groups = old.filter(Q(action__startswith="closure.") | Q(action__in=list(PLAIN_ACTIONS)))
    for action, summary, reason in groups.values_list("action", "summary", "reason").distinct().order_by():
        found = parsed(action, summary)
        data, new_summary = found if found is not None else ({}, summary)
        if reason and reason in reasons:
            data, reason_text = {**data, "reason": reasons[reason]}, ""
        else:
            reason_text = reason
        if data or new_summary != summary:
            rows = old.filter(action=action, summary=summary, reason=reason)
            rows.update(data=data, summary=new_summary, reason=reason_text)
    for entry in old.filter(action__in=["reason.create", "reason.update"]).exclude(object_id=""):
        if entry.object_id.isdigit():
            AuditEntry.objects.using(db).filter(pk=entry.pk).update(data={"reason": int(entry.object_id)}, summary="")
    for entry in AuditEntry.objects.using(db).filter(action__in=["customer.export", "closures.export"]).exclude(notes=""):
        changes = {k: v for k, v in (entry.changes or {}).items() if k != "period"}
        AuditEntry.objects.using(db).filter(pk=entry.pk).update(changes=changes, notes="")
    for entry in AuditEntry.objects.using(db).filter(action="customer.import").exclude(notes=""):
        AuditEntry.objects.using(db).filter(pk=entry.pk).update(data=import_notes(entry.notes), notes="")


PLAIN_ACTIONS = ("interaction.create", "customer.import", "job.download", "customer.export", "closures.export")


def _settlements(entries, reasons) -> None:
    for entry in entries:
        match = SETTLEMENT.search(entry.notes)
        found = parsed(entry.action, entry.summary)
        if match is None or found is None:
            continue
        data, summary = found
        data = {**data, "settlement": match["note"]}
        reason = entry.reason
        if reason in reasons:
            data, reason = {**data, "reason": reasons[reason]}, ""
        notes = entry.notes[: match.start()].rstrip("\n")
        type(entry).objects.filter(pk=entry.pk).update(data=data, summary=summary, reason=reason, notes=notes)


class Migration(migrations.Migration):
    dependencies = [
        ("closures", "0006_bulk_closure"),
        ("crm", "0006_job_kind_without_bulk_close"),
    ]

    operations = [migrations.RunPython(convert, migrations.RunPython.noop)]
