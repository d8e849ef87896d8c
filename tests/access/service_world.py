"""Tickets for the service routes: one of the Staff user's team at each status an action needs,
another team's ticket that someone else has, and a step with an attachment."""

from django.core.files.uploadedfile import SimpleUploadedFile

from service import operations
from service.models import Category
from tests.factories import CustomerFactory, TeamFactory, UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def extend(world) -> None:
    staff, manager = world.staff_user, world.manager_user
    world.desk_team = TeamFactory(name_en="Desk (routes)", name_zh="客服（路由）", members=[staff])
    world.other_team = TeamFactory(name_en="After-sales (routes)", name_zh="售后（路由）")
    world.other_agent = UserFactory(username="service_fixer", role="Staff")
    world.other_team.members.add(world.other_agent)
    category = Category.objects.get(key="complaint")
    # A card of its own: open tickets on world.customer would make the closure routes ask about them.
    world.ticket_customer = CustomerFactory(owner=staff)

    def ticket(**kwargs):
        values = {"subject": "漏水", "category": category, "channel": "phone", "priority": "normal"}
        return operations.open_ticket(world.ticket_customer, by=staff, **{**values, **kwargs})

    world.ticket = ticket(team=world.desk_team, assignee=staff)
    world.unassigned_ticket = ticket(team=world.desk_team)
    world.others_ticket = ticket(team=world.other_team, assignee=world.other_agent)
    world.waiting_ticket = ticket(team=world.desk_team, assignee=staff)
    operations.wait_for_customer(world.waiting_ticket, by=staff, note="等照片")
    world.resolved_ticket = ticket(team=world.desk_team, assignee=staff)
    operations.resolve(world.resolved_ticket, by=staff, note="已修好")
    world.attachment_step = operations.add_step(
        ticket(team=world.desk_team),
        by=manager,
        kind="work",
        content="照片",
        attachment=SimpleUploadedFile("p.png", PNG),
    )
