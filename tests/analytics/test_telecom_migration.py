"""A company moves in: the public telecom churn data set's shape, imported and read on day one.

7,043 customers with their tenure in months, 1,869 of whom left for 20 reasons in 5 categories
(two of them an Admin creates, three exist already) (the counts per category are the data set's: 841 competitor, 321
dissatisfaction, 314 attitude, 211 price, 182 other). The rows are generated with those counts;
the file itself is not shipped. Imported through the customer import (tenure as months) and the
import of past closures, then read on Closure analytics for the import batch and exported: the
churn rate is the data set's own 26.5 % (1,869 of 7,043), every reason and category count is
right, and the tenure bands are the imported tenures.
"""

import csv
import io
import random
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics import exports, figures
from analytics.filters import ClosureFilter
from closures.models import ClosureReason, ReasonCategory
from closures.tally import band_of
from customers.imports import import_customers
from customers.models import Customer, ImportBatch
from tests.closures.history_files import run as import_history
from tests.factories import UserFactory

CUSTOMERS = 7_043
CATEGORIES = {  # label: (closures, reasons)
    "Competitor": (841, 4),
    "Dissatisfaction": (321, 6),
    "Attitude": (314, 2),
    "Price": (211, 4),
    "Other": (182, 4),
}
CHINESE = {"Dissatisfaction": "不满意", "Attitude": "态度"}

pytestmark = pytest.mark.django_db


def months_before(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    raise AssertionError


@pytest.fixture
def migration(admin_client):
    """The categories and reasons created on the Reasons page, the customers and the closures imported."""
    admin = UserFactory(username="migrator", role="Admin")
    reasons = {}  # code: (category key, closures)
    for order, (label, (closed, n_reasons)) in enumerate(CATEGORIES.items()):
        if not ReasonCategory.objects.filter(label_en=label).exists():  # Competitor, Price and Other exist
            response = admin_client.post(
                reverse("closures:category_create"),
                {"label_en": label, "label_zh": CHINESE[label], "display_order": str(order), "is_active": "on"},
            )
            assert response.status_code == 302, response.content.decode()[:2000]
        key = ReasonCategory.objects.get(label_en=label).key
        shares = [closed // n_reasons + (1 if i < closed % n_reasons else 0) for i in range(n_reasons)]
        for i, share in enumerate(shares):
            reason = ClosureReason.objects.create(
                code=f"telco-{key}-{i}", label_en=f"{label} {i + 1}", label_zh="", category=key, for_close=True
            )
            reasons[reason.code] = (key, share)
    assert len(reasons) == 20

    rng = random.Random(2026)
    tenures = [rng.randint(0, 72) for _ in range(CUSTOMERS)]
    customers = io.StringIO(newline="")
    writer = csv.writer(customers)
    writer.writerow(["customer_no", "name", "tenure_months", "source"])
    for i, months in enumerate(tenures):
        writer.writerow([f"TEL-{i:05d}", f"Telco customer {i}", months, "IBM telco"])
    report = import_customers(io.BytesIO(customers.getvalue().encode()), "telco.csv", user=admin, commit=True)
    assert report.ok and report.created == CUSTOMERS, report.problems[:5]

    # The churned customers: those with at least a month of tenure, reason by reason.
    churned = [i for i, months in enumerate(tenures) if months > 0][: sum(n for _k, n in reasons.values())]
    assert len(churned) == 1_869
    today = timezone.localdate().isoformat()
    rows, cursor = [], 0
    for code, (_key, share) in reasons.items():
        for i in churned[cursor : cursor + share]:
            rows.append((f"TEL-{i:05d}", "close", code, today, "", "migrator"))
        cursor += share
    lines = io.StringIO(newline="")
    csv.writer(lines).writerows([["customer_no", "action", "reason", "closed_at", "notes", "performed_by"], *rows])
    history = import_history(admin, lines.getvalue().encode(), "telco-churn.csv", commit=True)
    assert not history.problems, history.problems[:5]
    batch = ImportBatch.objects.get(kind=ImportBatch.Kind.CUSTOMERS)
    return {"batch": batch, "reasons": reasons, "tenures": tenures, "churned": churned}


def test_the_migrated_population_reads_right_on_day_one(migration, manager_client):
    batch = migration["batch"]
    query = {"period": "12m", "batch": str(batch.pk)}
    fs = ClosureFilter(query)
    assert fs.is_valid(), fs.errors
    got = figures.compute(fs)

    churn = got.churn.current
    assert (churn.churned, churn.population) == (1_869, CUSTOMERS)
    assert got.churn_rate == pytest.approx(1_869 / 7_043)
    html = manager_client.get(reverse("analytics:dashboard"), query).content.decode()
    assert "26.54%" in html

    by_reason = {s.key: s.count for s in got.by_reason}
    want_reasons = {str(ClosureReason.objects.get(code=code).pk): n for code, (_k, n) in migration["reasons"].items()}
    assert by_reason == want_reasons
    want_categories = {}
    for key, n in migration["reasons"].values():
        want_categories[key] = want_categories.get(key, 0) + n
    assert {s.key: s.count for s in got.by_category} == want_categories
    assert {s.label: s.count for s in got.by_category} == {label: n for label, (n, _r) in CATEGORIES.items()}

    today = timezone.localdate()
    want_bands: dict[str, int] = {}
    for i in migration["churned"]:
        band = band_of((today - months_before(today, migration["tenures"][i])).days)
        want_bands[band] = want_bands.get(band, 0) + 1
    assert {s.key: s.count for s in got.by_tenure if s.count} == want_bands
    assert Customer.objects.filter(import_batch=batch).count() == CUSTOMERS == batch.created_count

    out = io.BytesIO()
    assert exports.write_xlsx(fs, out) == 1_869
    workbook = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    assert sum(1 for _row in workbook["Closures"].iter_rows(values_only=True)) == 1 + 1_869
    summary = {}  # the first row of each label: this period's (the comparison period's come after)
    for row in workbook["Summary"].iter_rows(values_only=True):
        if len(row) > 1 and row[0]:
            summary.setdefault(row[0], row[1])
    assert summary["Churn rate"] == pytest.approx(1_869 / 7_043)
    assert summary["Cards active during the period"] == CUSTOMERS
    assert summary["Import batch"].startswith("telco.csv")
