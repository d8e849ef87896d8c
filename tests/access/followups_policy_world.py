"""A follow-up rule for the policy page's routes to edit, move, disable and delete."""

from followups.models import Rule


def extend(world) -> None:
    world.policy_rule = Rule.objects.create(action="close", kind="notice", channel="email", position=1)
    world.policy_second_rule = Rule.objects.create(
        action="close", kind="survey", channel="email", delay_days=1, position=2
    )
