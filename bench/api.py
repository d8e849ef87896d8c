"""The REST API's figures (issue 22): its reads against the targets of the matching pages, and its
cursor pages flat in cost from the first to the last at a million cards.

Each call sends a Staff or Admin token as another system would (a token made for the run; the rate
limit is lifted for it). The deep pages start from a cursor at the oldest cards (closures), built
as the "next" link of the page before would carry it.
"""

from __future__ import annotations

import base64
import json

from django.test.utils import override_settings
from rest_framework.test import APIClient

from .database import name_terms, sample
from .lib import Unavailable, user_named

TARGETS = {
    # The search page's targets for the same searches (phone, last digits, number: 25 ms; names: 40 ms).
    "api_search_phone": 25,
    "api_search_last4": 25,
    "api_search_customer_no": 25,
    "api_search_name_2char": 40,
    "api_search_name_1char": 40,
    "api_customers_first_page": 40,
    "api_customers_last_page": 40,
    "api_customer": 40,  # the card page's target
    "api_closures_first_page": 50,  # the closure list's target
    "api_closures_last_page": 50,
    "api_closure_figures_12m": 150,  # the dashboard's
}


def cursor(data: dict) -> str:
    """A cursor as api.pagination writes it (base64 JSON of the last row's sort values)."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


class ApiFigures:
    def api_client(self, username: str, role: str) -> APIClient:
        from api import tokens

        clients = self.__dict__.setdefault("api_clients", {})
        if username not in clients:
            owner = user_named(username)
            if owner is None:
                raise Unavailable(f"no user {username}: reload the data set with seed_scale")
            name = f"bench {username} {role} {id(self)}"
            _token, secret = tokens.create_token(name=name, owner=owner, role=role, by=owner)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
            clients[username] = client
        return clients[username]

    def api_get(self, client, path: str, **params):
        return lambda: client.get(path, params, secure=True, HTTP_ACCEPT="application/json")

    def api_figures(self, staff_user: str, manager_user: str) -> None:
        if not any(self.wanted(key) for key in TARGETS):
            return
        with override_settings(API_RATE_LIMIT="1000000/min"):
            self._api_figures(staff_user, manager_user)

    def _api_figures(self, staff_user: str, manager_user: str) -> None:
        try:
            staff = self.api_client(staff_user, "Staff")
            manager = self.api_client(manager_user, "Manager")
        except Unavailable as exc:
            self.say(f"  API figures not measured: {exc}")
            return
        people = sample(
            """SELECT customer_no, phone FROM customers_customer TABLESAMPLE SYSTEM (1)
               WHERE status = 'active' AND phone LIKE '+86%%'""",
            limit=200,
        )
        pick = lambda i, column: people[i % len(people)][column]  # noqa: E731
        customers = "/api/v1/customers/"
        searches = [
            ("api_search_phone", "API: search by phone", lambda i: pick(i, 1)[3:]),
            ("api_search_last4", "API: search by last 4 digits", lambda i: pick(i, 1)[-4:]),
            ("api_search_customer_no", "API: search by customer number", lambda i: pick(i, 0)),
        ]
        for key, label, term in searches:
            self.timed(key, label, lambda i, term=term: self.api_get(staff, customers, q=term(i)), target=TARGETS[key])
        if self.wanted("api_search_name"):
            terms = name_terms()
            for size in (2, 1):
                term = terms[f"{size}char_frequent"]
                self.timed(f"api_search_name_{size}char", f"API: search by {size}-char name, frequent ({term})",
                           lambda i, term=term: self.api_get(staff, customers, q=term),
                           target=TARGETS[f"api_search_name_{size}char"])  # fmt: skip
        oldest = sample("SELECT min(id) FROM customers_customer WHERE status = 'active'", limit=1)[0][0]
        self.timed("api_customers_first_page", "API: customers, first page (25)",
                   lambda i: self.api_get(staff, customers), target=TARGETS["api_customers_first_page"])  # fmt: skip
        self.timed("api_customers_last_page", "API: customers, last page (cursor at the oldest cards)",
                   lambda i: self.api_get(staff, customers, cursor=cursor({"id": oldest + 60})),
                   target=TARGETS["api_customers_last_page"])  # fmt: skip
        self.timed("api_customer", "API: one customer", lambda i: self.api_get(staff, f"{customers}{pick(i, 0)}/"),
                   target=TARGETS["api_customer"])  # fmt: skip
        closures = "/api/v1/closures/"
        old = sample("SELECT performed_at, id FROM closures_closure ORDER BY performed_at, id OFFSET 30", limit=1)
        self.timed("api_closures_first_page", "API: closures, first page (25)",
                   lambda i: self.api_get(manager, closures), target=TARGETS["api_closures_first_page"])  # fmt: skip
        if old:
            last = cursor({"id": old[0][1], "v": old[0][0].isoformat()})
            self.timed("api_closures_last_page", "API: closures, last page (cursor at the oldest closures)",
                       lambda i: self.api_get(manager, closures, cursor=last),
                       target=TARGETS["api_closures_last_page"])  # fmt: skip
        self.timed("api_closure_figures_12m", "API: closure figures, last 12 months",
                   lambda i: self.api_get(manager, "/api/v1/analytics/closures/", period="12m"),
                   target=TARGETS["api_closure_figures_12m"])  # fmt: skip
