"""Who may use each insights:* route: every role reads the scores (the "At risk" list)."""

from .routes import EVERYONE, Route

ROUTES = [
    Route("insights:at_risk", EVERYONE),
    Route("insights:at_risk", EVERYONE, query="band=high&segment=lost&owner=1&sort=recency&page=2"),
    Route("insights:at_risk", EVERYONE, query="band=x&owner=y&sort=z"),
    Route("insights:at_risk", EVERYONE, query="owner=1&new=7"),  # the inbox's and the digest's link
    Route("insights:at_risk", EVERYONE, query="new=x"),
]
