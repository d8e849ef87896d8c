"""`manage.py seed_demo`: demo logins and about 2,000 customers so every page has something to show.

Development only (DEBUG): the demo users share a published password. Deterministic (seeded
Faker and random), fast (bulk inserts, card figures computed from the generated rows in one
pass) and idempotent: a second run finds the demo data set and changes nothing.

It lives in analytics because analytics may import every app (closures are seeded here too,
once the closure operations exist: see seed_closures; and what follows them, through the follow-up
planner: analytics/demo_followups.py).
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker

from analytics.demo_followups import seed_followups
from analytics.demo_insights import score_before_closures, seed_insights
from analytics.demo_service import seed_service
from crm.models import AuditEntry
from crm.roles import ADMIN, MANAGER, STAFF
from customers import ledger
from customers.models import Customer, Interaction, LedgerEntry, Purchase, Tag
from customers.phones import normalise_phone

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (published in the README; refused outside DEBUG)
DEMO_USERS = [
    ("staff", STAFF, "Li", "Na"),
    ("manager", MANAGER, "Wang", "Fang"),
    ("admin", ADMIN, "Zhao", "Lei"),
]
DEMO_CUSTOMERS = 2000
SEED = 2026
# Demo cards are numbered C000001..C002000; the last one marks a complete data set.
FIRST_NO, LAST_NO = "C000001", f"C{DEMO_CUSTOMERS:06d}"
CHINESE_SHARE = 0.7
HISTORY_DAYS = 548  # about 18 months
LEGACY_SOURCE = "旧系统 Legacy CRM"
STORE_SOURCE = "门店 Store"

CITIES = [
    "上海",
    "北京",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "南京",
    "武汉",
    "西安",
    "苏州",
    "重庆",
    "天津",
    "厦门",
    "青岛",
]
STREETS = ["人民路", "中山路", "解放路", "建设路", "长江路", "和平街", "南京路", "科技园路", "滨江大道", "文化路"]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "198",
    "199",
]
TAGS = ["VIP", "Newsletter", "生日关怀", "企业客户", "线上", "门店", "老客户推荐", "团购"]
PRODUCTS = [
    ("会员年卡", Decimal("199.00")),
    ("护肤套装", Decimal("368.00")),
    ("咖啡豆 500g", Decimal("88.00")),
    ("智能手环", Decimal("249.00")),
    ("Gift card", Decimal("500.00")),
    ("Yoga class pack", Decimal("960.00")),
    ("茶叶礼盒", Decimal("299.00")),
    ("Wireless earbuds", Decimal("599.00")),
    ("定制西装", Decimal("2680.00")),
    ("Annual service plan", Decimal("1200.00")),
]
SUMMARIES = [
    ("回访客户，确认满意度", "满意"),
    ("介绍新品，客户有兴趣", "待跟进"),
    ("处理退换货咨询", "已解决"),
    ("生日祝福及优惠券", "已发送"),
    ("Asked about delivery times", "Answered"),
    ("Follow-up on the last order", "Happy"),
    ("客户投诉配送延迟", "已致歉并补偿"),
    ("邀请参加会员活动", "已报名"),
    ("Price enquiry for a bulk order", "Quote sent"),
]


@dataclass
class Card:
    """One generated customer with its purchases and interactions, before anything is saved."""

    customer: Customer
    purchases: list[Purchase] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def demo_settlement(customer: Customer, action: str, rng: random.Random) -> dict:
    """How a demo closure settles the card's money (closures/settlement.py): archived cards keep it,
    the others are refunded (points forfeited with the refund) or, holding only points, forfeit them."""
    if not (customer.balance or customer.points):
        return {}
    if action == "archive":
        return {"settlement": "keep"}
    if customer.balance:
        return {"settlement": "refund", "settlement_method": rng.choice(["cash", "wechat", "alipay", "original"])}
    return {"settlement": "forfeit", "forfeit_reason": "积分清零 / points written off"}


def seed_closures(customers: list[Customer], users: dict, rng: random.Random) -> None:
    """Close, void and archive about 11% of the demo cards over the last 18 months, reinstate a few,
    erase two and leave three requests pending, so the dashboard and timelines have history.

    Every change goes through closures.operations (erasure through closures.erasure), exactly as
    a person's would. Each one runs at its simulated moment (django.utils.timezone.now patched
    for the call) so that the closure, the card and the audit entries agree on when it happened.
    """
    from unittest import mock

    from closures import erasure, operations
    from closures.models import Action, Category, ClosureReason
    from closures.rules import ClosureChoice

    now = timezone.now()
    reasons = {
        action: list(ClosureReason.objects.active().for_action(action).exclude(category=Category.DUPLICATE))
        for action in (Action.CLOSE, Action.VOID, Action.ARCHIVE, Action.ERASE)
    }
    picked = rng.sample(customers, k=len(customers) // 9)
    plans = []
    for customer in picked:
        action = rng.choices([Action.CLOSE, Action.VOID, Action.ARCHIVE], weights=[75, 10, 15])[0]
        # Real churn is skewed: the first reasons in display order are picked far more often.
        options = reasons[action]
        reason = rng.choices(options, weights=[1 / (i + 1) ** 1.2 for i in range(len(options))])[0]
        earliest = max(customer.created_at, now - dt.timedelta(days=540)) + dt.timedelta(days=1)
        when = earliest + (now - earliest) * rng.random() ** 0.8
        plans.append((when, customer, action, reason))
    plans.sort(key=lambda plan: plan[0])
    staff = [users[STAFF], users[MANAGER]]
    for when, customer, action, reason in plans:
        with mock.patch("django.utils.timezone.now", return_value=min(when, now)):
            operations.close_customer(
                customer,
                ClosureChoice(
                    action,
                    reason,
                    notes=str(DEMO_NOTES[action]) if reason.requires_notes or rng.random() < 0.4 else "",
                    **demo_settlement(customer, action, rng),
                ),
                by=rng.choice(staff),
            )
        if rng.random() < 0.06 and when < now - dt.timedelta(days=10):
            with mock.patch("django.utils.timezone.now", return_value=when + dt.timedelta(days=rng.randint(2, 9))):
                operations.reinstate(customer, by=users[MANAGER], note="客户重新开卡 / the customer came back")
    for customer in [c for c in customers if c not in picked][:2]:
        erasure.erase_customer(
            customer,
            ClosureChoice(
                Action.ERASE,
                reasons[Action.ERASE][0],
                notes="",
                **demo_settlement(customer, Action.ERASE, rng),
            ),
            by=users[ADMIN],
            confirmation=customer.customer_no,
        )
    for customer in [c for c in customers if c not in picked][2:5]:
        operations.request_closure(
            customer,
            ClosureChoice(
                Action.CLOSE,
                reasons[Action.CLOSE][0],
                notes="客户来电要求销卡",
                **demo_settlement(customer, Action.CLOSE, rng),
            ),
            by=users[STAFF],
        )


DEMO_NOTES = {
    "close": "客户来电要求销卡 / the customer called to close the card",
    "void": "录入错误 / entered by mistake",
    "archive": "长期未活跃 / inactive for a long time",
}


class Command(BaseCommand):
    help = "Create demo users (staff, manager, admin) and about 2,000 demo customers. DEBUG only; idempotent."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates logins with a published password, so it runs only with DEBUG=1 "
                "(for example: DEBUG=1 python manage.py seed_demo)."
            )
        with transaction.atomic():
            users = self.demo_users()
            if Customer.objects.filter(customer_no__in=[FIRST_NO, LAST_NO]).count() == 2:
                self.stdout.write("Demo data already present; nothing changed.")
            elif Customer.objects.filter(customer_no__gte=FIRST_NO, customer_no__lte=LAST_NO).exists():
                raise CommandError("Some demo customer numbers (C000001-C002000) are taken; not seeding over them.")
            else:
                customers = self.demo_customers(users)
                score_before_closures()  # each closure then keeps the value it lost (analytics/demo_insights.py)
                seed_closures(customers, users, random.Random(SEED + 1))
                after = seed_followups(customers, users, timezone.now())
                service = seed_service(customers, users, timezone.now())
                warning = seed_insights(users, timezone.now())  # scores as the nightly run would leave them
                self.stdout.write(self.style.SUCCESS(f"Created {len(customers):,} demo customers."))
                self.stdout.write(f"Follow-ups: {after['followups']:,}, answers: {after['answers']:,}.")
                self.stdout.write(f"Tickets: {service['tickets']:,}, steps: {service['steps']:,}.")
                self.stdout.write(
                    f"Scored: {warning['scored']:,} active customers; retention actions: {warning['actions']:,}."
                )
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        for username, role, _first, _last in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {role}")

    def demo_users(self) -> dict:
        """The three demo users, created when missing (an existing one is left as it is)."""
        users = {}
        User = get_user_model()
        hashed = None  # hashed once: a password hash takes most of a second by design
        for username, role, first, last in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, first_name=first, last_name=last, email=f"{username}@example.com")
                user.password = hashed = hashed or make_password(DEMO_PASSWORD)
                user.save()
                user.groups.add(Group.objects.get(name=role))
            users[role] = user
        return users

    def generate(self, users: dict, now) -> list[Card]:
        """The demo cards, unsaved: the same ones on every run (seeded), dated relative to ``now``."""
        rng = random.Random(SEED)
        zh, en = Faker("zh_CN"), Faker("en_US")
        zh.seed_instance(SEED)
        en.seed_instance(SEED)
        owners = [users[STAFF], users[MANAGER], None]
        phones: set[str] = set()
        return [self.card(n, rng, zh, en, now, owners, phones) for n in range(1, DEMO_CUSTOMERS + 1)]

    def demo_customers(self, users: dict) -> list[Customer]:
        cards = self.generate(users, timezone.now())
        customers = Customer.objects.bulk_create([c.customer for c in cards], batch_size=500)
        for card in cards:
            for row in card.purchases + card.interactions:
                row.customer = card.customer
        Purchase.objects.bulk_create([p for c in cards for p in c.purchases], batch_size=1000)
        Interaction.objects.bulk_create([i for c in cards for i in c.interactions], batch_size=1000)
        openings = ledger.opening_entries(customers, by=None, note="seed_demo")
        created = {c.pk: c.created_at for c in customers}
        for entry in openings:
            entry.created_at = created[entry.customer_id]
        LedgerEntry.objects.bulk_create(openings, batch_size=1000)
        tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
        through = Customer.tags.through
        through.objects.bulk_create(
            [through(customer=c.customer, tag=tags[name]) for c in cards for name in c.tags], batch_size=1000
        )
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    at=c.customer.created_at,
                    action="customer.create",
                    actor_name="seed_demo",
                    object_type="customer",
                    object_id=str(c.customer.pk),
                    customer_id=c.customer.pk,
                    summary=f"{c.customer.customer_no} {c.customer.name}",
                )
                for c in cards
            ],
            batch_size=1000,
        )
        return customers

    def card(self, n: int, rng: random.Random, zh: Faker, en: Faker, now, owners, phones: set[str]) -> Card:
        chinese = rng.random() < CHINESE_SHARE
        fake = zh if chinese else en
        created = now - dt.timedelta(days=rng.randint(HISTORY_DAYS, HISTORY_DAYS + 700), minutes=rng.randint(0, 1440))
        city = rng.choice(CITIES)
        phone = self.phone(rng, chinese, phones)
        customer = Customer(
            customer_no=f"C{n:06d}",
            name=fake.name(),
            gender=rng.choice(["f", "m", "", "f", "m"]),
            birth_date=dt.date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.7
            else None,
            occupation=fake.job()[:100] if rng.random() < 0.6 else "",
            company=fake.company()[:150] if rng.random() < 0.5 else "",
            phone=phone,
            phone_rev=phone[::-1].replace("+", ""),
            email=f"{en.user_name()}{n}@{rng.choice(['example.com', 'example.cn', 'example.org'])}",
            wechat=f"wx_{en.user_name()}{n}" if chinese and rng.random() < 0.6 else "",
            city=city,
            address=f"{city}市{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            owner=rng.choice(owners),
            preferences=rng.choice(
                ["", "", "喜欢周末到店", "Prefers email", "只接受短信联系", "Interested in new arrivals"]
            ),
            balance=Decimal(rng.choice([0, 0, 0, 50, 100, 200, 500, 1000])) + Decimal(rng.randint(0, 99)) / 100,
            points=rng.choice([0, 0, 120, 300, 800, 1500, 4200]),
            created_at=created,
            language="zh-hans" if chinese else "en",  # the language of the messages they receive
            **self.origin(n, created),
        )
        card = Card(customer=customer, tags=rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2, 3])))
        days = max((now - created).days, 1)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4, 6, 9])):
            product, price = rng.choice(PRODUCTS)
            quantity = rng.choice([1, 1, 1, 2, 3])
            when = (now - dt.timedelta(days=rng.randint(0, min(days, HISTORY_DAYS)))).date()
            card.purchases.append(
                Purchase(
                    product=product,
                    quantity=quantity,
                    amount=price * quantity,
                    purchased_on=when,
                    recorded_by=customer.owner,
                    created_at=now,
                )
            )
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5, 8])):
            summary, outcome = rng.choice(SUMMARIES)
            when = now - dt.timedelta(days=rng.randint(0, min(days, HISTORY_DAYS)), minutes=rng.randint(0, 600))
            card.interactions.append(
                Interaction(
                    kind=rng.choice(Interaction.Kind.values),
                    occurred_at=when,
                    summary=summary,
                    outcome=outcome,
                    by=customer.owner or owners[0],
                    created_at=now,
                )
            )
        self.set_figures(card)
        return card

    @staticmethod
    def origin(n: int, created) -> dict:
        """Where the demo customer came from: a quarter were migrated from an older system, as
        customers for up to eight years before their card was created here; some came through a
        store; the rest became customers the day their card was made. A random stream of its own,
        so the rest of the demo is the same as before these fields existed."""
        rng = random.Random(SEED * 10_000 + n)
        created_on = timezone.localtime(created).date()
        draw = rng.random()
        if draw < 0.25:
            return {"source": LEGACY_SOURCE, "customer_since": created_on - dt.timedelta(days=rng.randint(90, 8 * 365))}
        if draw < 0.4:
            return {"source": STORE_SOURCE, "customer_since": created_on}
        return {"customer_since": created_on}

    @staticmethod
    def phone(rng: random.Random, chinese: bool, taken: set[str]) -> str:
        """A unique, valid, normalised mobile (a few English-named customers have a US number)."""
        while True:
            if not chinese and rng.random() < 0.3:
                raw = f"+1 202 555 {rng.randint(0, 9999):04d}"
            else:
                raw = f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"
            try:
                phone = normalise_phone(raw)
            except ValidationError:
                continue
            if phone not in taken:
                taken.add(phone)
                return phone

    @staticmethod
    def set_figures(card: Card) -> None:
        """The card's purchase and interaction figures, from its generated rows (one pass)."""
        customer = card.customer
        customer.purchase_count = len(card.purchases)
        customer.purchase_total = sum((p.amount for p in card.purchases), Decimal("0.00"))
        customer.last_purchase_on = max((p.purchased_on for p in card.purchases), default=None)
        customer.last_interaction_at = max((i.occurred_at for i in card.interactions), default=None)
        count = customer.purchase_count
        customer.stage = (
            Customer.Stage.PROSPECT
            if count == 0
            else Customer.Stage.FIRST_PURCHASE
            if count == 1
            else Customer.Stage.REPEAT
            if count < 6
            else Customer.Stage.LOYAL
        )
        customer.segment = (
            Customer.Segment.KEY
            if customer.purchase_total >= 3000
            else Customer.Segment.REGULAR
            if count
            else Customer.Segment.POTENTIAL
        )
