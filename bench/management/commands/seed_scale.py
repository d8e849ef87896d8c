"""`manage.py seed_scale --customers 1000000 --closures 250000 [--tickets 2000000 --steps 6000000]`: a data
set at production scale.

For the benchmark (`manage.py bench`, `make bench`) and for looking at query plans on a
realistic database. PostgreSQL only, and development only: it is in the bench app, which only
bench.settings installs (``manage.py seed_scale --settings bench.settings ...``). bench/ sits
above every app, so it may import them all; none of them imports it.

How it stays in minutes rather than hours on two cores:
- one transaction: TRUNCATE, then COPY ... FREEZE of rows generated in Python (customers,
  purchases, interactions, tags, closures, pending requests, audit entries), so nothing is
  half-written if it stops, and the rows are born frozen and all-visible;
- secondary indexes of the loaded tables are dropped first and rebuilt once at the end
  (a sort per index instead of a million random index insertions);
- triggers are off for the loading session (``session_replication_role = replica``): the
  name-gram trigger would fire once per customer, and deferred foreign-key checks would queue
  millions of events; the rows are consistent by construction, and the name grams are then
  built in one ``INSERT ... SELECT`` over the lower-cased names;
- VACUUM ANALYZE at the end, so the planner has statistics and index-only scans work.

The work is in bench/scale/: ``load`` (the transaction), ``plan`` (which cards close, how),
``cards``, ``closures``, ``followups`` and ``tickets`` / ``ticket_story`` (the rows), ``pgcopy``
(COPY), ``marker``, ``vocab`` and ``service_vocab`` (names, places, texts, skewed weights).

Reusable: a marker (a comment on the customer table) records what was loaded; running again
with the same sizes does nothing (unless an older version of this command loaded it: then it
rebuilds, so `make bench` picks up what was added since), ``--reset`` rebuilds. Tickets are
incremental: when the cards and closures are the ones asked for and only the tickets are missing
(a data set of version 2) or differ (another ``--tickets``), only the tickets and their steps are
replaced, in minutes, without reloading the cards. It never wipes a database that holds
customers it did not create.
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench.scale.load import Loader
from bench.scale.marker import TICKETS_ADDABLE, VERSION, counts_match, read_marker
from customers.models import Customer


class Command(BaseCommand):
    help = "Load a large realistic data set into PostgreSQL with COPY (for `manage.py bench`)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1_000_000)
        parser.add_argument("--closures", type=int, default=250_000)
        parser.add_argument("--tickets", type=int, help="Tickets (default: two per customer).")
        parser.add_argument("--steps", type=int, help="Steps of their process (default: three per ticket).")
        parser.add_argument("--staff", type=int, default=36, help="Staff users owning the cards (default 36).")
        parser.add_argument("--seed", type=int, default=20_240_601, help="Random seed (same seed, same data).")
        parser.add_argument("--reset", action="store_true", help="Rebuild even if a data set is already loaded.")
        parser.add_argument("--chunk", type=int, default=50_000, help="Customers generated per COPY batch.")
        parser.add_argument("--nice", type=int, default=5, help="Lower this process's CPU priority (0: keep it).")

    def handle(self, *args, customers, closures, tickets, steps, staff, seed, reset, chunk, nice, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale needs PostgreSQL (COPY, triggers, pg_trgm); this is "
                f"{connection.vendor}. Point DATABASE_URL at a dedicated database, e.g. "
                "DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_scale (createdb it and migrate first)."
            )
        if customers < 1 or closures < 0 or closures > customers:
            raise CommandError("--customers must be at least 1 and --closures between 0 and --customers.")
        tickets = 2 * customers if tickets is None else tickets
        steps = 3 * tickets if steps is None else steps
        if tickets < 0 or not tickets <= steps <= 6 * tickets:
            raise CommandError("--tickets must not be negative, and --steps between 1 and 6 per ticket.")
        wanted = {"version": VERSION, "customers": customers, "closures": closures, "seed": seed}
        wanted |= {"tickets": tickets, "steps": steps}
        loaded = read_marker()
        if loaded and not reset and all(loaded.get(k) == v for k, v in wanted.items()) and counts_match(loaded):
            self.stdout.write(
                f"A seed_scale data set of {customers:,} customers and {closures:,} closures is already loaded "
                f"({loaded.get('loaded_at', '?')}); nothing to do (--reset rebuilds it)."
            )
            return
        if Customer.objects.exists() and not loaded:
            raise CommandError(
                "This database holds customers that seed_scale did not create; refusing to replace them. "
                "Use a dedicated database (createdb crm_scale; DATABASE_URL=.../crm_scale manage.py migrate)."
            )
        same_sizes = loaded and all(loaded.get(k) == wanted[k] for k in ("customers", "closures", "seed"))
        if nice and hasattr(os, "nice"):
            os.nice(nice)  # a shared machine: let interactive work go first
        if (
            loaded
            and not reset
            and same_sizes
            and loaded.get("version") in TICKETS_ADDABLE
            and counts_match(loaded, tickets=False)
        ):
            had = loaded.get("ticket_rows", 0)
            self.stdout.write(
                f"The {customers:,} customers and {closures:,} closures are loaded (version {loaded.get('version')}, "
                f"{had:,} tickets); replacing only the tickets ({tickets:,}, with about {steps:,} steps)."
            )
            Loader(self, wanted, staff=staff, chunk=chunk).run_tickets(loaded)
            return
        if loaded and not reset and same_sizes and loaded.get("version") != VERSION:
            self.stdout.write(
                f"The data set was loaded by an older seed_scale (version {loaded.get('version')}, this is "
                f"{VERSION}: it adds what later issues need); rebuilding it."
            )
        elif loaded and not reset:
            raise CommandError(
                f"This database holds a different seed_scale data set ({loaded.get('customers'):,} customers, "
                f"{loaded.get('closures'):,} closures, seed {loaded.get('seed')}); run with --reset to rebuild it."
            )
        Loader(self, wanted, staff=staff, chunk=chunk).run()
