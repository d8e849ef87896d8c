"""`manage.py seed_scale --customers 1000000 --closures 250000`: a data set at production scale.

For the benchmark (`manage.py bench`, `make bench`) and for looking at query plans on a
realistic database. PostgreSQL only. It lives in analytics because it writes closures, and
analytics is the app allowed to import both closures and customers.

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

Reusable: a marker (a comment on the customer table) records what was loaded; running again
with the same sizes does nothing, ``--reset`` rebuilds. It never wipes a database that holds
customers it did not create.
"""

import json
import math
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from closures import tally
from closures.models import ACTION_STATUS, Closure, ClosureReason, ClosureRequest
from crm.models import AuditEntry, Job
from crm.roles import ADMIN, MANAGER, STAFF
from customers.models import Customer, Interaction, NameGram, Purchase, Tag

from . import _scale_data as vocab

MARKER = "seed_scale "
VERSION = 1
DAY = 86_400
YEAR = 365 * DAY
ERASED = "[erased]"
TAG_NAMES = ["VIP", "团购", "企业客户", "线上", "门店", "老客户推荐", "高潜力", "投诉过", "Newsletter", "生日月"]
# Chinese surname → a plausible pinyin for e-mail addresses (others get a generic word).
PINYIN = {"王": "wang", "李": "li", "张": "zhang", "刘": "liu", "陈": "chen", "杨": "yang", "黄": "huang",
          "吴": "wu", "赵": "zhao", "周": "zhou", "徐": "xu", "孙": "sun", "马": "ma", "朱": "zhu", "胡": "hu",
          "郭": "guo", "何": "he", "林": "lin", "高": "gao", "罗": "luo"}  # fmt: skip


@dataclass
class Story:
    """What happens to one closed card: its closures as (performed_at, action, reverted_at|None)."""

    events: list
    status: str
    end: int  # nothing is bought or logged on the card after this moment
    erased_at: int | None = None  # personal data deleted (by an "erase" closure, or later)

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


class Command(BaseCommand):
    help = "Load a large realistic data set into PostgreSQL with COPY (for `manage.py bench`)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1_000_000)
        parser.add_argument("--closures", type=int, default=250_000)
        parser.add_argument("--staff", type=int, default=36, help="Staff users owning the cards (default 36).")
        parser.add_argument("--seed", type=int, default=20_240_601, help="Random seed (same seed, same data).")
        parser.add_argument("--reset", action="store_true", help="Rebuild even if a data set is already loaded.")
        parser.add_argument("--chunk", type=int, default=50_000, help="Customers generated per COPY batch.")
        parser.add_argument("--nice", type=int, default=5, help="Lower this process's CPU priority (0: keep it).")

    def handle(self, *args, customers, closures, staff, seed, reset, chunk, nice, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale needs PostgreSQL (COPY, triggers, pg_trgm); this is "
                f"{connection.vendor}. Point DATABASE_URL at a dedicated database, e.g. "
                "DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_scale (createdb it and migrate first)."
            )
        if customers < 1 or closures < 0 or closures > customers:
            raise CommandError("--customers must be at least 1 and --closures between 0 and --customers.")
        wanted = {"version": VERSION, "customers": customers, "closures": closures, "seed": seed}
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
        if loaded and not reset:
            raise CommandError(
                f"This database holds a different seed_scale data set ({loaded.get('customers'):,} customers, "
                f"{loaded.get('closures'):,} closures, seed {loaded.get('seed')}); run with --reset to rebuild it."
            )
        if nice and hasattr(os, "nice"):
            os.nice(nice)  # a shared machine: let interactive work go first
        Loader(self, wanted, staff=staff, chunk=chunk).run()


def read_marker() -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(%s::regclass, 'pg_class')", [Customer._meta.db_table])
        comment = cursor.fetchone()[0] or ""
    if not comment.startswith(MARKER):
        return None
    try:
        return json.loads(comment[len(MARKER) :])
    except ValueError:
        return None


def counts_match(marker: dict) -> bool:
    """The marker survives a TRUNCATE (or `flush`); the rows must still be there."""
    return (
        Customer.objects.count() >= marker["customers"]
        and Closure.objects.count() >= marker["closures"]
        and NameGram.objects.exists() == (marker["customers"] > 0)
    )


class Copier:
    """COPY rows of a model into its table; unknown columns (added later) get their defaults."""

    def __init__(self, cursor, *, model, freeze: bool = True):
        self.cursor = cursor
        self.table = model._meta.db_table
        self.columns = []
        self.defaults = {}
        for field in model._meta.concrete_fields:
            if field.primary_key and not field.column:
                continue
            self.columns.append(field.column)
            self.defaults[field.column] = default_text(field)
        self.sql = (
            f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN WITH (FREEZE {'true' if freeze else 'false'})"
        )
        self.rows = 0

    def line(self, row: dict) -> str:
        defaults = self.defaults
        return "\t".join(row[c] if c in row else defaults[c] for c in self.columns)

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        with self.cursor.copy(self.sql) as copy:
            copy.write("\n".join(lines) + "\n")
        self.rows += len(lines)


def default_text(field) -> str:
    """COPY text for a field left at its default (for columns this loader does not know)."""
    value = field.get_default()
    if value is None:
        return r"\N" if field.null else ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return esc(json.dumps(value, ensure_ascii=False))
    return esc(str(value))


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def esc(text: str) -> str:
    return text.translate(_ESCAPES)


def ts(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(seconds))


def money(amount: float) -> str:
    return f"{amount:.2f}"


class Loader:
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
            self.namegrams(cursor)
            self.rebuild_indexes(cursor)
            self.finish(cursor)
            # The dashboard's tallies, recounted from the closures just loaded (DELETE, not TRUNCATE:
            # a second load in one test transaction would find the first one's deferred FK checks).
            written = tally.rebuild()
            self.say(f"closure tallies: {written['main']:,} + {written['staff']:,} rows")
        self.say("committed")
        self.vacuum()
        minutes, seconds = divmod(time.monotonic() - self.started, 60)
        self.out.write(self.style.SUCCESS(f"seed_scale done in {int(minutes)} min {seconds:.0f} s."))

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

    def creation_times(self) -> list[int]:
        """Card creation over five years, more recent years busier (the company grows). Sorted, so
        ids rise with time as they do in a real table."""
        rnd, start = self.rng.random, self.now - 5 * YEAR
        span = 5 * YEAR - DAY
        return sorted(start + int(span * math.sqrt(rnd())) for _ in range(self.n))

    def closure_time(self, lo: int, hi: int) -> int:
        """A moment in [lo, hi): churn rises over the three years and peaks after the New Year."""
        rng = self.rng
        for _ in range(50):
            t = rng.randrange(lo, hi)
            month = time.gmtime(t).tm_mon
            weight = (1.35 if month in (2, 3) else 1.0 if month != 8 else 0.8) * (
                0.75 + 0.5 * (t - (self.now - 3 * YEAR)) / (3 * YEAR)
            )
            if rng.random() * 1.7 < weight:
                return t
        return lo

    def closure_stories(self) -> dict[int, Story]:
        """Which cards were closed, how, and whether reinstated: about 4 % reinstated for good, 3 %
        reinstated then closed again; open closures mostly close, some void, archive, erase, and a
        few closed cards erased later (their closure stays, marked customer_erased)."""
        rng, rnd = self.rng, self.rng.random
        stories: dict[int, Story] = {}
        planned = 0
        window_start = self.now - 3 * YEAR
        candidates = list(range(1, self.n + 1))
        rng.shuffle(candidates)
        for cid in candidates:
            if planned >= self.m:
                break
            lo = max(window_start, self.created[cid - 1] + 7 * DAY)
            hi = self.now - 3600
            if hi - lo < 12 * DAY:
                continue
            kind = rnd()
            if kind < 0.04 or (kind < 0.07 and self.m - planned >= 2):
                first = self.closure_time(lo, hi - 11 * DAY)
                action = rng.choices(vocab.REVERTED_ACTIONS, cum_weights=vocab.REVERTED_ACTION_CUM)[0]
                reverted = first + rng.randrange(3600, min(20 * DAY, hi - first - DAY))
                events = [(first, action, reverted)]
                if kind >= 0.04:  # reinstated, then closed again later
                    second = self.closure_time(reverted + DAY, hi) if reverted + DAY < hi - 60 else hi - 1
                    action2 = rng.choices(vocab.OPEN_ACTIONS, cum_weights=vocab.OPEN_ACTION_CUM)[0]
                    events.append((second, action2, None))
                    stories[cid] = Story(events, status_of(action2), first, second if action2 == "erase" else None)
                else:
                    stories[cid] = Story(events, Customer.Status.ACTIVE, self.now)
            else:
                when = self.closure_time(lo, hi)
                action = rng.choices(vocab.OPEN_ACTIONS, cum_weights=vocab.OPEN_ACTION_CUM)[0]
                erased_at = when if action == "erase" else None
                if erased_at is None and hi - when > 3 * DAY and rnd() < 0.015:
                    erased_at = when + rng.randrange(DAY, min(200 * DAY, hi - when))
                status = Customer.Status.ERASED if erased_at else status_of(action)
                stories[cid] = Story([(when, action, None)], status, when, erased_at)
            planned += len(stories[cid].events)
        if planned < self.m:
            raise CommandError(f"Could only plan {planned:,} closures over {self.n:,} customers; ask for fewer.")
        return stories

    # --- inside the transaction -------------------------------------------------------------------
    def prepare(self, cursor) -> None:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        models = (Tag, Customer, Customer.tags.through, Purchase, Interaction, NameGram, Closure, ClosureRequest)
        self.tables = [m._meta.db_table for m in models] + [AuditEntry._meta.db_table, Job._meta.db_table]
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

    def tags(self, cursor) -> None:
        copier = self.copier(cursor, Tag)
        copier.write([copier.line({"id": str(i), "name": name}) for i, name in enumerate(TAG_NAMES, 1)])
        self.tag_ids = list(range(1, len(TAG_NAMES) + 1))

    def customers(self, cursor) -> None:
        copiers = {
            "customer": self.copier(cursor, Customer),
            "tags": self.copier(cursor, Customer.tags.through),
            "purchase": self.copier(cursor, Purchase),
            "interaction": self.copier(cursor, Interaction),
        }
        self.snapshots = {}  # the cards that get closures or a pending request: what the closure copies
        self.pending = set(self.rng.sample(range(1, self.n + 1), min(300, self.n // 1000)))
        self.pending -= set(self.stories)
        counters = {"purchase": 0, "interaction": 0, "tags": 0}
        for first in range(1, self.n + 1, self.chunk):
            lines = {key: [] for key in copiers}
            for cid in range(first, min(first + self.chunk, self.n + 1)):
                self.customer(cid, lines, counters, copiers)
            for key in ("customer", "tags", "purchase", "interaction"):
                copiers[key].write(lines[key])
            if (first - 1) % (self.chunk * 4) == 0 or first + self.chunk > self.n:
                self.say(
                    f"customers {copiers['customer'].rows:,} / purchases {copiers['purchase'].rows:,} "
                    f"/ interactions {copiers['interaction'].rows:,}"
                )

    def customer(self, cid: int, lines: dict, counters: dict, copiers: dict) -> None:
        rng, rnd, choices = self.rng, self.rng.random, self.rng.choices
        created = self.created[cid - 1]
        story = self.stories.get(cid)
        end = story.end if story else self.now
        erased = bool(story and story.erased)
        chinese = rnd() < 0.75
        if chinese:
            surname = (
                rng.choice(vocab.COMPOUND_SURNAMES)
                if rnd() < 0.004
                else choices(vocab.SURNAMES, cum_weights=vocab.SURNAME_CUM)[0]
            )
            style = rnd()
            if style < 0.25:
                given = choices(vocab.GIVEN_POOL, cum_weights=vocab.GIVEN_CUM)[0]
            elif style < 0.5:
                given = rng.choice(vocab.COMMON_GIVEN)
            else:
                given = "".join(choices(vocab.GIVEN_POOL, cum_weights=vocab.GIVEN_CUM, k=2))
            name = surname + given
            word = PINYIN.get(surname, "user")
        else:
            first_name = choices(vocab.EN_FIRST, cum_weights=vocab.EN_FIRST_CUM)[0]
            last_name = choices(vocab.EN_LAST, cum_weights=vocab.EN_LAST_CUM)[0]
            name = f"{first_name} {last_name}"
            word = f"{first_name}.{last_name}".lower()
        city = choices(vocab.CITIES, cum_weights=vocab.CITY_CUM)[0] if rnd() < 0.92 else ""
        segment = "potential" if (s := rnd()) < 0.45 else "regular" if s < 0.88 else "key"
        owner = choices(self.staff_ids, cum_weights=self.owner_cum)[0] if rnd() < 0.95 else None
        balance = 0.0
        if rnd() < (0.55 if segment == "key" else 0.25):
            balance = min(50_000.0, rng.lognormvariate(5.6 if segment == "key" else 4.8, 1.0))
        points = 0 if rnd() < 0.5 else int(rng.lognormvariate(6.0, 1.2))
        row = {
            "id": str(cid),
            "customer_no": f"C{cid:07d}",
            "segment": segment,
            "owner_id": str(owner) if owner else r"\N",
            "balance": money(balance),
            "points": str(points),
            "status": story.status if story else Customer.Status.ACTIVE,
            "created_at": ts(created),
        }
        if erased:
            row.update(
                name=ERASED, gender="", birth_date=r"\N", phone="", phone_rev="", email="", wechat="", address=""
            )
            row.update(occupation="", company="", title="", preferences="", city=city)
        else:
            phone = self.phone(rnd)
            row.update(
                name=name,
                gender=("f" if (g := rnd()) < 0.48 else "m" if g < 0.96 else ""),
                birth_date=(
                    time.strftime("%Y-%m-%d", time.gmtime(rng.randrange(-20 * YEAR, 36 * YEAR)))
                    if rnd() < 0.65
                    else r"\N"
                ),
                phone=phone,
                phone_rev="".join(ch for ch in reversed(phone) if ch.isdigit()),
                email=(
                    f"{word}{rng.randrange(1, 100_000)}@"
                    + choices(vocab.EMAIL_DOMAINS, cum_weights=vocab.EMAIL_DOMAIN_CUM)[0]
                    if rnd() < 0.65
                    else ""
                ),
                wechat=(rng.choice(vocab.WECHAT_PREFIXES) + f"{word[:6]}{rng.randrange(100, 99_999)}")
                if rnd() < 0.4
                else "",
                city=city,
                address=(
                    f"{city or '上海'}{rng.choice(vocab.DISTRICTS)}{rng.choice(vocab.ROADS)}{rng.randrange(1, 999)}号"
                    if rnd() < 0.5
                    else ""
                ),
                occupation=rng.choice(vocab.OCCUPATIONS) if rnd() < 0.4 else "",
                preferences=rng.choice(vocab.PREFERENCES) if rnd() < 0.2 else "",
            )
            company = rnd() < 0.3
            row.update(
                company=rng.choice(vocab.COMPANIES) if company else "",
                title=rng.choice(vocab.TITLES) if company else "",
            )
        # Purchases: about a third buy nothing; the rest a geometric number of times.
        recorder = owner or self.staff_ids[0]
        count, total, last_bought = 0, 0.0, None
        if rnd() >= 0.3:
            count = min(40, 1 + int(math.log(1.0 - rnd()) / math.log(0.62)))
            purchases = lines["purchase"]
            copier = copiers["purchase"]
            for _ in range(count):
                when = rng.randrange(created, max(end, created + 1))
                amount = round(rng.lognormvariate(5.2, 0.9), 2)
                total += amount
                day = time.strftime("%Y-%m-%d", time.gmtime(when + self.utc_offset))
                last_bought = max(last_bought or day, day)
                counters["purchase"] += 1
                purchases.append(
                    copier.line(
                        {
                            "id": str(counters["purchase"]),
                            "customer_id": row["id"],
                            "product": choices(vocab.PRODUCTS, cum_weights=vocab.PRODUCT_CUM)[0],
                            "quantity": "1" if rnd() < 0.8 else str(rng.randrange(2, 4)),
                            "amount": money(amount),
                            "purchased_on": day,
                            "recorded_by_id": str(recorder),
                            "created_at": ts(when),
                        }
                    )
                )
        last_contact = None
        if rnd() >= 0.35:
            interactions = lines["interaction"]
            copier = copiers["interaction"]
            for _ in range(min(30, 1 + int(math.log(1.0 - rnd()) / math.log(0.55)))):
                when = rng.randrange(created, max(end, created + 1))
                last_contact = max(last_contact or when, when)
                counters["interaction"] += 1
                interactions.append(
                    copier.line(
                        {
                            "id": str(counters["interaction"]),
                            "customer_id": row["id"],
                            "kind": choices(vocab.INTERACTION_KINDS, cum_weights=vocab.INTERACTION_KIND_CUM)[0],
                            "occurred_at": ts(when),
                            "by_id": str(recorder),
                            "summary": ERASED if erased else rng.choice(vocab.INTERACTION_SUMMARIES),
                            "outcome": "" if erased else rng.choice(vocab.INTERACTION_OUTCOMES),
                            "created_at": ts(when),
                        }
                    )
                )
        if rnd() < 0.2 and not erased:
            for tag in rng.sample(self.tag_ids, 1 if rnd() < 0.7 else 2):
                counters["tags"] += 1
                lines["tags"].append(
                    copiers["tags"].line({"id": str(counters["tags"]), "customer_id": row["id"], "tag_id": str(tag)})
                )
        last_event = max([max(e[0], e[2] or 0) for e in story.events] + [story.erased_at or 0]) if story else 0
        row.update(
            purchase_count=str(count),
            purchase_total=money(total),
            last_purchase_on=last_bought or r"\N",
            last_interaction_at=ts(last_contact) if last_contact else r"\N",
            stage=(
                "prospect" if count == 0 else "first_purchase" if count == 1 else "repeat" if count < 5 else "loyal"
            ),
            updated_at=ts(max(created, last_contact or 0, last_event, created + int(rnd() * (end - created)))),
        )
        lines["customer"].append(copiers["customer"].line(row))
        if story or cid in self.pending:
            self.snapshots[cid] = (segment, owner, row["balance"], points, created)

    def phone(self, rnd) -> str:
        """E.164, as the app stores it: mostly Chinese mobiles, a few foreign numbers, a few none."""
        r = rnd()
        if r < 0.02:
            return ""
        if r < 0.04:
            code, digits = self.rng.choice(vocab.FOREIGN_PHONES)
            return f"+{code}{self.rng.randrange(10 ** (digits - 1), 10**digits)}"
        return f"+86{self.rng.choice(vocab.MOBILE_PREFIXES)}{self.rng.randrange(0, 10**8):08d}"

    def closures(self, cursor) -> None:
        """Closures in time order, with the card's snapshot, audit entries and pending requests."""
        rng, rnd = self.rng, self.rng.random
        events = sorted(
            (when, cid, action, reverted) for cid, s in self.stories.items() for when, action, reverted in s.events
        )
        closure_copier, audit_copier = self.copier(cursor, Closure), self.copier(cursor, AuditEntry)
        closures, audits = [], []
        labels = {"close": "Close card", "void": "Void record", "archive": "Archive", "erase": "Delete"}
        for closure_id, (when, cid, action, reverted) in enumerate(events, 1):
            story = self.stories[cid]
            segment, owner, balance, points, created = self.snapshots[cid]
            ids, cum = self.reason_choice[action]
            reason = self.reason_by_id[rng.choices(ids, cum_weights=cum)[0]]
            notes = ""
            if reason.requires_notes or rnd() < 0.35:
                notes = rng.choice(vocab.NOTES.get(reason.category, vocab.NOTES["other"]))
            settlement = rng.choice(vocab.SETTLEMENT_NOTES) if balance != "0.00" or points else ""
            performer = rng.choice(self.admin_ids if action == "erase" else self.staff_ids + self.manager_ids)
            reverter = rng.choice(self.manager_ids) if reverted else None
            revert_note = rng.choice(vocab.REVERT_NOTES) if reverted else ""
            duplicate_of = ""
            if reason.category == "duplicate" and rnd() < 0.8:
                duplicate_of = str(max(1, cid - rng.randrange(1, 5000)))
            # Erasure wipes every note on the card's closures, and redacts them in its audit entries.
            kept = (lambda text: "") if story.erased else esc
            redacted = (lambda text: ERASED if text else "") if story.erased else esc
            row = {
                "id": str(closure_id),
                "customer_id": str(cid),
                "action": action,
                "reason_id": str(reason.pk),
                "category": reason.category,
                "notes": kept(notes),
                "duplicate_of_id": duplicate_of or r"\N",
                "previous_status": Customer.Status.ACTIVE,
                "balance_at_closure": balance,
                "points_at_closure": str(points),
                "settlement_note": kept(settlement),
                "segment": segment,
                "owner_id": str(owner) if owner else r"\N",
                "tenure_days": str(max(0, (when - created) // DAY)),
                "performed_by_id": str(performer),
                "performed_at": ts(when),
                "requested_by_id": r"\N",
                "nonce": f"seed-{closure_id}",
                "reverted_at": ts(reverted) if reverted else r"\N",
                "reverted_by_id": str(reverter) if reverter else r"\N",
                "revert_note": kept(revert_note),
                "customer_erased": "t" if story.erased else "f",
            }
            closures.append(closure_copier.line(row))
            status = status_of(action)
            entry = self.audit(len(audits) + 1, when, performer, f"closure.{action}", closure_id, cid, labels[action])
            entry.update(
                changes=json.dumps({"status": ["active", status]}), reason=reason.label_en, notes=redacted(notes)
            )
            audits.append(audit_copier.line(entry))
            if reverted:
                entry = self.audit(len(audits) + 1, reverted, reverter, "closure.reinstate", closure_id, cid, "")
                entry.update(summary="Card reinstated", changes=json.dumps({"status": [status, "active"]}))
                entry.update(reason=reason.label_en, notes=redacted(revert_note))
                audits.append(audit_copier.line(entry))
            if story.erased and action != "erase" and not reverted:  # closed first, personal data deleted later
                admin = rng.choice(self.admin_ids)
                entry = self.audit(len(audits) + 1, story.erased_at, admin, "closure.erase", closure_id, cid, "")
                entry.update(summary="Personal data deleted", changes=json.dumps({"status": [status, "erased"]}))
                audits.append(audit_copier.line(entry))
        closure_copier.write(closures)
        audit_copier.write(audits)
        requests = self.copier(cursor, ClosureRequest)
        request_lines = []
        for request_id, cid in enumerate(sorted(self.pending), 1):
            ids, cum = self.reason_choice["close"]
            reason = self.reason_by_id[rng.choices(ids, cum_weights=cum)[0]]
            _segment, _owner, balance, points, _created = self.snapshots[cid]
            request_lines.append(
                requests.line(
                    {
                        "id": str(request_id),
                        "customer_id": str(cid),
                        "action": "close",
                        "reason_id": str(reason.pk),
                        "notes": rng.choice(vocab.NOTES.get(reason.category, vocab.NOTES["other"])),
                        "duplicate_of_id": r"\N",
                        "requested_by_id": str(rng.choice(self.staff_ids)),
                        "requested_at": ts(self.now - rng.randrange(60, 14 * DAY)),
                        "state": ClosureRequest.State.PENDING,
                        "decided_by_id": r"\N",
                        "decided_at": r"\N",
                        "closure_id": r"\N",
                        "nonce": r"\N",
                        "balance_seen": balance,
                        "points_seen": str(points),
                    }
                )
            )
        requests.write(request_lines)
        self.say(
            f"closures {closure_copier.rows:,}, audit entries {audit_copier.rows:,}, pending requests {requests.rows}"
        )

    def audit(self, pk, when, actor, action, closure_id, cid, summary) -> dict:
        """An audit entry as the closure operations write it (crm.audit.record)."""
        return {
            "id": str(pk),
            "at": ts(when),
            "actor_id": str(actor),
            "actor_name": self.usernames[actor],
            "ip": r"\N",
            "action": action,
            "object_type": "closure",
            "object_id": str(closure_id),
            "customer_id": str(cid),
            "summary": summary,
            "changes": "{}",
        }

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
        # Identity sequences continue after the explicit ids written above.
        cursor.execute(
            """SELECT c.relname, pg_get_serial_sequence(c.relname, a.attname)
               FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id'
               WHERE c.relname = ANY(%s) AND pg_get_serial_sequence(c.relname, a.attname) IS NOT NULL""",
            [self.tables],
        )
        for table, sequence in cursor.fetchall():
            cursor.execute(f"SELECT setval(%s, GREATEST((SELECT max(id) FROM {table}), 1))", [sequence])
        marker = dict(self.wanted, loaded_at=datetime.now(UTC).isoformat(timespec="seconds"))
        comment = MARKER + json.dumps(marker)
        # COMMENT takes no bind parameters; Django's client-side binding quotes the literal.
        cursor.execute(f"COMMENT ON TABLE {Customer._meta.db_table} IS %s", [comment])

    def vacuum(self) -> None:
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"{'ANALYZE' if self.nested else 'VACUUM (ANALYZE)'} {table}")
        self.say("vacuumed and analysed")


def status_of(action: str) -> str:
    return str(ACTION_STATUS[action])
