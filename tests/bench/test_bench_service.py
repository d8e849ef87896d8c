"""The benchmark's service figures: pages whose URL names are not installed yet are reported as
"not installed: <name>" and the run goes on; queues and the ticket page are judged against 3× the
reference page, the service dashboard against the dashboards' 12×."""

import io

import pytest

from bench import lib, service
from bench.measure import TARGETS, Bench


def bench(only: str = "") -> Bench:
    options = {"runs": 3, "warmup": 0, "only": only, "skip_files": True, "explain": False, "docs": False}
    return Bench(io.StringIO(), options | {"output": "/nonexistent/results.json"})


def test_the_service_figures_have_the_issues_targets():
    for key in ("ticket_queue_mine", "ticket_queue_team", "ticket_queue_overdue", "ticket_queue_all_filtered"):
        assert TARGETS[key] == 40
    assert TARGETS["ticket_page"] == 40 and TARGETS["card_with_service_panel"] == 40
    assert TARGETS["service_dashboard"] == TARGETS["service_dashboard_12m"] == 150


def test_queues_and_the_dashboard_without_their_url_names_are_reported_not_installed(monkeypatch):
    def missing(name, *args):
        raise lib.Unavailable(f"not installed: {name}")

    monkeypatch.setattr(service, "installed", missing)
    run = bench(only="ticket_queue_mine,ticket_queue_overdue,service_dashboard")
    run.ticket_queues("scale_staff01", "scale_manager01", count=3)
    run.service_dashboard("scale_manager01")
    reasons = {m.key: m.reason for m in run.measures}
    assert reasons == {
        "ticket_queue_mine": "not installed: service:queue",
        "ticket_queue_overdue": "not installed: service:queue",
        "service_dashboard": "not installed: analytics:service",
        "service_dashboard_12m": "not installed: analytics:service",
    }
    assert all(m.p95 is None and m.verdict == "n/a" for m in run.measures)
    assert "not installed: service:queue" in run.out.getvalue()


def test_installed_names_the_missing_url():
    with pytest.raises(lib.Unavailable, match="^not installed: service:no_such_page$"):
        service.installed("service:no_such_page")


def test_ticket_pages_are_also_judged_against_three_times_the_reference_page():
    run = bench()
    p95s = {"reference_page": 5.0, "ticket_queue_team": 14.0, "ticket_page": 20.0, "service_dashboard": 50.0}
    for key, p95 in p95s.items():
        run.measures.append(lib.Measure(key, key, None, samples=[p95] * 20))
    run.against_reference()
    notes = {m.key: m.note for m in run.measures}
    assert notes["ticket_queue_team"] == "2.8× the reference page (within 3×)"
    assert notes["ticket_page"] == "4× the reference page (OVER 3×)"
    assert notes["service_dashboard"] == "10× the reference page (within 12×)"
    assert run.extra["ticket_page_x_reference"] == 4.0
