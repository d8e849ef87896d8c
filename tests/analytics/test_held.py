"""A card-filtered population's figures counted in memory (analytics/held.py) equal the same figures
read from the database, for every kind of filter, period and figure."""

from datetime import date

import pytest

from analytics import cohorts, figures, held
from analytics.filters import ClosureFilter
from tests.factories import ImportBatchFactory, TagFactory

from .history import Filters

TODAY = date(2024, 5, 15)


@pytest.fixture
def tagged(history):
    """Every third card of the rich history carries a tag and came in with one import batch."""
    tag, batch = TagFactory(name="迁移"), ImportBatchFactory()
    for card in history.customers[::3]:
        card.tags.add(tag)
        type(card).objects.filter(pk=card.pk).update(import_batch=batch, source="Legacy")
    return history, tag, batch


def _filters(h):
    return {
        "quarter": Filters(date(2024, 1, 1), date(2024, 3, 31)),
        "with reverted": Filters(date(2023, 11, 15), date(2024, 2, 14), include_reverted=True),
        "one reason": Filters(
            date(2023, 10, 1),
            date(2024, 4, 30),
            reason=h.reasons["price"],
        ),
        "segment and tenure": Filters(date(2023, 10, 1), date(2024, 4, 30), segment="regular"),
        "void as churn": Filters(date(2023, 10, 1), date(2024, 4, 30), action="void"),
        "one closer": Filters(None, date(2024, 4, 30), by=h.staff[1]),
    }


@pytest.mark.parametrize(
    "case", ["quarter", "with reverted", "one reason", "segment and tenure", "void as churn", "one closer"]
)
@pytest.mark.parametrize("card_filter", ["tag", "batch", "source"])
def test_held_figures_equal_the_databases(tagged, monkeypatch, case, card_filter):
    history, tag, batch = tagged
    query = (
        _filters(history)[case].query()
        | {
            "tag": {"tag": str(tag.pk)},
            "batch": {"batch": str(batch.pk)},
            "source": {"source": "Legacy"},
        }[card_filter]
    )
    query["compare"] = "year" if case == "quarter" else "previous"

    def compute():
        fs = ClosureFilter(query, today=TODAY)
        assert fs.is_valid(), fs.errors
        return figures.compute(fs), cohorts.cohort_table(fs, limit=100)

    in_memory, cohort_table = compute()
    assert held.Held.of(ClosureFilter(query, today=TODAY)) is not None
    monkeypatch.setattr(held.Held, "of", classmethod(lambda cls, fs: None))
    from_database, cohort_database = compute()

    assert in_memory.total > 0
    assert in_memory == from_database
    assert cohort_table == cohort_database
