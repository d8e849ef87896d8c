"""The churn-warning dashboard: Managers and Admins read it (insights.view_risk_analytics), the page
and each of its panels (``part``), with good filters and bad ones, and export it (they may export the
customers at risk: insights.export_scores)."""

from .routes import MANAGERS, Route

ROUTES = [
    Route("analytics:churn_warning", MANAGERS),
    Route("analytics:churn_warning", MANAGERS, query="period=all&action=all"),
    *(
        Route("analytics:churn_warning", MANAGERS, query=f"period=12m&part={part}")
        for part in ("risk", "at_risk", "lost", "actions", "warned")
    ),
    Route(
        "analytics:churn_warning", MANAGERS, query="period=custom&start=2026-03-01&end=2026-03-31&owner=1&segment=lost"
    ),
    Route("analytics:churn_warning", MANAGERS, query="period=custom&start=2026-04-01&end=2026-03-01&owner=x&part=lost"),
    Route("analytics:churn_warning_export", MANAGERS, method="POST", query="period=all&action=all"),
]
