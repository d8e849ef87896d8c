"""Closure analytics: Managers and Admins read it; only Admins export."""

from .routes import ADMINS, MANAGERS, Route

ROUTES = [
    Route("analytics:dashboard", MANAGERS, query="period=all"),
    Route("analytics:closure_list", MANAGERS, query="period=all"),
    Route("analytics:export", ADMINS, method="POST", query="period=all", data=lambda w: {"format": "csv"}),
]
