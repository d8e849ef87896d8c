"""Who may use each insights:* route: every role reads the scores (the "At risk" list) and acts on
customers at risk (retention callbacks and attempts); Managers and Admins export the list
(insights.export_scores); only Admins read the scoring settings."""

from .routes import ADMINS, EVERYONE, MANAGERS, Route


def _card(w) -> dict:
    return {"pk": w.customer.pk}


ROUTES = [
    Route("insights:at_risk", EVERYONE),
    Route("insights:at_risk", EVERYONE, query="band=high&segment=lost&owner=1&sort=recency&page=2"),
    Route("insights:at_risk", EVERYONE, query="band=x&owner=y&sort=z"),
    Route("insights:actions", EVERYONE),
    Route("insights:actions", EVERYONE, query="mine=on&kind=callback&outcome=x&page=3"),
    Route("insights:plan_callback", EVERYONE, kwargs=_card),
    Route("insights:log_attempt", EVERYONE, kwargs=_card),
    Route(
        "insights:log_attempt",
        EVERYONE,
        method="POST",
        kwargs=_card,
        data=lambda w: {"channel": "call", "note": "walk"},
        ok=(302,),
    ),
    Route("insights:record_result", EVERYONE, kwargs=lambda w: {"pk": w.retention_callback.pk}),
    Route("insights:at_risk", EVERYONE, query="owner=1&new=7"),  # the inbox's and the digest's link
    Route("insights:at_risk", EVERYONE, query="new=x"),
    Route("insights:at_risk_export", MANAGERS, ok=(200, 302)),
    Route("insights:at_risk_export", MANAGERS, query="band=x&segment=lost&owner=y&sort=z", ok=(200, 302)),
    Route("insights:settings", ADMINS),
]
