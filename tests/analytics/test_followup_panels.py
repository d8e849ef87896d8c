"""The dashboard's follow-up panels: loaded after the page by htmx, the same figures as the recount,
drill-down links that list exactly the closures behind a cell, "no answers yet", both languages,
and the Excel export's follow-up sheets read back."""

import io
import re
from datetime import date
from html import unescape
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from analytics import followup_sheets
from tests.factories import ClosureFactory, ClosureReasonFactory, CustomerFactory

from .followup_history import activity, agreement, answer, build_aftercare, followup, matrix, winback
from .history import Filters, local

URL = reverse("analytics:dashboard")
LIST = reverse("analytics:closure_list")
EXPORT = reverse("analytics:export")
ALL = Filters(date(2023, 10, 1), date(2024, 4, 30))
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def care(history):
    return build_aftercare(history)


def panels(client, f: Filters, **extra):
    response = client.get(URL, {**f.query(), "part": "followups"}, **HTMX, **extra)
    assert response.status_code == 200
    return response


def test_the_dashboard_loads_the_panels_after_the_page_from_its_own_view(manager_client, history, care):
    html = manager_client.get(URL, ALL.query()).content.decode()
    loader = re.search(r'<div id="followup-panels" hx-get="([^"]+)"', html)
    assert loader, "the dashboard asks for the panels"
    url = unescape(loader.group(1))
    assert url.startswith(URL) and "part=followups" in url and "start=2023-10-01" in url
    partial = manager_client.get(url, **HTMX).content.decode()
    assert "<html" not in partial and 'id="panel-reason-matrix"' in partial
    # Without JavaScript the same link opens the panels as a page, filters kept.
    page = manager_client.get(url).content.decode()
    assert "<html" in page and 'id="panel-winback"' in page and 'name="part" value="followups"' in page


def test_staff_cannot_read_the_panels(staff_client, db):
    assert staff_client.get(URL, {"part": "followups"}, **HTMX).status_code == 403


def test_the_panels_show_the_recounted_figures(manager_client, history, care):
    response = panels(manager_client, ALL)
    html = response.content.decode()
    total = activity(history, care, ALL)[("all", "")]
    assert f"{total[1]} of {total[0]} surveys sent were answered" in html
    assert f"Callbacks: {total[2]} on time, {total[3]} late, {total[4]} not done" in html
    cells = matrix(history, care, ALL)
    assert f"Agreement: {agreement(cells) * 100:.1f}%" in html
    reinstated, by_reason, _by_kind = winback(history, care, ALL)
    back = sum(len(v) for v in by_reason.values())
    assert f"{back} of {reinstated} cards reinstated in the period came back after a follow-up" in html
    assert "(retired)" in html  # the retired reason a customer gave keeps its column
    assert "<b>far</b>" not in html  # nothing the customer wrote is shown, let alone unescaped
    assert "&lt;b&gt;Rude&lt;/b&gt;" in html and "<b>Rude</b>" not in html  # reason labels escaped


def test_each_matrix_cell_lists_exactly_its_closures(manager_client, history, care):
    figures = panels(manager_client, ALL).context["followups"]
    selected = {c.pk for c in ALL.select(history.closures)}
    checked = 0
    for row in figures.matrix.rows:
        for column, cell in zip(figures.matrix.columns, row.cells, strict=True):
            if not cell.count:
                continue
            listed = manager_client.get(cell.url).context
            want = {
                a.closure_id
                for a in care.answers
                if a.closure_id in selected
                and a.closure.reason_id == row.reason_id
                and (str(a.reason_id) if a.reason_id else ("other" if a.other_reason else "none")) == column.key
            }
            assert {c.pk for c in listed["closures"]} == want, (row.label, column.label)
            assert listed["total"] == len(want)
            checked += 1
    assert checked > 5


def test_the_list_without_the_drill_down_is_unchanged(manager_client, history, care):
    every = manager_client.get(LIST, ALL.query()).context["total"]
    assert every == len(ALL.select(history.closures))
    drilled = manager_client.get(LIST, {**ALL.query(), "own": "none"})
    assert 0 < drilled.context["total"] < every
    assert "The customer&#x27;s own reason: No reason given" in drilled.content.decode()
    assert manager_client.get(LIST, {**ALL.query(), "own": "nonsense"}).context["total"] == every


def test_the_apis_closure_list_takes_the_own_reason_drill_down(manager_client, history, care):
    drilled = manager_client.get(LIST, {**ALL.query(), "own": "none", "per_page": 100})
    rows = manager_client.get("/api/v1/closures/", {**ALL.query(), "own": "none", "limit": 100}).json()["results"]
    assert sorted(row["id"] for row in rows) == sorted(closure.pk for closure in drilled.context["closures"])
    assert 0 < len(rows) < len(ALL.select(history.closures))


def test_no_answers_yet_and_no_division_by_zero(manager_client, db):
    reason = ClosureReasonFactory(code="solo", label_en="Solo", category="price")
    closure = ClosureFactory(
        customer=CustomerFactory(), reason=reason, category="price", performed_at=local(2024, 2, 1)
    )
    followup(closure, "survey", closure.performed_at, state="failed")
    html = panels(manager_client, ALL).content.decode()
    assert html.count("No answers yet.") == 2
    assert "No surveys sent and no callbacks" in html
    assert "0 of 0 cards reinstated in the period came back after a follow-up (—)" in html


def test_an_answer_naming_a_retired_reason_keeps_its_column(manager_client, db):
    retired = ClosureReasonFactory(code="gone", label_en="Gone reason", category="product", is_active=False)
    stated = ClosureReasonFactory(code="stated", label_en="Stated one", category="price")
    closure = ClosureFactory(
        customer=CustomerFactory(), reason=stated, category="price", performed_at=local(2024, 2, 1)
    )
    fu = followup(closure, "survey", closure.performed_at, state="sent", sent_at=closure.performed_at)
    answer(fu, reason=retired, csat=5, nps=10)
    figures = panels(manager_client, ALL).context["followups"]
    assert [c.label for c in figures.matrix.columns] == ["Gone reason (retired)", "Other", "No reason given"]
    assert figures.matrix.agreement == 0
    assert figures.satisfaction_total.nps == 100 and figures.satisfaction_total.csat == 5


def test_the_panels_in_chinese(manager_client, history, care):
    html = panels(manager_client, ALL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for words in ("离开调查和电话回访", "填写的注销原因与客户自己的原因", "满意度", "挽回"):
        assert words in html, words
    assert "Exit surveys and callbacks" not in html


def _export(client, f: Filters, data=(), **headers):
    response = client.post(f"{EXPORT}?{urlencode(f.query())}", {"format": "xlsx", **dict(data)}, **headers)
    assert response.status_code == 200
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_the_export_has_the_follow_up_sheets(admin_client, history, care):
    book = _export(admin_client, ALL)
    assert [name for name in book.sheetnames if name in followup_sheets.SHEETS] == followup_sheets.SHEETS
    rows = list(book["Follow-up activity"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Grouped by", "Group", "Surveys sent", "Answered")
    total = activity(history, care, ALL)[("all", "")]
    assert rows[-1][0] == "All" and list(rows[-1][2:4]) == total[:2]
    assert list(rows[-1][5:8]) == total[2:5] and rows[-1][9] == total[5]
    matrix_rows = list(book["Reason matrix"].iter_rows(values_only=True))
    cells = matrix(history, care, ALL)
    assert matrix_rows[-1][-2] == sum(cells.values())
    assert matrix_rows[-1][-1] == pytest.approx(agreement(cells))
    satisfaction = list(book["Satisfaction"].iter_rows(values_only=True))
    assert satisfaction[-1][2] == sum(cells.values())
    win = list(book["Win-back"].iter_rows(values_only=True))
    reinstated, by_reason, _by_kind = winback(history, care, ALL)
    assert win[-1][:2] == ("Cards reinstated in the period", reinstated)
    assert next(r for r in win if r[0] == "All")[2] == sum(len(v) for v in by_reason.values())


def test_the_export_sheets_in_chinese_and_with_machine_names(admin_client, history, care):
    book = _export(admin_client, ALL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert book["Follow-up activity"]["C1"].value == "已发送调查"
    machine = _export(admin_client, ALL, {"machine_names": "1"})
    header = [c.value for c in machine["Follow-up activity"][1]]
    assert header[:3] == ["dimension", "group", "surveys_sent"]
    months = [r[1] for r in machine["Follow-up activity"].iter_rows(min_row=2, values_only=True) if r[0] == "month"]
    assert months and all(re.fullmatch(r"\d{4}-\d{2}", m) for m in months)
    matrix_header = [c.value for c in machine["Reason matrix"][1]]
    assert matrix_header[0] == "stated_reason" and matrix_header[-4:] == ["other", "none", "answers", "agreement"]
    assert "retired-one" in matrix_header


def test_the_panels_cost_a_fixed_number_of_queries(manager_client, history, care):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(f):
        with CaptureQueriesContext(connection) as ctx:
            panels(manager_client, f)
        return len(ctx.captured_queries)

    queries(ALL)  # the session, the user and the reason categories, read once
    few = queries(Filters(date(2024, 1, 1), date(2024, 1, 31)))
    assert few <= 9
    assert queries(Filters(None, date(2024, 4, 30), include_reverted=True)) == few


def test_exporting_a_drilled_down_list_exports_its_closures_only(admin_client, history, care):
    from crm.models import AuditEntry

    drilled = admin_client.get(LIST, {**ALL.query(), "own": "none", "per_page": 100})
    html = drilled.content.decode()
    action = re.search(r'<form method="post" action="([^"]+)" class="inline export-form"', html).group(1)
    assert "own=none" in action  # the list's export button repeats the drill-down
    response = admin_client.post(unescape(action), {"format": "csv", "next": "list"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) - 1 == drilled.context["total"] < len(ALL.select(history.closures))
    entry = AuditEntry.objects.get(action="closures.export")
    assert entry.changes["drill"] == [None, {"own": "none"}]


def test_a_drilled_down_export_run_as_a_job_keeps_its_drill_down(history, care):
    from analytics.exports import ClosureExport
    from analytics.filters import ClosureFilter

    plain = ClosureExport(ClosureFilter(ALL.query()))
    drilled = ClosureExport.from_params({**plain.params(), "drill": {"own": "none"}}, user=None)
    assert 0 < drilled.rows().count() < plain.rows().count()
    assert ClosureExport.from_params(drilled.params(), user=None).rows().count() == drilled.rows().count()
