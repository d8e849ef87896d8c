"""Who may use each insights:* route: every role reads the scores (the "At risk" list); Managers and
Admins export it (insights.export_scores); only Admins read the scoring settings."""

from .routes import ADMINS, EVERYONE, MANAGERS, Route

ROUTES = [
    Route("insights:at_risk", EVERYONE),
    Route("insights:at_risk", EVERYONE, query="band=high&segment=lost&owner=1&sort=recency&page=2"),
    Route("insights:at_risk", EVERYONE, query="band=x&owner=y&sort=z"),
    Route("insights:at_risk_export", MANAGERS, ok=(200, 302)),
    Route("insights:at_risk_export", MANAGERS, query="band=x&segment=lost&owner=y&sort=z", ok=(200, 302)),
    Route("insights:settings", ADMINS),
]
