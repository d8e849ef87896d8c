"""What seed_scale loaded, recorded in a comment on the customer table: running again with the
same sizes does nothing, and the benchmark refuses a database that seed_scale did not load."""

import json

from django.db import connection

from closures.models import Closure
from customers.models import Customer, NameGram
from service.models import Ticket

MARKER = "seed_scale "
VERSION = 3  # 2: consent, follow-ups, answers and improvements (issue 19); 3: tickets and steps (issue 20)
TICKETS_ADDABLE = (2, 3)  # a data set of these versions gets (other) tickets without reloading its cards


def read_marker() -> dict | None:
    """What seed_scale loaded into this database (version, sizes, seed, when), or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(%s::regclass, 'pg_class')", [Customer._meta.db_table])
        comment = cursor.fetchone()[0] or ""
    if not comment.startswith(MARKER):
        return None
    try:
        return json.loads(comment[len(MARKER) :])
    except ValueError:
        return None


def counts_match(marker: dict, *, tickets: bool = True) -> bool:
    """The marker survives a TRUNCATE (or `flush`); the rows must still be there (the tickets too,
    unless ``tickets`` is off: the cards alone, to which tickets can be added)."""
    return (
        Customer.objects.count() >= marker["customers"]
        and Closure.objects.count() >= marker["closures"]
        and NameGram.objects.exists() == (marker["customers"] > 0)
        and (not tickets or Ticket.objects.count() >= marker.get("tickets", 0))
    )
