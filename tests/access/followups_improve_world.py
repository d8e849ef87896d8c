"""An improvement action for the followups:improvement_* routes."""

from datetime import date

from followups.models import Improvement


def extend(world) -> None:
    world.improvement = Improvement.objects.create(
        title="服务热线", started_on=date(2024, 3, 1), categories=["service"], created_by=world.manager_user
    )
