"""Loading the scale data set (seed_scale): users, reasons and teams first, the plan, then one
transaction that empties the tables, drops their secondary indexes, COPYs every row, builds
the name grams, rebuilds the indexes and records the marker; VACUUM ANALYZE after it, then the
service dashboard's summary (``rebuild_service_summary``, when that command exists).

The rows themselves come from the mixins: :class:`~bench.scale.plan.Planning` (who closes, when),
:class:`~bench.scale.cards.CardRows`, :class:`~bench.scale.closures.ClosureRows`,
:class:`~bench.scale.followups.FollowupRows` and :class:`~bench.scale.tickets.TicketRows`.

``run_tickets`` is the incremental path: on a data set whose cards and closures are already the
ones asked for (loaded by an older version, or with another number of tickets), it replaces only
the tickets, their steps and the ticket numbers, in the same way.
"""

import json
import random
import time
from datetime import UTC, datetime
from importlib import import_module

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from closures import tally, ticket_flags
from closures.models import Closure, ClosureReason, ClosureRequest
from crm.models import AuditEntry, Event, EventReceipt, Job, OutboxFloor
from crm.roles import ADMIN, MANAGER, STAFF
from customers.models import (
    ContactConsent,
    Customer,
    ImportBatch,
    Interaction,
    LedgerEntry,
    NameGram,
    Purchase,
    Tag,
)
from followups import summary
from followups.models import Answer, ClosureSummary, Followup, Improvement
from service.models import Step, Ticket, TicketNumber

from . import vocab
from .cards import CardRows
from .closures import ClosureRows
from .followups import FollowupRows
from .marker import MARKER
from .pgcopy import Copier
from .plan import Planning
from .tickets import TicketRows

TICKET_MODELS = (Ticket, Step, TicketNumber)
SUMMARY_COMMAND = "rebuild_service_summary"  # the service dashboard's summary (service/tally.py)


class Loader(Planning, CardRows, ClosureRows, FollowupRows, TicketRows):
    """One load: the plan, then every table in one transaction (see the command's docstring)."""

    def __init__(self, command, wanted: dict, *, staff: int, chunk: int):
        self.out = command.stdout
        self.style = command.style
        self.wanted = wanted
        self.n = wanted["customers"]
        self.m = wanted["closures"]
        self.staff_count = staff
        self.chunk = chunk
        self.rng = random.Random(wanted["seed"])
        self.now = int(time.time())
        # Local dates (DateField values) in the configured zone; its current offset is close enough.
        self.utc_offset = int(timezone.localtime().utcoffset().total_seconds())
        self.started = time.monotonic()

    # --- orchestration --------------------------------------------------------------------------
    def run(self) -> None:
        self.say(f"Loading {self.n:,} customers and {self.m:,} closures (seed {self.wanted['seed']}).")
        self.users()
        self.reasons()
        self.service_setup()
        self.created = self.creation_times()
        self.stories = self.closure_stories()
        self.say(f"planned {sum(len(s.events) for s in self.stories.values()):,} closures")
        # Inside a caller's transaction (a test) this is a savepoint: COPY FREEZE needs a table
        # truncated by the transaction itself and VACUUM needs none, so both are left out there.
        self.nested = connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as wrapper:
            cursor = wrapper.cursor  # the psycopg cursor, for COPY
            self.prepare(cursor)
            self.tags(cursor)
            self.customers(cursor)
            self.closures(cursor)
            self.after_the_closure(cursor)
            self.tickets(cursor)
            self.ticket_flags()
            self.namegrams(cursor)
            self.rebuild_indexes(cursor)
            self.finish(cursor)
            # The dashboard's tallies, recounted from the closures just loaded (DELETE, not TRUNCATE:
            # a second load in one test transaction would find the first one's deferred FK checks).
            written = tally.rebuild()
            main, staff, cohorts = written["main"], written["staff"], written["cohorts"]
            self.say(f"closure tallies: {main:,} + {staff:,} rows, cohort tally: {cohorts:,} rows")
        self.say("committed")
        self.vacuum()
        self.followup_summary()
        self.service_summary()
        self.done()

    def run_tickets(self, marker: dict) -> None:
        """Only the tickets: the cards and closures of ``marker`` stay as they are."""
        self.say(
            f"Adding {self.wanted['tickets']:,} tickets to the {self.n:,} customers loaded "
            f"(seed {self.wanted['seed']})."
        )
        self.users()
        self.service_setup()
        self.nested = connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as wrapper:
            cursor = wrapper.cursor
            self.prepare(cursor, TICKET_MODELS, outbox=False)
            self.tickets(cursor)
            self.ticket_flags()
            self.rebuild_indexes(cursor)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            self.sequences(cursor)
            self.mark(cursor, marker | self.wanted | {"cards_loaded_at": marker.get("loaded_at")})
        self.say("committed")
        self.vacuum()
        self.service_summary()
        self.done()

    def ticket_flags(self) -> None:
        """Each ticket's "card closed within 90 days after it opened" (closures/ticket_flags.py), set
        from the closures just loaded in one UPDATE, as the closure writes would have kept it."""
        began = time.monotonic()
        flagged = ticket_flags.fill()
        self.say(f"tickets closed within 90 days: {flagged:,} flagged in {time.monotonic() - began:.1f} s")

    def done(self) -> None:
        minutes, seconds = divmod(time.monotonic() - self.started, 60)
        self.out.write(self.style.SUCCESS(f"seed_scale done in {int(minutes)} min {seconds:.0f} s."))

    def service_summary(self) -> None:
        """The service dashboard's summary, recounted from the tickets just loaded (its own command)."""
        if SUMMARY_COMMAND not in get_commands():
            self.say(f"no {SUMMARY_COMMAND} command (yet): the service dashboard's summary is not filled")
            return
        began = time.monotonic()
        call_command(SUMMARY_COMMAND, stdout=self.out)
        self.say(f"{SUMMARY_COMMAND} done in {time.monotonic() - began:.1f} s")

    def copier(self, cursor, model) -> "Copier":
        return Copier(cursor, model=model, freeze=not self.nested)

    def say(self, message: str) -> None:
        self.out.write(f"[{time.monotonic() - self.started:7.1f} s] {message}")
        self.out.flush()

    # --- before the transaction ------------------------------------------------------------------
    def users(self) -> None:
        """A few dozen staff who own and close cards, some managers who reinstate, a few admins."""
        User = get_user_model()
        rng = random.Random(self.wanted["seed"] + 1)
        people = []
        roles = [(STAFF, "staff", self.staff_count), (MANAGER, "manager", 6), (ADMIN, "admin", 3)]
        for role, prefix, count in roles:
            group = Group.objects.get(name=role)
            for i in range(1, count + 1):
                surname = rng.choices(vocab.SURNAMES[:60], k=1)[0]
                user, created = User.objects.get_or_create(
                    username=f"scale_{prefix}{i:02d}",
                    defaults={"first_name": rng.choice(vocab.COMMON_GIVEN), "last_name": surname},
                )
                if created:
                    user.set_unusable_password()
                    user.is_staff = role == ADMIN
                    user.save()
                user.groups.add(group)
                people.append((role, user.pk, user.get_username()))
        self.staff_ids = [pk for role, pk, _n in people if role == STAFF]
        self.manager_ids = [pk for role, pk, _n in people if role == MANAGER]
        self.admin_ids = [pk for role, pk, _n in people if role == ADMIN]
        self.usernames = {pk: name for _r, pk, name in people}
        self.owner_cum = vocab.cumulative(vocab.zipf(len(self.staff_ids), s=0.5))
        self.say(f"{len(people)} users ready (scale_staff01.., scale_manager01.., scale_admin01..)")

    def reasons(self) -> None:
        """Weights per action over the reasons that exist (seeded by the closures migration)."""
        reasons = list(ClosureReason.objects.order_by("display_order", "id"))
        if not reasons:
            raise CommandError("No closure reasons: run `manage.py migrate` (closures seeds the default list).")
        self.reason_by_id = {r.pk: r for r in reasons}
        self.reason_choice = {}
        for action, categories in vocab.CATEGORY_WEIGHTS.items():
            ids, weights = [], []
            for category, weight in categories.items():
                group = [r for r in reasons if r.category == category and r.applies_to(action)]
                shares = vocab.zipf(len(group), s=1.2)
                for reason, share in zip(group, shares, strict=True):
                    ids.append(reason.pk)
                    weights.append(weight * share / sum(shares) * (1 if reason.is_active else 0.2))
            if not ids:  # a reason list without this action's categories: any reason for the action
                ids = [r.pk for r in reasons if r.applies_to(action)] or [reasons[-1].pk]
                weights = [1] * len(ids)
            self.reason_choice[action] = (ids, vocab.cumulative(weights))

    # --- inside the transaction -------------------------------------------------------------------
    def prepare(self, cursor, models=None, *, outbox: bool = True) -> None:
        """Empty the tables of ``models`` (every loaded table by default; the outbox, the audit trail
        and the jobs with them unless ``outbox`` is off), quieten the triggers, drop the secondary indexes."""
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        models = models or (
            Tag,
            ImportBatch,
            Customer,
            Customer.tags.through,
            Purchase,
            Interaction,
            NameGram,
            Closure,
            ClosureRequest,
            LedgerEntry,
            ContactConsent,
            Followup,
            Answer,
            ClosureSummary,
            Improvement,
            *TICKET_MODELS,
        )
        # The outbox goes too: its events are about closures and cards that are no longer there (the
        # seeded history writes none, so the follow-up planner has nothing to re-plan), and with the
        # event ids restarting, a consumer's floor must restart with them.
        self.tables = [m._meta.db_table for m in models]
        if outbox:
            events = [Event._meta.db_table, EventReceipt._meta.db_table, OutboxFloor._meta.db_table]
            self.tables += [AuditEntry._meta.db_table, Job._meta.db_table, *events]
        cursor.execute(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE")
        if superuser:
            # Triggers (the name-gram trigger, foreign-key checks) off for this transaction only.
            cursor.execute("SET LOCAL session_replication_role = replica")
            self.disabled_triggers = []
        else:
            # Not a superuser: switch off just the name-gram trigger(s) on the customer table.
            cursor.execute(
                """SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                   WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal AND p.prosrc ILIKE %s""",
                [Customer._meta.db_table, f"%{NameGram._meta.db_table}%"],
            )
            self.disabled_triggers = [row[0] for row in cursor.fetchall()]
            for name in self.disabled_triggers:
                cursor.execute(f'ALTER TABLE {Customer._meta.db_table} DISABLE TRIGGER "{name}"')
        # Secondary indexes (not backing a primary key or unique constraint) go, and come back at the end.
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i
               WHERE i.indrelid::regclass::text = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
            [self.tables],
        )
        self.dropped_indexes = cursor.fetchall()
        for name, _definition in self.dropped_indexes:
            cursor.execute(f"DROP INDEX {name}")
        self.say(f"tables emptied; {len(self.dropped_indexes)} secondary indexes dropped until the end")

    def namegrams(self, cursor) -> None:
        """The name grams of every card, by the very function the trigger uses when there is one
        (customers_name_grams, customers/migrations), so a loaded card and an edited one agree."""
        table, customers = NameGram._meta.db_table, Customer._meta.db_table
        cursor.execute("SELECT to_regprocedure('customers_name_grams(text)') IS NOT NULL")
        if cursor.fetchone()[0]:
            grams = "customers_name_grams(c.name) AS g(gram)"
        else:  # the same rule written out: each character and pair of the lower-cased name, no spaces
            grams = """LATERAL (SELECT DISTINCT substr(lower(c.name), i, k) AS gram
                                FROM generate_series(1, char_length(c.name)) AS i, (VALUES (1), (2)) AS n(k)
                                WHERE i + k - 1 <= char_length(c.name)) g
                       WHERE g.gram !~ '\\s'"""
        cursor.execute(f"INSERT INTO {table} (gram, customer_id) SELECT g.gram, c.id FROM {customers} c, {grams}")
        self.say(f"name grams {cursor.rowcount:,}")

    def rebuild_indexes(self, cursor) -> None:
        began = time.monotonic()
        for name, definition in self.dropped_indexes:
            one = time.monotonic()
            cursor.execute(definition)
            if time.monotonic() - one > 2:
                self.say(f"index {name} rebuilt in {time.monotonic() - one:.1f} s")
        self.say(f"{len(self.dropped_indexes)} indexes rebuilt in {time.monotonic() - began:.1f} s")
        for name in self.disabled_triggers:
            cursor.execute(f'ALTER TABLE {Customer._meta.db_table} ENABLE TRIGGER "{name}"')

    def finish(self, cursor) -> None:
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")  # triggers back on for the rest
        self.sequences(cursor)
        # Every card loaded with a balance or points opens its ledger, as migration customers 0014 does.
        # Its foreign keys are checked now, not at commit: a reseed in the same transaction (the tests)
        # could not TRUNCATE a table with checks still pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(import_module("customers.migrations.0014_ledger").OPENING_SQL)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # The epoch triggers were off during the load: counts cached before it must not be served.
        cursor.execute("UPDATE customers_cardepoch SET token = gen_random_uuid() WHERE id = 1")
        self.mark(cursor, dict(self.wanted))

    def sequences(self, cursor) -> None:
        """Identity sequences continue after the explicit ids written."""
        cursor.execute(
            """SELECT c.relname, pg_get_serial_sequence(c.relname, a.attname)
               FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id'
               WHERE c.relname = ANY(%s) AND pg_get_serial_sequence(c.relname, a.attname) IS NOT NULL""",
            [self.tables],
        )
        for table, sequence in cursor.fetchall():
            cursor.execute(f"SELECT setval(%s, GREATEST((SELECT max(id) FROM {table}), 1))", [sequence])

    def mark(self, cursor, marker: dict) -> None:
        """What was loaded (bench/scale/marker.py), with the ticket and step rows actually written."""
        marker.update(
            ticket_rows=self.ticket_count,
            step_rows=self.step_count,
            loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        comment = MARKER + json.dumps(marker)
        # COMMENT takes no bind parameters; Django's client-side binding quotes the literal.
        cursor.execute(f"COMMENT ON TABLE {Customer._meta.db_table} IS %s", [comment])

    def followup_summary(self) -> None:
        """The follow-up panels' per-closure summary, recomputed from the rows loaded, once they are
        committed and vacuumed. Inside the loading transaction its INSERT ... SELECT (correlated
        subqueries per closure over rows that transaction wrote and then updated) took 70 s for
        5,000 closures and had not finished after 10 minutes at 250,000; on committed, vacuumed
        rows the same statement takes 0.5 s for 5,000 closures (measured on a shared machine,
        where long transactions of other loads can still slow it: see docs/benchmarks.md)."""
        began = time.monotonic()
        # Its foreign keys checked now, not at commit: a reseed in the same transaction (the tests)
        # could not TRUNCATE a table with checks still pending.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            rows = summary.rebuild()
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        self.say(f"follow-up summary: {rows:,} rows in {time.monotonic() - began:.1f} s")

    def vacuum(self) -> None:
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"{'ANALYZE' if self.nested else 'VACUUM (ANALYZE)'} {table}")
        self.say("vacuumed and analysed")
