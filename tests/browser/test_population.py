"""A manager reads one migrated population: the dashboard filtered by an import batch, then its closures."""

from django.urls import reverse
from django.utils import timezone

from closures.models import ClosureReason
from tests.factories import ClosureFactory, CustomerFactory, ImportBatchFactory


def test_a_manager_filters_the_dashboard_by_an_import_batch_and_drills_down_to_its_closures(page, login):
    batch = ImportBatchFactory(file_name="telco-churn.csv")
    price = ClosureReason.objects.get(code="price")
    moved = ClosureReason.objects.get(code="moved-away")
    migrated = [CustomerFactory(customer_no=f"TEL{i:04d}", import_batch=batch) for i in range(4)]
    others = [CustomerFactory(customer_no=f"OLD{i:04d}") for i in range(3)]
    now = timezone.now()
    ClosureFactory(customer=migrated[0], reason=price, performed_at=now)
    ClosureFactory(customer=migrated[1], reason=moved, performed_at=now)
    for card in others:
        ClosureFactory(customer=card, reason=price, performed_at=now)

    login("Manager")
    page.goto(reverse("analytics:dashboard"))
    page.get_by_label("Import batch").select_option(label=str(batch))
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()

    assert f"batch={batch.pk}" in page.url
    assert page.locator("#figure-total .value").inner_text().strip() == "2"
    assert page.locator("#figure-churn .value").inner_text().strip() == "50.00%"  # 2 of the batch's 4 cards

    reasons = page.get_by_role("region", name="Closures by reason")
    reasons.get_by_role("link", name=price.label_en).click()
    page.wait_for_load_state()

    assert f"batch={batch.pk}" in page.url and f"reason={price.pk}" in page.url
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "TEL0000" in rows.first.inner_text()
