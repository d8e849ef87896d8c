"""A ticket category, a team, an SLA policy and a holiday for the service settings routes."""

import datetime as dt

from service.models import Category, Holiday, SlaPolicy
from tests.factories import TeamFactory


def extend(world) -> None:
    world.service_category = Category.objects.get_or_create(
        key="warranty", defaults={"label_en": "Warranty", "label_zh": "保修"}
    )[0]
    world.service_team = TeamFactory(name_en="Routes team", name_zh="路由组", members=[world.staff_user])
    world.sla_policy = SlaPolicy.objects.filter(active=True).first() or SlaPolicy.objects.create(
        priority="normal", first_response_minutes=60, resolution_minutes=600
    )
    world.holiday = Holiday.objects.create(date=dt.date(2031, 10, 1), name="国庆节")
