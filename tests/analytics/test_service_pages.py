"""The service dashboard's page, its drill-downs (to the ticket queue and to the closure list), the
closure dashboard's service part and the service sheets of both exports, read back with openpyxl."""

import io
import re
from datetime import date
from html import unescape

import openpyxl
import pytest
from django.urls import NoReverseMatch, reverse

from analytics import exports, service_sheets
from analytics.filters import ClosureFilter

pytestmark = pytest.mark.django_db
MARCH = "period=custom&start=2026-03-01&end=2026-03-31"


def _links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def _listed(client, url: str, cards: dict) -> set[str]:
    """The cards (by world name) whose closures the closure list at ``url`` shows."""
    html = client.get(url).content.decode()
    return {name for name, card in cards.items() if card.customer_no in html}


def test_the_dashboard_shows_the_figures_and_links_each_group_to_the_queue(service_world, manager_client):
    response = manager_client.get(f"/analytics/service/?{MARCH}")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="figure-opened"' in html and ">5</a>" in html
    assert "50.0%" in html  # SLA met: 2 of 4 resolved
    assert "33.3%" in html  # reopen rate: 1 of 3
    try:
        queue = reverse("service:queue")
    except NoReverseMatch:
        queue = "/service/"
    repair = service_world.categories["repair"].pk
    assert f"{queue}?view=all&opened_from=2026-03-01&opened_to=2026-03-31&category={repair}" in _links(html)
    team = service_world.teams["after_sales"].pk
    assert f"{queue}?view=all&opened_from=2026-03-01&opened_to=2026-03-31&team={team}" in _links(html)
    assert 'id="chart-backlog"' in html and "part=churn" in html


def test_bad_filters_are_shown_next_to_their_field_not_a_500(manager_client, db):
    response = manager_client.get("/analytics/service/?period=custom&start=2026-04-01&end=2026-03-01&channel=fax")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The end date is before the start date." in html
    assert "Select a valid choice." in html


def test_staff_may_not_see_the_service_dashboard(staff_client, db):
    assert staff_client.get("/analytics/service/").status_code == 403


def test_churn_figures_drill_down_to_the_closures_they_count(service_world, manager_client):
    html = manager_client.get(f"/analytics/service/?{MARCH}&part=churn", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    links = [link for link in _links(html) if "svc=" in link]
    cards = service_world.cards
    with_ticket = next(link for link in links if "svc=after" in link and "svc_" not in link.split("svc_to")[1])
    assert _listed(manager_client, with_ticket, cards) == {"B"}
    without = next(link for link in links if "svc=none" in link)
    assert _listed(manager_client, without, cards) == {"G"}
    missed = next(link for link in links if "svc_sla=missed" in link)
    assert _listed(manager_client, missed, cards) == {"B"}
    page = manager_client.get(missed).content.decode()
    assert "Closed within 90 days after a ticket (SLA missed) opened from 2026-03-01 to 2026-03-31" in page


def test_closure_analytics_shows_the_share_of_service_closures_after_a_missed_sla(service_world, manager_client):
    query = "period=custom&start=2026-03-01&end=2026-07-31"
    dashboard = manager_client.get(f"/analytics/?{query}").content.decode()
    assert "part=service" in dashboard
    part = manager_client.get(f"/analytics/?{query}&part=service", HTTP_HX_REQUEST="true").content.decode()
    assert "<strong>50.0%</strong>" in part and "(1 of 2)" in part  # B after its late ticket; C's was on time
    breached = next(link for link in _links(part) if "svc=breached" in link)
    assert _listed(manager_client, breached, service_world.cards) == {"B"}


def _sheet(book, name) -> dict:
    return {row[0]: row[1:] for row in book[name].iter_rows(values_only=True) if row and row[0] is not None}


def test_the_service_export_holds_the_dashboards_figures(service_world, admin_client, manager_client):
    assert manager_client.post(f"/analytics/service/export/?{MARCH}").status_code == 403
    response = admin_client.post(f"/analytics/service/export/?{MARCH}")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == service_sheets.SHEETS
    summary = _sheet(book, "Service")
    assert summary["Tickets opened"][0] == 5 and summary["Open tickets at the end"][0] == 1
    assert summary["SLA met (tickets resolved)"][0] == pytest.approx(0.5)
    assert summary["Reopen rate"][0] == pytest.approx(1 / 3)
    assert summary["Median resolution (working hours)"][0] > 0
    rows = list(book["Service"].iter_rows(values_only=True))
    assert rows[[r[1] for r in rows].index("After-sales")][:3] == ("Team", "After-sales", 1)
    churn = {(r[0], r[1]): r[2:] for r in book["Churn after service"].iter_rows(min_row=2, values_only=True) if r[1]}
    assert churn[("All", "Customers with a ticket")][:2] == (5, 1)
    assert churn[("All", "Customers without a ticket")][:2] == (4, 1)
    assert churn[("SLA", "SLA missed")] == (1, 1, 1)
    over_time = list(book["Service over time"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[4]) for r in over_time] == [(5, 1)]


def test_the_closure_export_carries_the_service_sheets(service_world):
    fs = ClosureFilter({"period": "custom", "start": "2026-03-01", "end": "2026-07-31"}, today=date(2026, 8, 1))
    out = io.BytesIO()
    exports.write_xlsx(fs, out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert set(service_sheets.SHEETS) <= set(book.sheetnames)
    summary = _sheet(book, "Service")
    assert summary["Tickets opened"][0] == 6  # March and April
    assert summary["Closures with a service reason"][0] == 2
    assert summary["Share of service-reason closures after a missed SLA"][0] == pytest.approx(0.5)


def test_the_menu_offers_the_service_dashboard_to_managers_only(manager_client, staff_client):
    assert 'href="/analytics/service/"' in manager_client.get("/").content.decode()
    assert 'href="/analytics/service/"' not in staff_client.get("/").content.decode()


def test_without_javascript_the_parts_are_pages_of_their_own(service_world, manager_client):
    churn = manager_client.get(f"/analytics/service/?{MARCH}&part=churn").content.decode()
    assert "<html" in churn and 'id="service-churn-table"' in churn and 'id="filters-form"' in churn
    part = manager_client.get("/analytics/?period=all&part=service").content.decode()
    assert "<html" in part and 'id="service-closures-title"' in part


def test_queue_links_fall_back_to_the_queues_path_until_the_queue_exists(monkeypatch):
    from analytics import service_links

    def missing(name, *args, **kwargs):
        raise NoReverseMatch(name)

    monkeypatch.setattr(service_links, "reverse", missing)
    assert service_links.queue_url(view="all", category=3, team="") == "/service/?view=all&category=3"


def test_the_apis_closure_list_takes_the_same_drill_downs(service_world, manager_client):
    html = manager_client.get(f"/analytics/service/?{MARCH}&part=churn", HTTP_HX_REQUEST="true").content.decode()
    cards = service_world.cards
    numbers = {card.customer_no: name for name, card in cards.items()}
    links = [link for link in _links(html) if "svc=" in link]
    assert len(links) >= 3
    for link in links:
        query = link.split("?", 1)[1]
        rows = manager_client.get(f"/api/v1/closures/?{query}").json()["results"]
        assert {numbers[row["customer"]] for row in rows} == _listed(manager_client, link, cards), query
