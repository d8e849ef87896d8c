"""Tickets for the service dashboard's routes: one resolved after a reply, one still open with another team."""

from service import operations
from service.models import Category
from tests.factories import TeamFactory


def extend(world) -> None:
    team = TeamFactory(name_en="Service desk", name_zh="客服中心", members=[world.manager_user])
    other = TeamFactory(name_en="After-sales", name_zh="售后")
    complaint = Category.objects.get(key="complaint")
    values = {"subject": "洗衣机漏水", "category": complaint, "channel": "phone", "priority": "high"}
    done = operations.open_ticket(world.customer, by=world.manager_user, team=team, **values)
    operations.add_step(done, by=world.manager_user, kind="reply", content="已约上门")
    operations.resolve(done, by=world.manager_user, note="更换进水阀")
    waiting = operations.open_ticket(world.customer, by=world.manager_user, team=team, **values)
    operations.hand_off(waiting, to_team=other, by=world.manager_user, note="请售后上门")
    world.service_tickets = [done, waiting]
