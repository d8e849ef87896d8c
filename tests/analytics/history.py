"""A closure history with every awkward case, and an oracle that recomputes the figures in plain Python.

The oracle never touches the ORM's filtering or aggregation: it works on the Python
objects the factories returned, converting UTC timestamps to Shanghai local dates with
zoneinfo. The app's figures are checked against it.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from closures.models import ClosureReason
from customers.models import Customer
from tests.factories import ClosureFactory, ClosureReasonFactory, CustomerFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
FORMULA_NOTES = ['=HYPERLINK("http://evil.example","x")', "+86 call back", "-5 points", "@SUM(A1:A9)", "\tindented"]
FORMULA_NOTES += ["\rreturned"]
BANDS = [("lt3m", 0, 90), ("3to12m", 90, 365), ("1to2y", 365, 730), ("2to3y", 730, 1095), ("gt3y", 1095, 10**9)]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def band_of(days: int) -> str:
    return next(key for key, low, high in BANDS if low <= days < high)


@dataclass
class History:
    customers: list = field(default_factory=list)
    closures: list = field(default_factory=list)
    reasons: dict = field(default_factory=dict)
    staff: list = field(default_factory=list)
    owners: list = field(default_factory=list)


def build_history(seed: int = 7, n_customers: int = 90) -> History:
    """About 120 closures from October 2023 to April 2024, with reverts, erasures, formula notes,
    a retired reason, an HTML-looking reason, and two closures either side of a local month end."""
    rng = random.Random(seed)
    h = History()
    h.reasons = {code: ClosureReason.objects.get(code=code) for code in ("price", "service", "moved-away", "duplicate")}
    h.reasons["retired"] = ClosureReasonFactory(
        code="retired-one", label_en="Old loyalty scheme ended", label_zh="旧会员计划结束", category="product",
        is_active=False,
    )  # fmt: skip
    h.reasons["html"] = ClosureReasonFactory(
        code="html-one", label_en="<b>Rude</b> & <script>alert(1)</script>", label_zh="<i>粗鲁</i>", category="service"
    )
    h.staff = [UserFactory(username=f"closer{i}", first_name=f"Closer{i}", last_name="王") for i in range(4)]
    h.owners = [UserFactory(username=f"owner{i}") for i in range(3)]
    segments = [Customer.Segment.POTENTIAL, Customer.Segment.REGULAR, Customer.Segment.KEY]
    reason_codes = list(h.reasons)
    start, span = utc(2023, 10, 1), (utc(2024, 5, 1) - utc(2023, 10, 1)).total_seconds()
    for i in range(n_customers):
        created = utc(2020, 1, 1) + timedelta(days=rng.randint(0, 1500), hours=rng.randint(0, 23))
        customer = CustomerFactory(
            customer_no=f"H{i:05d}",
            name=rng.choice(["张伟", "王芳", "李娜", "Lily Chen", "刘洋"]) + str(i),
            segment=rng.choice(segments),
            owner=rng.choice(h.owners + [None]),
            created_at=created,
        )
        h.customers.append(customer)
        if i % 4 == 3:
            continue  # a quarter never closed: active all along
        when = start + timedelta(seconds=rng.random() * span)
        if when <= created:
            when = created + timedelta(days=3)
        reverted = rng.random() < 0.25
        h.closures.append(_close(rng, h, customer, when, reason_codes, reverted=reverted))
        if reverted and rng.random() < 0.5:
            again = h.closures[-1].reverted_at + timedelta(days=rng.randint(1, 30))
            h.closures.append(_close(rng, h, customer, again, reason_codes, reverted=False))
    # Either side of the end of January in Shanghai: 23:30 on the 31st, 00:30 on 1 February.
    for n, moment in enumerate((local(2024, 1, 31, 23, 30), local(2024, 2, 1, 0, 30))):
        customer = CustomerFactory(customer_no=f"EDGE{n}", segment="regular", created_at=utc(2021, 6, 1))
        h.customers.append(customer)
        h.closures.append(_close(rng, h, customer, moment, ["price"], reverted=False))
    # Erased customers: the erase itself, and an older closure of a card erased later.
    for n in range(3):
        customer = CustomerFactory(customer_no=f"ERASED{n}", name="", status="erased", created_at=utc(2022, 1, 1))
        h.customers.append(customer)
        action = "erase" if n < 2 else "close"
        closure = ClosureFactory(
            customer=customer, action=action, reason=h.reasons["duplicate" if n < 2 else "price"],
            performed_at=utc(2024, 2, 10 + n, 3), performed_by=h.staff[n], segment="regular", tenure_days=770,
            customer_erased=True, notes="",
        )  # fmt: skip
        h.closures.append(closure)
    return h


def _close(rng, h: History, customer, when: datetime, codes, *, reverted: bool):
    reason = h.reasons[rng.choice(codes)]
    action = "void" if reason.code == "duplicate" else rng.choice(["close", "close", "close", "archive"])
    roll = rng.random()
    notes = rng.choice(FORMULA_NOTES) if roll < 0.15 else ("客户搬家到北京，电话已停机" if roll < 0.4 else "")
    reverted_at = when + timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 23)) if reverted else None
    return ClosureFactory(
        customer=customer,
        action=action,
        reason=reason,
        category=reason.category,
        segment=customer.segment,
        owner=customer.owner,
        tenure_days=max((when - customer.created_at).days, 0),
        performed_by=rng.choice(h.staff),
        performed_at=when,
        notes=notes,
        reverted_at=reverted_at,
        reverted_by=rng.choice(h.staff) if reverted else None,
        revert_note="客户回心转意" if reverted else "",
    )


# --- the oracle ---------------------------------------------------------------------------
@dataclass
class Filters:
    first: date | None
    last: date
    action: str = ""
    category: str = ""
    reason: object = None
    segment: str = ""
    owner: object = None
    by: object = None
    tenure: str = ""
    include_reverted: bool = False

    def query(self) -> dict:
        q = {"period": "custom", "end": self.last.isoformat()}
        if self.first:
            q["start"] = self.first.isoformat()
        for name in ("action", "category", "segment", "tenure"):
            if getattr(self, name):
                q[name] = getattr(self, name)
        for name in ("reason", "owner", "by"):
            if getattr(self, name) is not None:
                q[name] = str(getattr(self, name).pk)
        if self.include_reverted:
            q["reverted"] = "1"
        return q

    def matches_slice(self, c) -> bool:
        """Every filter except the period and the reverted rule."""
        return (
            (not self.action or c.action == self.action)
            and (not self.category or c.category == self.category)
            and (self.reason is None or c.reason_id == self.reason.pk)
            and (not self.segment or c.segment == self.segment)
            and (self.owner is None or c.owner_id == self.owner.pk)
            and (self.by is None or c.performed_by_id == self.by.pk)
            and (not self.tenure or band_of(c.tenure_days) == self.tenure)
        )

    def in_days(self, moment, first, last) -> bool:
        day = local_day(moment)
        return (first is None or day >= first) and day <= last

    def select(self, closures, first=None, last=None) -> list:
        first, last = (first, last) if last else (self.first, self.last)
        return [
            c
            for c in closures
            if self.matches_slice(c)
            and (self.include_reverted or c.reverted_at is None)
            and self.in_days(c.performed_at, first, last)
        ]

    def previous(self) -> tuple[date, date]:
        days = (self.last - self.first).days + 1
        last = self.first - timedelta(days=1)
        return last - timedelta(days=days - 1), last


def count_by(rows, key) -> dict:
    out: dict = {}
    for row in rows:
        k = key(row)
        out[k] = out.get(k, 0) + 1
    return out


def in_population(customer, f: Filters) -> bool:
    """The card filters, on the card's current values (they narrow both sides of the churn rate)."""
    return (not f.segment or customer.segment == f.segment) and (f.owner is None or customer.owner_id == f.owner.pk)


def active_during(h: History, f: Filters, first: date | None, last: date) -> int:
    """Cards that were customers, and not closed, void, archived or erased, at some moment of the days."""
    start, end = (midnight(first) if first else None), midnight(last + timedelta(days=1))
    n = 0
    for customer in h.customers:
        if not in_population(customer, f) or customer.customer_since > last:
            continue
        inactive_throughout = start is not None and any(
            c.customer_id == customer.pk and c.performed_at < start and (c.reverted_at is None or c.reverted_at >= end)
            for c in h.closures
        )
        n += not inactive_throughout
    return n


def churned(h: History, f: Filters, first: date | None, last: date) -> int:
    cards = {customer.pk: customer for customer in h.customers}
    return len(
        {
            c.customer_id
            for c in h.closures
            if c.action == (f.action or "close")
            and (f.include_reverted or c.reverted_at is None)
            and f.in_days(c.performed_at, first, last)
            and in_population(cards[c.customer_id], f)
        }
    )


def churn_rate(h: History, f: Filters, first: date | None, last: date) -> float | None:
    """Cards closed in the days ÷ cards active at any time in them; None with a closure filter."""
    if f.category or f.reason is not None or f.by is not None or f.tenure:
        return None
    population = active_during(h, f, first, last)
    return churned(h, f, first, last) / population if population else None


def expected(h: History, f: Filters) -> dict:
    rows = f.select(h.closures)
    total = len(rows)
    closed_cards = len({c.customer_id for c in rows if c.action == "close"})
    out = {
        "total": total,
        "by_action": count_by(rows, lambda c: c.action),
        "by_reason": count_by(rows, lambda c: c.reason_id),
        "by_category": count_by(rows, lambda c: c.category),
        "by_segment": count_by(rows, lambda c: c.segment),
        "by_tenure": count_by(rows, lambda c: band_of(c.tenure_days)),
        "by_staff": count_by(rows, lambda c: c.performed_by_id),
        "by_month": count_by(rows, lambda c: (local_day(c.performed_at).replace(day=1), c.category)),
        "closed_cards": closed_cards,
        "reinstated": sum(
            1
            for c in h.closures
            if f.matches_slice(c) and c.reverted_at is not None and f.in_days(c.reverted_at, f.first, f.last)
        ),
        "rows": rows,
    }
    out.update(churn=churn_rate(h, f, f.first, f.last), population=active_during(h, f, f.first, f.last))
    if f.first:
        prev_first, prev_last = f.previous()
        out.update(
            previous_total=len(f.select(h.closures, prev_first, prev_last)),
            previous_churn=churn_rate(h, f, prev_first, prev_last),
        )
    return out
