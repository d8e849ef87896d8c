"""Exports: exactly the filtered closures, safe cells, real types, streamed, audited; big ones as jobs."""

import csv
import io
import shutil
import subprocess
from collections import Counter
from datetime import date, datetime
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from analytics import exports, followup_sheets, service_sheets
from analytics.filters import ClosureFilter
from crm import jobs, spreadsheets
from crm.audit_display import describe
from crm.models import AuditEntry, Job
from tests.factories import ClosureFactory

from .history import FORMULA_NOTES, SHANGHAI, Filters, expected, local

URL = reverse("analytics:export")
Q1 = Filters(date(2024, 1, 1), date(2024, 3, 31))
ALL = Filters(date(2023, 10, 1), date(2024, 4, 30), include_reverted=True)


def _export(client, f: Filters, fmt: str, **extra):
    response = client.post(f"{URL}?{urlencode(f.query())}", {"format": fmt}, **extra)
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content), response


def _closures_sheet(content: bytes):
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == [
        "Summary",
        "Closures",
        "Cohorts",
        *followup_sheets.SHEETS,
        "Improvement actions",
        *service_sheets.SHEETS,
    ]
    return book, book["Closures"]


def test_managers_get_403_on_export(manager_client, db):
    assert manager_client.post(URL, {"format": "xlsx"}).status_code == 403


def test_staff_get_403_on_export(staff_client, db):
    assert staff_client.post(URL, {"format": "csv"}).status_code == 403


def test_export_needs_a_post(admin_client, db):
    assert admin_client.get(URL).status_code == 405


def test_an_unknown_format_is_refused_with_a_message(admin_client, db):
    response = admin_client.post(f"{URL}?period=30d", {"format": "pdf"}, follow=True)
    assert "Choose Excel or CSV to export." in response.content.decode()
    assert not AuditEntry.objects.filter(action="closures.export").exists()


def test_invalid_filters_are_not_exported(admin_client, db):
    response = admin_client.post(
        f"{URL}?period=custom&start=2024-03-01&end=2024-01-01", {"format": "xlsx"}, follow=True
    )
    html = response.content.decode()
    assert "Correct the filters" in html and "The end date is before the start date." in html


@pytest.mark.parametrize("f", [Q1, ALL, Filters(date(2024, 2, 1), date(2024, 2, 29), action="close")], ids=str)
def test_the_xlsx_has_one_row_per_listed_closure(f, admin_client, history):
    content, response = _export(admin_client, f, "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="closures-' in response["Content-Disposition"]
    _book, sheet = _closures_sheet(content)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    listed = admin_client.get(reverse("analytics:closure_list"), f.query()).context["total"]
    want = expected(history, f)
    assert len(rows) == listed == want["total"]
    assert sorted(r[0] for r in rows) == sorted(c.customer.customer_no for c in want["rows"])
    assert Counter(r[7] for r in rows) == Counter(c.reason.label_en for c in want["rows"])
    assert sum(r[4] for r in rows) == sum(c.tenure_days for c in want["rows"])


def test_the_xlsx_closures_sheet_has_real_types_and_a_usable_layout(admin_client, history):
    content, _ = _export(admin_client, ALL, "xlsx")
    _book, sheet = _closures_sheet(content)
    header = [c.value for c in sheet[1]]
    assert header == [
        "Customer number", "Name", "Segment", "Owner", "Tenure (days)", "Action", "Category", "Reason", "Notes",
        "Performed by", "Performed at", "Reverted at", "Reverted by", "Reinstatement note",
        "Balance at closure", "Points at closure", "Settlement", "Settled amount",
    ]  # fmt: skip
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:R{sheet.max_row}"
    assert sheet.column_dimensions["I"].width == 40
    by_number = {c.customer.customer_no: c for c in expected(history, ALL)["rows"] if not c.reverted_at}
    for row in sheet.iter_rows(min_row=2):
        closure = by_number.get(row[0].value)
        if closure is None or row[11].value is not None:  # a card's reverted closure has the same number
            continue
        assert row[4].data_type == "n" and row[4].value == closure.tenure_days
        assert row[10].is_date
        local_time = closure.performed_at.astimezone(SHANGHAI).replace(tzinfo=None)
        assert abs((row[10].value - local_time).total_seconds()) < 0.01
        assert isinstance(row[10].value, datetime)


def test_reverted_closures_carry_when_who_and_why(admin_client, history):
    content, _ = _export(admin_client, ALL, "xlsx")
    _book, sheet = _closures_sheet(content)
    reverted = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[11]]
    assert reverted and all(r[12].startswith("Closer") and r[13] == "客户回心转意" for r in reverted)


def test_formula_looking_notes_come_back_as_plain_text(admin_client, history):
    content, _ = _export(admin_client, ALL, "xlsx")
    _book, sheet = _closures_sheet(content)
    found = {}
    for row in sheet.iter_rows(min_row=2):
        if row[8].value in FORMULA_NOTES:
            assert row[8].data_type == "s"
            found[row[8].value] = True
    assert set(found) == set(FORMULA_NOTES), "the history must hold every kind of formula-looking note"


def test_erased_customers_have_no_name_and_chinese_is_intact(admin_client, history):
    content, _ = _export(admin_client, ALL, "xlsx")
    _book, sheet = _closures_sheet(content)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    erased = [r for r in rows if r[0].startswith("ERASED")]
    assert len(erased) == 3 and all(r[1] is None for r in erased)
    assert any(r[8] == "客户搬家到北京，电话已停机" for r in rows)
    assert any(r[1] and r[1].startswith(("张伟", "王芳", "李娜", "刘洋")) for r in rows)


def test_labels_are_in_the_users_language(admin_client, history):
    content, _ = _export(admin_client, Q1, "xlsx", HTTP_ACCEPT_LANGUAGE="zh-hans")
    _book, sheet = _closures_sheet(content)
    reasons = {r[7] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert "价格过高" in reasons and "Price too high" not in reasons


def test_the_summary_sheet_states_the_filters_and_the_figures(admin_client, history):
    f = Filters(date(2024, 1, 1), date(2024, 3, 31), segment="key")
    content, _ = _export(admin_client, f, "xlsx")
    book, sheet = _closures_sheet(content)
    summary = list(book["Summary"].iter_rows(values_only=True))
    labels = {r[0]: r[1:] for r in summary if r and r[0]}
    want = expected(history, f)
    assert labels["Period"][0] == "Custom dates (2024-01-01 – 2024-03-31)"
    assert labels["Customer segment"][0] == "Key account"
    assert labels["Reverted closures"][0] == "Excluded"
    assert labels["Closures"][0] == want["total"] == sheet.max_row - 1
    assert labels["Churn rate"][0] == pytest.approx(want["churn"])
    assert labels["Reinstated"][0] == want["reinstated"]
    reason_table = summary[summary.index(("Reason", "Category", "Closures", "Share")) + 1 :]
    by_reason_sheet = {r[0]: (r[2], r[3]) for r in reason_table if r[0] and r[1] and isinstance(r[2], int)}
    rows_per_reason = Counter(r[7] for r in sheet.iter_rows(min_row=2, values_only=True))
    assert {k: v[0] for k, v in by_reason_sheet.items()} == dict(rows_per_reason)
    assert sum(v[1] for v in by_reason_sheet.values()) == pytest.approx(1.0)


def test_the_csv_has_a_bom_chinese_and_safe_cells(admin_client, history):
    content, response = _export(admin_client, ALL, "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][0] == "Customer number"
    assert len(rows) - 1 == expected(history, ALL)["total"]
    notes = {r[8] for r in rows[1:]}
    assert "客户搬家到北京，电话已停机" in notes
    assert {f"'{n}" for n in FORMULA_NOTES} <= notes
    assert not notes & set(FORMULA_NOTES)
    assert all(len(r[10]) == 19 for r in rows[1:])  # 2024-01-31 23:30:00, local time


def test_the_csv_uses_local_time(admin_client, db):
    ClosureFactory(performed_at=local(2024, 1, 31, 23, 30))
    content, _ = _export(admin_client, Filters(date(2024, 1, 31), date(2024, 1, 31)), "csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r[10] for r in rows[1:]] == ["2024-01-31 23:30:00"]


def test_every_export_is_audited_with_who_the_filters_and_the_row_count(admin_client, admin_user, history):
    f = Filters(date(2024, 1, 1), date(2024, 3, 31), action="close")
    _export(admin_client, f, "csv")
    entry = AuditEntry.objects.get(action="closures.export")
    want = expected(history, f)["total"]
    assert entry.actor == admin_user
    assert entry.changes["rows"] == [None, want]
    assert entry.changes["format"] == [None, "csv"]
    assert entry.changes["filters"][1]["action"] == "close"
    (shown,) = describe([entry], unmasked=True)
    filters = next(change.new for change in shown.changes if change.label == "Filters")
    assert "Close card" in filters and "2024-01-01 – 2024-03-31" in filters
    with translation.override("zh-hans"):
        (shown,) = describe([entry], unmasked=True)
    filters = next(change.new for change in shown.changes if change.label == "筛选条件")
    assert "销卡" in filters and "Close card" not in filters


def test_rows_are_read_in_one_query_whatever_their_number(db):
    def queries() -> int:
        fs = ClosureFilter({"period": "all"})
        with CaptureQueriesContext(connection) as ctx:
            assert len(list(exports.closure_rows(fs))) > 0
        return len(ctx.captured_queries)

    ClosureFactory.create_batch(3)
    few = queries()
    ClosureFactory.create_batch(40)
    assert queries() == few == 2  # the rows, and the reason categories' labels


# --- large exports run as jobs ----------------------------------------------------------------
@pytest.fixture
def small_limit(settings):
    settings.ANALYTICS_EXPORT_DIRECT_MAX_ROWS = 5


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_large_export_runs_as_a_job_that_ends_with_a_file(
    fmt, admin_client, admin_user, history, small_limit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{URL}?{urlencode(ALL.query())}", {"format": fmt})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:status", args=[job.pk])
    assert job.kind == f"closures_{fmt}" and job.state == Job.State.DONE, job.error
    want = expected(history, ALL)["total"]
    assert job.result["rows"] == want and job.progress == want
    page = admin_client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert reverse("jobs:download", args=[job.pk]) in page
    download = admin_client.get(reverse("jobs:download", args=[job.pk]))
    content = b"".join(download.streaming_content)
    if fmt == "xlsx":
        assert load_workbook(io.BytesIO(content))["Closures"].max_row == want + 1
    else:
        assert len(list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))) == want + 1
    entry = AuditEntry.objects.get(action="closures.export")
    assert entry.actor == admin_user and entry.changes["rows"] == [None, want]
    assert entry.object_id == str(job.pk)


def test_the_job_shows_progress_while_it_runs(admin_user, history, small_limit, monkeypatch):
    seen = []
    monkeypatch.setattr(spreadsheets, "PROGRESS_EVERY", 10)
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", jobs.HEARTBEAT_EVERY * 0)
    real = exports.counting

    def watching(rows, progress, total):
        def spy(done, total=None):
            progress(done, total)
            seen.append(Job.objects.values_list("progress", "total").get())

        return real(rows, spy, total)

    monkeypatch.setattr(exports, "counting", watching)
    fs = ClosureFilter(ALL.query())
    job = Job.objects.create(kind="closures_xlsx", created_by=admin_user, params=exports.ClosureExport(fs).job_params())
    jobs.run(str(job.pk))
    want = expected(history, ALL)["total"]
    assert seen[0] == (10, want) and seen[-1] == (want, want)


def test_the_job_page_says_preparing_until_the_total_is_known_then_counts_rows(admin_client, admin_user, db):
    job = Job.objects.create(kind="closures_xlsx", created_by=admin_user, params={}, state=Job.State.RUNNING)
    url = reverse("jobs:status", args=[job.pk])

    assert "Preparing…" in admin_client.get(url).content.decode()
    Job.objects.filter(pk=job.pk).update(progress=125_000, total=250_000)
    page = admin_client.get(url).content.decode()
    assert "125,000 of 250,000 rows (50%)" in page and "Preparing…" not in page


def test_a_failing_runner_marks_the_job_failed_and_a_retry_can_finish_it(
    admin_client, admin_user, history, monkeypatch
):
    def broken(fs, out, *, progress=None, machine=False):
        raise RuntimeError("disk full")

    monkeypatch.setitem(exports.WRITERS, "xlsx", broken)
    job = Job.objects.create(
        kind="closures_xlsx",
        created_by=admin_user,
        params=exports.ClosureExport(ClosureFilter(Q1.query())).job_params(),
    )
    jobs.run(str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "disk full" in job.error
    assert not AuditEntry.objects.filter(action="closures.export").exists()
    assert "The job failed." in admin_client.get(reverse("jobs:status", args=[job.pk])).content.decode()

    monkeypatch.undo()
    jobs.run(str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.result["rows"] == expected(history, Q1)["total"]


def test_a_job_with_invalid_filters_fails_visibly(admin_user, db):
    job = Job.objects.create(
        kind="closures_csv",
        created_by=admin_user,
        params={"filters": {"period": "custom", "start": "2024-05-01", "end": "2024-01-01"}, "today": "2024-05-15"},
    )
    jobs.run(str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "not valid" in job.error


def test_characters_xml_cannot_carry_do_not_break_the_workbook(admin_client, db):
    ClosureFactory(notes="vertical\x0btab and bell\x07 <b>&</b>", performed_at=local(2024, 1, 5, 9))
    content, _ = _export(admin_client, Filters(date(2024, 1, 5), date(2024, 1, 5)), "xlsx")
    _book, sheet = _closures_sheet(content)
    assert sheet["I2"].value == "verticaltab and bell <b>&</b>"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_workbook(admin_client, history, tmp_path):
    content, _ = _export(admin_client, ALL, "xlsx")
    source = tmp_path / "closures.xlsx"
    source.write_bytes(content)
    subprocess.run(  # noqa: S603 (fixed arguments)
        [shutil.which("soffice"), "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
         "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    rows = list(csv.reader((tmp_path / "closures-Closures.csv").open(encoding="utf-8")))
    assert len(rows) - 1 == expected(history, ALL)["total"]
    assert '=HYPERLINK("http://evil.example","x")' in {r[8] for r in rows}
    summary = (tmp_path / "closures-Summary.csv").read_text(encoding="utf-8")
    assert "Key figures" in summary
    print(f"LibreOffice read {len(rows) - 1} closure rows and the Summary sheet back from the exported .xlsx")  # CI log


def test_an_imported_closure_exports_the_performer_the_file_named(db):
    from analytics.exports import closure_rows, headers

    ClosureFactory(performed_by_name="老王", performed_at=local(2024, 3, 5))
    fs = ClosureFilter({"period": "custom", "start": "2024-03-01", "end": "2024-03-31"})
    (row,) = list(closure_rows(fs))
    assert row[headers().index("Performed by")] == "老王 (imported)"
