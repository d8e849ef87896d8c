"""The data-scope figures of ``manage.py bench`` (issue 23): the search as a Staff user scoped to their
own cards (the data set's owner closest to 30,000 cards), and the Managers' pages as a Manager scoped
to their team's cards (the customer service team: a dozen owners, about a third of the cards).

The scopes are set inside a transaction that is rolled back at the end (the pages run in this
thread, on this connection), so the data set keeps no scope and no team manager; the scope cache is
emptied before and after. A mixin of :class:`bench.measure.Bench`.
"""

from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse

from .database import name_terms, sample
from .lib import Unavailable, client_for, user_named

TARGETS = {
    "scoped_search_phone": 25,
    "scoped_search_last4": 25,
    "scoped_search_customer_no": 25,
    "scoped_search_name_3char": 40,
    "scoped_search_name_2char": 40,
    "scoped_search_name_1char": 40,
    "scoped_card": 40,
    "team_scoped_dashboard_12m": 150,
    "team_scoped_closure_list": 50,
    "team_scoped_ticket_queue_all": 40,
    "team_scoped_service_dashboard": 150,
    "team_scoped_service_churn": 150,
}
OWNED = 30_000  # the issue's Staff user owns 30,000 cards
TEAM = "Customer service"


class _RolledBack(Exception):
    pass


def _owner_near(count: int) -> tuple[int, int]:
    """The Staff owner whose card count is closest to ``count``: (user id, cards)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.owner_id, count(*) FROM customers_customer c
               JOIN auth_user_groups ug ON ug.user_id = c.owner_id
               JOIN auth_group g ON g.id = ug.group_id AND g.name = 'Staff'
               GROUP BY c.owner_id ORDER BY abs(count(*) - %s) LIMIT 1""",
            [count],
        )
        row = cursor.fetchone()
    if row is None:
        raise Unavailable("no Staff user owns cards: reload the data set")
    return row


class ScopeFigures:
    def scoped_figures(self, manager_user: str) -> None:
        if not any(self.wanted(key) for key in TARGETS):
            return
        from crm import scopes
        from crm.models import DataScope, Team

        owner_id, owned = _owner_near(OWNED)
        cache.delete(scopes.CACHE_KEY)
        try:
            with transaction.atomic():
                DataScope.objects.update_or_create(role="Staff", defaults={"scope": "own"})
                DataScope.objects.update_or_create(role="Manager", defaults={"scope": "team"})
                Team.objects.filter(name_en=TEAM).update(manager=user_named(manager_user))
                cache.delete(scopes.CACHE_KEY)
                self.extra["scoped_staff_cards"] = owned
                self._scoped_search(owner_id, owned)
                self._team_pages(manager_user)
                raise _RolledBack
        except _RolledBack:
            pass
        finally:
            cache.delete(scopes.CACHE_KEY)

    def _scoped_search(self, owner_id: int, owned: int) -> None:
        from django.contrib.auth import get_user_model

        client = client_for(get_user_model().objects.get(pk=owner_id))
        count = self.runs + self.warmup + 2
        people = sample(
            """SELECT id, customer_no, phone FROM customers_customer
               WHERE owner_id = %s AND status = 'active' AND phone LIKE '+86%%' ORDER BY id""",
            [owner_id],
            limit=max(count, 200),
        )
        if not people:
            raise Unavailable("the scoped user has no active card with a phone")
        pick = lambda i, column: people[i % len(people)][column]  # noqa: E731
        search, who = reverse("customers:search"), f"own {owned:,} cards"
        by_box = [
            ("scoped_search_phone", "phone", lambda i: pick(i, 2)[3:]),
            ("scoped_search_last4", "last 4 digits", lambda i: pick(i, 2)[-4:]),
            ("scoped_search_customer_no", "number", lambda i: pick(i, 1)),
        ]
        for key, what, text in by_box:
            self.timed(key, f"Scoped search ({who}): {what}", lambda i, t=text: self.get(search, client, q=t(i)))
        terms = name_terms()
        for size in (3, 2, 1):
            for kind in ("frequent", "rare"):
                term = terms[f"{size}char_{kind}"]
                self.timed(
                    f"scoped_search_name_{size}char_{kind}",
                    f"Scoped search ({who}): {size}-char name, {kind} ({term})",
                    lambda i, term=term: self.get(search, client, q=term),
                    target=TARGETS[f"scoped_search_name_{size}char"],
                )
        card = lambda i: self.get(reverse("customers:card", args=[pick(i, 0)]), client)  # noqa: E731
        self.timed("scoped_card", f"Customer card ({who})", card)

    def _team_pages(self, manager_user: str) -> None:
        client = self.client_of(manager_user)
        who = f"{manager_user}, team scope"
        dashboard, listing = reverse("analytics:dashboard"), reverse("analytics:closure_list")
        queue, service = reverse("service:queue"), reverse("analytics:service")
        pages = [
            ("team_scoped_dashboard_12m", "Dashboard, last 12 months", dashboard, {"period": "12m"}),
            ("team_scoped_closure_list", "Closure list", listing, {}),
            ("team_scoped_ticket_queue_all", "Ticket queue, all", queue, {"view": "all"}),
            ("team_scoped_service_dashboard", "Service dashboard, last 12 months", service, {}),
            ("team_scoped_service_churn", "Churn after service (htmx part)", service, {"part": "churn"}),
        ]
        for key, label, url, params in pages:
            self.timed(key, f"{label} ({who})", lambda i, u=url, p=params: self.get(u, client, **p))
