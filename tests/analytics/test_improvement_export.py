"""The Excel export's "Improvement actions" sheet: the panel's windows, counts, rates and change,
read back from the file; headers in the exporter's language or machine names."""

import io
from datetime import date
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from followups.models import Improvement

from .history import Filters
from .test_improvement_panel import _oracle

URL = reverse("analytics:export")
Q1 = Filters(date(2024, 1, 1), date(2024, 3, 31))


def _sheet(client, query: dict, **post):
    response = client.post(f"{URL}?{urlencode(query)}", {"format": "xlsx", **post})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in book["Improvement actions"].iter_rows(values_only=True)]


@pytest.fixture
def action(history, manager_user):
    return Improvement.objects.create(
        title="Price match", started_on=date(2024, 1, 15), categories=["price", "service"], created_by=manager_user
    )


def test_the_sheet_holds_each_actions_windows_counts_rates_and_change(admin_client, history, action):
    rows = _sheet(admin_client, Q1.query())
    assert rows[0][:4] == ["Title", "Date", "Planned", "Reason categories"]
    assert rows[0][6:9] == ["Before: cards closed", "Before: cards active", "Before: rate"]
    want = _oracle(history, Q1, action)
    row = rows[1]
    assert row[0] == "Price match" and row[1].date() == date(2024, 1, 15) and row[2] == "No"
    assert row[3] == "Price, Service"
    for offset, side in ((4, "before"), (9, "after")):
        first, last, closed, active, rate = want[side]
        assert [row[offset].date(), row[offset + 1].date(), row[offset + 2], row[offset + 3]] == [
            first,
            last,
            closed,
            active,
        ]
        assert row[offset + 4] == pytest.approx(rate)
    assert row[14] == "Yes"
    assert row[15] == pytest.approx((want["after"][4] - want["before"][4]) * 100, abs=1e-4)
    assert any(r[0] and "not proof that the action caused the change" in r[0] for r in rows[2:])


def test_machine_names_for_integrations(admin_client, history, action):
    rows = _sheet(admin_client, Q1.query(), machine_names="1")
    assert rows[0][:4] == ["title", "started_on", "planned", "categories"]
    assert rows[0][-2:] == ["after_complete", "change_points"]


def test_headers_in_the_exporters_language(admin_client, history, action):
    response = admin_client.post(f"{URL}?{urlencode(Q1.query())}", {"format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header = next(book["Improvement actions"].iter_rows(values_only=True))
    assert header[0] == "标题" and header[3] == "原因类别"


def test_a_filter_that_hides_the_rate_leaves_the_rates_out_and_says_why(admin_client, history, action):
    rows = _sheet(admin_client, {**Q1.query(), "category": "price"})
    assert rows[1][0] == "Price match" and rows[1][4:14] == [None] * 10
    assert any(r[0] and r[0].startswith("Rates not shown when filtering by Reason category") for r in rows[2:])
