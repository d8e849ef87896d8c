"""Reading one population: tag, city, source and import batch narrow every figure, both sides of the
churn rate, the closure list and the export; periods say what they are and compare like with like."""

from datetime import date

import pytest
from django.urls import reverse

from analytics import figures
from analytics.filters import ClosureFilter, Period, resolve_period
from tests.factories import ClosureFactory, CustomerFactory, ImportBatchFactory, TagFactory

from .history import local

TODAY = date(2024, 5, 15)
MARCH = {"period": "custom", "start": "2024-03-01", "end": "2024-03-31"}


def compute(query: dict):
    fs = ClosureFilter(query, today=TODAY)
    assert fs.is_valid(), fs.errors
    return figures.compute(fs)


@pytest.fixture
def world(db):
    """Two populations: a migrated batch (Testville, legacy source, tagged) and the rest (上海)."""
    batch = ImportBatchFactory(file_name="telco.csv")
    tag = TagFactory(name="迁移")
    migrated = [
        CustomerFactory(
            city="测试城市 Testville", source="Legacy CRM", import_batch=batch, created_at=local(2024, 1, 1)
        )
        for _ in range(8)
    ]
    for card in migrated[:4]:
        card.tags.add(tag)
    others = [CustomerFactory(city="上海", created_at=local(2023, 1, 1)) for _ in range(12)]
    for card in migrated[:3]:  # 3 of the migrated cards closed in March
        ClosureFactory(customer=card, performed_at=local(2024, 3, 10))
    for card in others[:2]:
        ClosureFactory(customer=card, performed_at=local(2024, 3, 12))
    return {"batch": batch, "tag": tag, "migrated": migrated, "others": others}


@pytest.mark.parametrize(
    "narrowing",
    [
        pytest.param(lambda w: {"batch": w["batch"].pk}, id="import batch"),
        pytest.param(lambda w: {"source": "Legacy CRM"}, id="source"),
        pytest.param(lambda w: {"city": "Testville"}, id="city by its English part"),
        pytest.param(lambda w: {"city": "测试"}, id="city by its Chinese part"),
    ],
)
def test_a_card_filter_narrows_the_counts_and_both_sides_of_the_churn_rate(world, narrowing):
    got = compute(MARCH | narrowing(world))
    assert got.total == 3
    churn = got.churn.current
    assert (churn.churned, churn.population) == (3, 8)
    assert got.churn_rate == pytest.approx(3 / 8)


def test_a_tag_narrows_to_the_cards_carrying_it(world):
    got = compute(MARCH | {"tag": world["tag"].pk})
    assert got.total == 3  # the first three migrated cards carry the tag
    assert (got.churn.current.churned, got.churn.current.population) == (3, 4)


def test_without_card_filters_every_card_counts(world):
    got = compute(MARCH)
    assert got.total == 5
    assert (got.churn.current.churned, got.churn.current.population) == (5, 20)


def test_a_city_nobody_lives_in_selects_nothing(world):
    got = compute(MARCH | {"city": "Atlantis"})
    assert got.total == 0 and got.churn.current.population == 0 and got.churn_rate is None


def test_the_closure_list_and_its_drill_down_links_keep_the_card_filters(world, manager_client):
    query = MARCH | {"batch": world["batch"].pk}
    html = manager_client.get(reverse("analytics:closure_list"), query).content.decode()
    assert "3 closures match these filters." in html
    dashboard = manager_client.get(reverse("analytics:dashboard"), query).content.decode()
    assert f"batch={world['batch'].pk}" in dashboard  # every bar's link keeps the batch
    assert "Customers: Import batch: telco.csv" in dashboard


def test_the_export_summary_lists_the_card_filters(world):
    rows = dict(ClosureFilter(MARCH | {"batch": world["batch"].pk, "city": "Testville"}, today=TODAY).describe())
    assert rows["Import batch"].startswith("telco.csv")
    assert rows["City"] == "Testville"
    assert rows["Tag"] == "All tags"


# --- periods ------------------------------------------------------------------------------------------
def test_last_12_months_are_the_twelve_months_up_to_today_not_this_year():
    today = date(2026, 12, 5)
    assert resolve_period("12m", today=today) == Period(date(2025, 12, 6), today)
    assert resolve_period("year", today=today) == Period(date(2026, 1, 1), today)


def test_a_year_earlier_keeps_the_dates_and_turns_29_february_into_the_28th():
    assert Period(date(2024, 2, 1), date(2024, 2, 29)).year_earlier() == Period(date(2023, 2, 1), date(2023, 2, 28))
    assert Period(None, date(2024, 2, 29)).year_earlier() is None


def test_the_comparison_can_be_the_same_period_a_year_earlier(db):
    card = CustomerFactory(created_at=local(2020, 1, 1))
    ClosureFactory(performed_at=local(2023, 3, 5))
    ClosureFactory(performed_at=local(2023, 3, 6))
    ClosureFactory(customer=card, performed_at=local(2024, 3, 7))
    got = compute(MARCH | {"compare": "year"})
    assert got.previous == Period(date(2023, 3, 1), date(2023, 3, 31))
    assert (got.total, got.previous_total) == (1, 2)
    assert got.churn.comparison.churned == 2
    just_before = compute(MARCH)
    assert just_before.previous == Period(date(2024, 1, 30), date(2024, 2, 29))
    assert just_before.previous_total == 0


def test_a_category_an_admin_created_is_read_from_the_table_in_both_languages(db):
    from django.utils import translation

    from closures.models import ReasonCategory
    from tests.factories import ClosureReasonFactory

    ReasonCategory.objects.create(key="attitude", label_en="Attitude", label_zh="态度", display_order=1)
    rude = ClosureReasonFactory(category="attitude")
    ClosureFactory(reason=rude, category="attitude", performed_at=local(2024, 3, 5))
    got = compute(MARCH | {"category": "attitude"})
    assert got.total == 1
    assert [(s.key, s.label) for s in got.by_category] == [("attitude", "Attitude")]
    with translation.override("zh-hans"):
        assert compute(MARCH).by_category[0].label == "态度"
