"""The "At risk" list's export to Excel: the page's rows with its filters and sort, the reasons in
words in the exporter's language, no contact columns; Managers and Admins only; audited; a large
one runs as a job."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.models import AuditEntry, Job
from insights.models import Score, Segment
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
EXPORT = reverse("insights:at_risk_export")
OVERDUE = {"code": "overdue", "strength": 1.0, "days": 94, "usual": 21}
FEWER = {"code": "fewer", "strength": 0.5, "recent": 1, "before": 2}
HEADERS = [
    "Customer number",
    "Name",
    "Owner",
    "Risk",
    "Risk band",
    "Why",
    "RFM segment",
    "Expected value, next 12 months",
    "Value at risk",
    "Probability alive",
    "Days since the last purchase",
    "Scored on",
]


def scored(number, name, risk, worth, *, segment=Segment.AT_RISK, owner=None, status="active", reasons=()):
    card = CustomerFactory(customer_no=number, name=name, owner=owner, status=status)
    Score.objects.create(
        customer=card,
        computed_at="2026-12-01T02:30:00+08:00",
        as_of=date(2026, 12, 1),
        risk=risk,
        reasons=list(reasons),
        segment=segment,
        recency_days=94,
        probability_alive=0.25,
        expected_value=Decimal(worth),
        value_at_risk=(Decimal(worth) * risk / 100).quantize(Decimal("0.01")),
    )
    return card


@pytest.fixture
def book():
    owner = UserFactory(username="li_owner")
    scored("A1", "大客户", 65, "5000.00", owner=owner, reasons=[OVERDUE, FEWER])
    scored("A2", "中客户", 40, "2000.00", segment=Segment.HIBERNATING)
    scored("A3", "小客户", 90, "100.00")
    scored("A4", "安心客户", 10, "9000.00", segment=Segment.CHAMPIONS)  # low risk: not listed by default
    scored("A5", "已销卡", 95, "8000.00", status="closed")  # closed: never listed


def rows(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return list(sheet.iter_rows(values_only=True))


def test_the_file_holds_the_lists_rows_in_its_order_with_every_column(manager_client, book):
    response = manager_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="at-risk-')
    header, *body = rows(response)
    assert list(header) == HEADERS
    assert [row[0] for row in body] == ["A1", "A2", "A3"]  # by value at risk: 3,250 · 800 · 90
    assert body[0] == (
        "A1",
        "大客户",
        "li_owner",
        65,
        "High risk",
        "No purchase for 94 days; this customer usually buys every 21. "
        "1 purchase in the last 90 days, 2 in the 90 days before.",
        "At risk",
        5000,
        3250,
        0.25,
        94,
        body[0][11],
    )
    assert body[0][11].date() == date(2026, 12, 1)
    assert body[1][2] is None and body[1][4] == "Medium risk" and body[1][6] == "Hibernating"


def test_the_export_has_no_contact_columns(manager_client, book):
    header = rows(manager_client.get(EXPORT))[0]
    assert not {"Phone", "Email", "E-mail", "WeChat"} & set(header)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"band": "high"}, ["A1", "A3"]),
        ({"band": "all", "sort": "risk"}, ["A3", "A1", "A2", "A4"]),
        ({"segment": "hibernating"}, ["A2"]),
        ({"band": "nonsense", "sort": "nope"}, ["A1", "A2", "A3"]),  # as the page: the defaults
    ],
)
def test_the_export_applies_the_pages_filters_and_sort(manager_client, book, query, expected):
    assert [row[0] for row in rows(manager_client.get(EXPORT, query))[1:]] == expected


def test_the_reasons_are_in_the_exporters_language(manager_client, book):
    manager_client.post(reverse("set_language"), {"language": "zh-hans"})
    header, first, *_rest = rows(manager_client.get(EXPORT, {"band": "high"}))
    assert "已 94 天没有购买；该客户通常每 21 天购买一次。" in first[5]


def test_staff_may_not_export(staff_client, book):
    assert staff_client.get(EXPORT).status_code == 403
    assert "Export to Excel" not in staff_client.get(reverse("insights:at_risk")).content.decode()


def test_the_page_offers_the_export_of_what_it_lists(manager_client, book):
    page = manager_client.get(reverse("insights:at_risk"), {"band": "high", "sort": "risk", "page": "1"})
    assert f'href="{EXPORT}?band=high&amp;sort=risk"' in page.content.decode()


def test_every_export_is_audited_with_its_filters(manager_client, manager_user, book):
    manager_client.get(EXPORT, {"band": "high", "segment": "at_risk"})

    entry = AuditEntry.objects.get(action="insights.export")
    assert entry.actor == manager_user
    assert entry.changes["rows"] == [None, 2]
    assert entry.changes["filters"] == [None, {"band": "high", "segment": "at_risk"}]


def test_a_large_export_runs_as_a_job(admin_client, book, settings, django_capture_on_commit_callbacks):
    settings.AT_RISK_EXPORT_DIRECT_MAX_ROWS = 1

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.get(EXPORT, {"band": "high"})

    job = Job.objects.get(kind=Job.Kind.AT_RISK_XLSX)
    assert response.status_code == 302 and str(job.pk) in response["Location"]
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.result["rows"] == 2
    sheet = load_workbook(io.BytesIO(job.file.read())).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["A1", "A3"]
    assert "2 customers at risk exported." in admin_client.get(response["Location"]).content.decode()
    assert AuditEntry.objects.filter(action="insights.export", object_type="job").count() == 1
