"""The service dashboard: Managers and Admins read it (service.view_service_analytics); only Admins
export it (it also needs service.export_tickets). The closure dashboard's service part is read like
the dashboard."""

from .routes import ADMINS, MANAGERS, Route

_MARCH = "period=custom&start=2026-03-01&end=2026-03-31"

ROUTES = [
    Route("analytics:service", MANAGERS, query="period=all"),
    Route("analytics:service", MANAGERS, query=f"{_MARCH}&grain=week&priority=high"),
    Route("analytics:service", MANAGERS, query="period=90d&part=churn"),
    Route("analytics:service", MANAGERS, query="period=custom&start=2026-04-01&end=2026-03-01&channel=99"),
    Route("analytics:service_export", ADMINS, method="POST", query="period=all"),
    Route("analytics:dashboard", MANAGERS, query="period=all&part=service"),
    Route("analytics:closure_list", MANAGERS, query="period=all&svc=breached"),
    Route("analytics:closure_list", MANAGERS, query="period=all&svc=after&svc_from=2026-03-01&svc_to=2026-03-31"),
    Route("analytics:closure_list", MANAGERS, query="period=all&svc=none&svc_from=bad&svc_to=2026-03-31"),
]
