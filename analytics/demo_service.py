"""Service records in the demo data (seed_demo): three teams and about 60 tickets with their steps in
every state, so the queues, the ticket page, the card's service panel and the service dashboard
have something to show on a fresh ``make run``.

Every ticket is opened and worked through service.operations, as people would have: each call runs
at its simulated moment (django.utils.timezone.now patched for the call), so the steps, the SLA
clock and the audit entries agree on when things happened. Older tickets are mostly resolved and
closed (a few cancelled, a few reopened); recent ones are new, assigned, in progress or waiting for
the customer, some of them late. Two workers besides the demo logins join the teams (售后 and 财务);
they cannot log in (no password): their work is only there to be seen.
"""

from __future__ import annotations

import datetime as dt
import random
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from crm.models import Team
from crm.roles import ADMIN, MANAGER, STAFF
from customers.models import Customer
from service import operations as ops
from service.models import Category, Step

SEED = 2026 + 20
TICKETS = 60
TEAMS = [("Service desk", "客服中心"), ("After-sales", "售后"), ("Billing", "财务")]
WORKERS = [("zhou", "Zhou", "Min", "After-sales"), ("qian", "Qian", "Li", "Billing")]
SUBJECTS = {
    "complaint": ["店员态度不好", "Waited 40 minutes at the counter", "积分没有到账还被挂电话"],
    "repair": ["热水壶不加热", "Blender lid cracked", "电饭煲显示 E3"],
    "return": ["要求退货退款", "Wrong size delivered, wants a refund", "七天无理由退货"],
    "enquiry": ["会员积分怎么用", "Opening hours during the holiday", "储值卡能否转给家人"],
    "billing": ["重复扣款 ¥199", "Invoice title is wrong", "储值余额不对"],
    "other": ["建议增加停车位", "Lost a scarf in store"],
}
REPLIES = ["已电话联系客户，说明处理方案", "Called the customer and explained the next step", "已微信回复客户"]
WORK = ["核对订单与付款记录", "Checked the device; part on order", "联系仓库安排换货", "Refund submitted to finance"]
RESOLUTIONS = [
    "已为客户更换新品",
    "Refunded to the original payment",
    "客户表示满意",
    "Explained the rule; customer accepted",
]


def _team_and_workers(users: dict) -> dict:
    teams = {}
    for name_en, name_zh in TEAMS:
        teams[name_en] = Team.objects.get_or_create(name_en=name_en, defaults={"name_zh": name_zh})[0]
    User = get_user_model()
    staff_group = Group.objects.get(name=STAFF)
    workers = {}
    for username, first, last, team in WORKERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, first_name=first, last_name=last, email=f"{username}@example.com")
            user.set_unusable_password()
            user.save()
            user.groups.add(staff_group)
        teams[team].members.add(user)
        workers[team] = user
    teams["Service desk"].members.add(users[STAFF], users[MANAGER])
    teams["After-sales"].members.add(users[MANAGER])
    workers["Service desk"] = users[STAFF]
    return {"teams": teams, "workers": workers}


def seed_service(customers: list[Customer], users: dict, now: dt.datetime | None = None) -> dict:
    """Teams and ~60 tickets with steps (run after the demo closures); returns counts for the output.

    Most tickets are on active cards; ten are on cards later closed as "Dissatisfied with service",
    opened before the closure and played out up to it, so churn after service has something to show.
    """
    rng = random.Random(SEED)
    now = now or timezone.now()
    crew = _team_and_workers(users)
    categories = {c.key: c for c in Category.objects.filter(active=True)}
    ids = [c.pk for c in customers]
    active = list(Customer.objects.filter(pk__in=ids, status=Customer.Status.ACTIVE).order_by("pk"))
    picked = rng.sample(active, k=min(len(active), 40))
    cards = picked + rng.sample(picked, k=min(len(picked), TICKETS - 10 - len(picked)))
    count = 0
    for n, card in enumerate(cards):
        opened = now - dt.timedelta(days=rng.random() ** 1.6 * 150, minutes=rng.randint(0, 600))
        _play(card, opened, n, rng, crew, categories, users, now)
        count += 1
    for closure in _service_closures(ids)[:10]:
        closed_at = closure.performed_at
        opened = closed_at - dt.timedelta(days=rng.uniform(3, 40))
        _play(closure.customer, opened, count, rng, crew, categories, users, closed_at)
        count += 1
    return {"tickets": count, "steps": Step.objects.count()}


def _service_closures(ids: list[int]) -> list:
    from closures.models import Category as ReasonCategory
    from closures.models import Closure

    closures = Closure.objects.filter(customer_id__in=ids, category=ReasonCategory.SERVICE, reverted_at__isnull=True)
    return list(closures.select_related("customer").order_by("performed_at"))


def _at(moment: dt.datetime, now: dt.datetime):
    return mock.patch("django.utils.timezone.now", return_value=min(moment, now))


def _play(card, opened, n: int, rng: random.Random, crew: dict, categories: dict, users: dict, now) -> None:
    """One ticket's life, up to now: how far it got depends on its age."""
    key = rng.choices(list(SUBJECTS), weights=[20, 20, 15, 25, 15, 5])[0]
    category = categories.get(key) or next(iter(categories.values()))
    desk, after_sales = crew["teams"]["Service desk"], crew["teams"]["After-sales"]
    agent = users[STAFF] if n % 3 else users[MANAGER]
    clock = [opened]

    def later(hours: float):
        clock[0] = min(clock[0] + dt.timedelta(hours=hours), now - dt.timedelta(minutes=1))
        return _at(clock[0], now)

    with _at(opened, now):
        ticket = ops.open_ticket(
            card,
            by=agent,
            subject=rng.choice(SUBJECTS[key]),
            need="客户原话：" + rng.choice(["希望尽快处理", "请给我一个说法", "Please call me back"]),
            category=category,
            channel=rng.choice(["phone", "phone", "wechat", "store", "email", "web"]),
            priority=rng.choices(["low", "normal", "high", "urgent"], weights=[15, 55, 22, 8])[0],
            team=desk,
            created_at=opened,
        )
    age = (now - opened).days
    if age < 1 and n % 2:
        return  # new and unassigned: the desk's queue
    with later(rng.uniform(0.2, 3)):
        ops.take(ticket, by=agent)
    if age < 2 and n % 3 == 0:
        return  # assigned, nothing done yet
    with later(rng.uniform(0.5, 30 if n % 5 == 0 else 4)):  # some first answers come too late
        ops.add_step(ticket, by=agent, kind=Step.Kind.REPLY, content=rng.choice(REPLIES), minutes_spent=10)
    worker = agent
    if key in ("repair", "return", "billing") and rng.random() < 0.6:
        team = after_sales if key != "billing" else crew["teams"]["Billing"]
        worker = crew["workers"]["After-sales" if key != "billing" else "Billing"]
        with later(rng.uniform(0.5, 6)):
            ops.hand_off(ticket, to_team=team, by=agent, note="请协助处理 / please take over", assignee=worker)
    with later(rng.uniform(1, 20)):
        ops.add_step(
            ticket, by=worker, kind=Step.Kind.WORK, content=rng.choice(WORK), minutes_spent=rng.randint(10, 90)
        )
    if age < 4:
        if n % 4 == 0:
            with later(1):
                ops.wait_for_customer(ticket, by=worker, note="等待客户提供照片 / waiting for photos")
        return
    if n % 13 == 0:
        with later(2):
            ops.cancel(ticket, by=users[MANAGER], note="客户撤回 / the customer withdrew it")
        return
    with later(rng.uniform(2, 60)):
        ops.resolve(ticket, by=worker, note=rng.choice(RESOLUTIONS))
    if n % 11 == 0:
        with later(30):
            ops.reopen(ticket, by=users[MANAGER], note="客户反馈问题仍在 / still not fixed")
        with later(rng.uniform(4, 30)):
            ops.resolve(ticket, by=users[MANAGER], note="第二次处理完成 / fixed again")
    if age > 10:
        with later(rng.uniform(24, 72)):
            ops.close(ticket, by=users[ADMIN])
