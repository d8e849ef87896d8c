"""The scoring settings page (Admins): every weight with its meaning, the bands, the periods and
constants, the retention window, the value bands and the last runs' fitted models; the weights and
bands come from the settings when set there, and then the scores follow them too."""

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from insights import risk
from insights.models import ScoringRun

pytestmark = pytest.mark.django_db
PAGE = reverse("insights:settings")
OVERDUE_ONLY = risk.History(recency_days=94, typical_interval=21.0)  # full-strength overdue, nothing else


def row(html: str, row_id: str) -> str:
    return html.split(f'id="{row_id}"')[1].split("</tr>")[0]


def test_the_page_shows_every_weight_with_its_meaning_and_the_constants(admin_client):
    html = admin_client.get(PAGE).content.decode()

    overdue = row(html, "weight-overdue")
    assert ">3<" in overdue and "30 %" in overdue  # 3 of 10
    assert "Time since the last purchase against the customer&#x27;s usual interval" in overdue
    assert ">0.5<" in row(html, "weight-quieter")
    assert "The purchase model&#x27;s probability of no purchase in the next 90 days." in html
    assert ">50<" in row(html, "band-high") and ">25<" in row(html, "band-medium")
    assert ">90<" in row(html, "constant-PERIOD_DAYS") and ">1.5<" in row(html, "constant-OVERDUE_FROM")
    assert ">4.0<" in row(html, "constant-OVERDUE_FULL") and ">120<" in row(html, "constant-FIRST_REPEAT_DAYS")
    assert ">3<" in row(html, "constant-TOP_REASONS") and ">60<" in row(html, "constant-RETENTION_WINDOW_DAYS")
    assert "Expected to spend ¥1,000.00 or more in the next 12 months." in html
    assert "Expected to spend less than ¥200.00." in html
    assert "No scoring run yet." in html


def test_the_page_shows_the_last_runs_and_their_fitted_parameters(admin_client):
    model = {
        "bgnbd": {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259},
        "spend": {"p": 6.25, "q": 3.74, "v": 15.44},
        "cuts": {},
    }
    started = timezone.now()
    full = ScoringRun.objects.create(
        kind="full", as_of=date(2026, 12, 1), started_at=started, finished_at=started, cards=1234, model=model
    )
    changed = ScoringRun.objects.create(kind="changed", as_of=date(2026, 12, 1), started_at=started, model={})

    html = admin_client.get(PAGE).content.decode()

    shown = row(html, f"run-{full.pk}")
    assert "Full" in shown and ">1234<" in shown
    for value in ("0.2426", "4.4136", "0.7929", "2.4259", "6.2500", "3.7400", "15.4400"):
        assert f">{value}<" in shown
    assert "Not finished" in row(html, f"run-{changed.pk}") and "—" in row(html, f"run-{changed.pk}")
    assert "on average a ÷ (a + b) of the time" in html


def test_an_override_in_the_settings_changes_the_page_and_the_scores(admin_client, settings):
    assert risk.score(OVERDUE_ONLY)[0] == 30  # 3 of 10

    settings.INSIGHTS_RISK_WEIGHTS = {"overdue": 9.0}
    settings.INSIGHTS_RISK_BANDS = {"high": 70, "medium": 40}
    settings.INSIGHTS_VALUE_BANDS = (5000, 800)
    settings.RETENTION_WINDOW_DAYS = 45

    assert risk.score(OVERDUE_ONLY)[0] == 56  # 9 of 16
    assert risk.band(60)["key"] == "medium" and risk.band(70)["key"] == "high"
    html = admin_client.get(PAGE).content.decode()
    overdue = row(html, "weight-overdue")
    assert ">9<" in overdue and ">3<" in overdue and "56 %" in overdue  # the weight, its default, its share
    assert ">70<" in row(html, "band-high") and ">40<" in row(html, "band-medium")
    assert ">45<" in row(html, "constant-RETENTION_WINDOW_DAYS")
    assert "Expected to spend ¥5,000.00 or more in the next 12 months." in html


def test_a_scoring_run_reads_the_weights_from_the_settings(settings):
    from insights.models import Score
    from insights.runs import score_customers
    from tests.factories import CustomerFactory

    from .test_scoring import buys

    today = timezone.localdate()
    card = CustomerFactory()
    buys(card, every=21, last=today - timezone.timedelta(days=94), times=15)
    score_customers(today)
    before = Score.objects.get(customer=card).risk

    settings.INSIGHTS_RISK_WEIGHTS = {"overdue": 30.0}
    score_customers(today)

    assert Score.objects.get(customer=card).risk > before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INSIGHTS_RISK_WEIGHTS", {"overdu": 3.0}),
        ("INSIGHTS_RISK_WEIGHTS", {"overdue": -1}),
        ("INSIGHTS_RISK_BANDS", {"high": 30, "medium": 60}),
    ],
)
def test_a_bad_override_fails_loudly(settings, name, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured):
        risk.score(OVERDUE_ONLY)
        risk.band(50)


@pytest.mark.parametrize("client_name", ["staff_client", "manager_client"])
def test_only_admins_read_the_page(request, client_name):
    assert request.getfixturevalue(client_name).get(PAGE).status_code == 403


def test_the_menu_links_admins_to_the_page(admin_client, manager_client):
    assert f'href="{PAGE}"' in admin_client.get(reverse("insights:at_risk")).content.decode()
    assert f'href="{PAGE}"' not in manager_client.get(reverse("insights:at_risk")).content.decode()
