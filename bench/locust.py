"""Sessions and data for the load test (``manage.py bench --locust-setup``, bench/loadtest.sh)."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from closures.models import Action, Category, ClosureReason

from .database import fresh_cards, name_terms, sample
from .lib import admin_user, client_for


def locust_setup(path: Path, users: int, stdout) -> None:
    """Sessions (one per virtual user, Managers and Admins) and search data for bench/locustfile.py.

    Sessions are created directly (like force_login) so that the test measures the mix, not
    password hashing at login; each virtual user gets its own fresh cards for the closure flow.
    """
    User = get_user_model()
    staff = list(User.objects.filter(username__startswith="scale_manager")) + [admin_user()]
    sessions = []
    for i in range(users):
        client = client_for(staff[i % len(staff)])
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    people = sample(
        """SELECT id, customer_no, phone FROM customers_customer TABLESAMPLE SYSTEM (1)
           WHERE status = 'active' AND phone LIKE '+86%%'""",
        limit=5000,
    )
    terms = name_terms()
    cards = fresh_cards(users * 40)
    data = {
        "sessions": sessions,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "phones": [p[2][3:] for p in people],
        "customer_nos": [p[1] for p in people],
        "card_ids": [p[0] for p in people],
        "names": list(terms.values()),
        "fresh_cards": [cards[i::users] for i in range(users)],
        "close_reason": ClosureReason.objects.active()
        .for_action(Action.CLOSE)
        .filter(category=Category.PRICE)
        .first()
        .pk,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    stdout.write(f"Wrote {users} sessions and search data to {path}.")
