"""The churn-warning figures of ``manage.py bench`` (issue 21): the nightly scoring run and the
incremental run of 10,000 changed cards, each in a child process (its own peak memory), and the
pages that read the scores: "Customers at risk", the retention actions and the churn-warning
dashboard. A mixin of :class:`bench.measure.Bench`; a page whose URL is not installed is reported
as "not installed: <name>", not measured.

The incremental run's 10,000 "changed" cards are active cards whose ``updated_at`` the child
moves to now, as an edit through the card gate would; the run then finds them through the
(status, updated_at) index and rescores them with the last full run's models.
"""

import time

from django.db import connection

from . import lib
from .database import sample
from .lib import Unavailable
from .service import installed

TARGETS = {
    "score_full_s": 300,  # the issue: a full nightly recompute < 5 minutes ...
    "score_full_peak_rss_mb": 1024,  # ... and < 1 GB peak memory
    "score_changed_10k_s": 10,  # an incremental one for 10,000 changed cards < 10 s
    "at_risk_list": 50,  # the list targets (the closure list's)
    "at_risk_segment_owner": 50,
    "retention_actions": 50,
    "churn_warning_dashboard": 150,
    "churn_warning_risk_12m": 150,  # each panel is its own request (htmx)
    "churn_warning_at_risk": 150,
    "churn_warning_lost_12m": 150,
    "churn_warning_actions_12m": 150,
    "churn_warning_warned_12m": 150,
    # The customer search's filters on the scores (the search page's target).
    "search_risk_high": 40,
    "search_risk_medium_high": 40,
    "search_rfm_champions": 40,
    "search_risk_high_page_5": 40,
}
CHANGED = 10_000


def child_score(what: str) -> dict:
    """``score-full``: the nightly run; ``score-changed``: 10,000 cards marked changed, then the incremental run."""
    from insights.runs import score_changed, score_customers

    if what == "score-full":
        began = time.perf_counter()
        cards = score_customers()
        seconds = time.perf_counter() - began
        return {
            "seconds": round(seconds, 1),
            "peak_rss_mb": lib.peak_rss_mb(),
            "note": f"{cards:,} active cards scored",
        }
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM insights_scoringrun WHERE kind = 'full' AND finished_at IS NOT NULL")
        if not cursor.fetchone()[0]:
            raise Unavailable("no full scoring run yet on this database (run the full one first)")
        cursor.execute(
            "UPDATE customers_customer SET updated_at = now() WHERE id IN ("
            " SELECT id FROM customers_customer TABLESAMPLE SYSTEM (3) WHERE status = 'active' LIMIT %s)",
            [CHANGED],
        )
    began = time.perf_counter()
    cards = score_changed()
    seconds = time.perf_counter() - began
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": lib.peak_rss_mb(),
        "note": f"{cards:,} changed cards rescored (10,000 marked changed, plus whatever else changed since)",
    }


class InsightsFigures:
    """The figures; a Manager (``MANAGER_USER``) reads the pages, as they would in the morning."""

    def insights_figures(self, manager_user: str) -> None:
        if not any(self.wanted(key) for key in TARGETS):
            return
        from .files import child

        for what, key, label in (
            ("score-full", "score_full_s", "Scoring: the nightly full run"),
            ("score-changed", "score_changed_10k_s", "Scoring: 10,000 changed cards"),
        ):
            if not self.wanted(key):
                continue
            self.say(f"  {label} (child process) ...")
            result = child(what)
            self.single(key, label, result, "seconds", TARGETS[key], "s")
            if what == "score-full":
                self.single("score_full_peak_rss_mb", "  peak RSS of that process", result, "peak_rss_mb", 1024, "MB")
        self.insights_pages(manager_user)

    def insights_pages(self, manager_user: str) -> None:
        client = self.client_of(manager_user)
        owners = sample("SELECT owner_id FROM customers_customer WHERE owner_id IS NOT NULL", limit=1)
        owner = owners[0][0] if owners else ""
        pages = [
            ("at_risk_list", "Customers at risk (by value at risk)", "insights:at_risk", {}),
            (
                "at_risk_segment_owner",
                "Customers at risk: one segment, one owner",
                "insights:at_risk",
                {"segment": "at_risk", "owner": owner},
            ),
            ("retention_actions", "Retention actions", "insights:actions", {}),
            ("search_risk_high", "Customer search: high risk", "customers:search", {"risk": "high"}),
            ("search_risk_medium_high", "Customer search: medium or high risk", "customers:search",
             {"risk": "medium_high"}),
            ("search_rfm_champions", "Customer search: RFM champions", "customers:search", {"rfm": "champions"}),
            ("search_risk_high_page_5", "Customer search: high risk, page 5", "customers:search",
             {"risk": "high", "page": "5"}),
            ("churn_warning_dashboard", "Churn-warning dashboard", "analytics:churn_warning", {}),
            *((f"churn_warning_{part}_12m" if part != "at_risk" else "churn_warning_at_risk",
               f"Churn-warning dashboard: {label}", "analytics:churn_warning", {"period": "12m", "part": part})
              for part, label in (("risk", "risk over 12 months"), ("at_risk", "at risk now"),
                                  ("lost", "value lost, 12 months"), ("actions", "retention actions, 12 months"),
                                  ("warned", "early warning, 12 months"))),
        ]  # fmt: skip
        for key, label, name, params in pages:
            self.timed(key, label, lambda i, name=name, params=params: self.get(installed(name), client, **params),
                       target=TARGETS[key])  # fmt: skip
