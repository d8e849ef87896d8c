"""A month of service (March 2026, Shanghai time) written through the ticket and closure operations:
tickets resolved on time and late, reopened, waiting, cancelled, handed to another team, one from
before the month and one after it; cards closed within 90 days of a ticket and later, cards
without tickets closed within 90 days of the month's start and later, and a closure reverted.
The tests compute every figure again from these raw rows."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from closures import operations as closing
from closures.rules import ClosureChoice
from service import operations
from service.models import Category
from tests.factories import ClosureReasonFactory, CustomerFactory, TeamFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@dataclass
class World:
    cards: dict
    tickets: dict
    teams: dict
    categories: dict
    manager: object


def build(monkeypatch) -> World:
    def at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    agent = UserFactory(username="svc_agent", role="Staff")
    fixer = UserFactory(username="svc_fixer", role="Staff")
    boss = UserFactory(username="svc_boss", role="Manager")
    teams = {
        "desk": TeamFactory(name_en="Service desk", name_zh="客服中心", members=[agent]),
        "after_sales": TeamFactory(name_en="After-sales", name_zh="售后", members=[fixer]),
    }
    categories = {key: Category.objects.get(key=key) for key in ("complaint", "repair", "billing")}
    since = datetime(2025, 1, 1).date()
    cards = {name: CustomerFactory(customer_since=since) for name in "ABCDEFGHI"}
    service_reason = ClosureReasonFactory(code="svc-bad", category="service")
    price_reason = ClosureReasonFactory(code="svc-price", category="price")

    def open_(card, category="complaint", *, when, **kwargs):
        at(when)
        values = {"subject": "问题", "channel": "phone", "priority": "high", "team": teams["desk"]}
        return operations.open_ticket(
            cards[card], by=agent, category=categories[category], created_at=when, **{**values, **kwargs}
        )

    t = {}
    t["before"] = open_("A", when=local(2026, 2, 20, 10, 0))
    t["quick"] = open_("A", when=local(2026, 3, 2, 9, 30))
    operations.add_step(t["quick"], by=agent, kind="reply", content="收到")  # 0 working minutes
    at(local(2026, 3, 2, 10, 0))
    operations.add_step(t["quick"], by=agent, kind="work", content="处理")
    at(local(2026, 3, 2, 15, 0))
    operations.resolve(t["quick"], by=agent, note="好了")
    at(local(2026, 3, 3, 11, 0))
    operations.resolve(t["before"], by=agent, note="好了")

    t["late"] = open_("B", "repair", channel="wechat", priority="urgent", when=local(2026, 3, 2, 9, 30))
    at(local(2026, 3, 5, 16, 0))
    operations.resolve(t["late"], by=agent, note="修好")  # urgent: one working day; three days late
    at(local(2026, 3, 6, 10, 0))
    operations.reopen(t["late"], by=agent, note="又坏了")
    at(local(2026, 3, 9, 14, 0))
    operations.resolve(t["late"], by=agent, note="换新")
    operations.close(t["late"], by=agent)

    t["waiting"] = open_("C", priority="normal", when=local(2026, 3, 3, 14, 0))
    at(local(2026, 3, 3, 15, 0))
    operations.add_step(t["waiting"], by=agent, kind="reply", content="请发照片")
    operations.wait_for_customer(t["waiting"], by=agent, note="等照片")
    at(local(2026, 3, 6, 15, 0))
    operations.resume(t["waiting"], by=agent)
    at(local(2026, 3, 10, 11, 0))
    operations.resolve(t["waiting"], by=agent, note="好了")

    t["cancelled"] = open_("D", "billing", channel="email", priority="low", when=local(2026, 3, 4, 10, 0))
    at(local(2026, 3, 5, 10, 0))
    operations.cancel(t["cancelled"], by=agent, note="重复")

    t["open"] = open_("E", "repair", priority="normal", when=local(2026, 3, 20, 10, 0))
    at(local(2026, 3, 20, 11, 0))
    operations.hand_off(t["open"], to_team=teams["after_sales"], by=agent, note="请售后")

    t["after"] = open_("F", when=local(2026, 4, 2, 10, 0))

    def close(card, reason, when):
        at(when)
        closing.close_customer(cards[card], ClosureChoice("close", reason), by=boss)

    close("B", service_reason, local(2026, 4, 15, 10, 0))  # 44 days after its late ticket
    close("C", service_reason, local(2026, 7, 1, 10, 0))  # 120 days after its ticket
    close("G", price_reason, local(2026, 3, 20, 10, 0))  # no ticket; within 90 days of 1 March
    close("H", price_reason, local(2026, 7, 15, 10, 0))  # no ticket; too late
    close("D", service_reason, local(2026, 3, 25, 10, 0))  # reverted below
    at(local(2026, 3, 26, 10, 0))
    closing.reinstate(cards["D"], by=boss, note="误操作")
    at(local(2026, 8, 1, 12, 0))
    return World(cards=cards, tickets=t, teams=teams, categories=categories, manager=boss)
