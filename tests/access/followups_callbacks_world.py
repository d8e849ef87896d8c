"""Follow-ups for the queue's routes: Staff's own callback, another Staff member's, a failed message,
and a callback whose customer wants to come back, waiting for a Manager to reinstate the card."""

from tests.factories import FollowupFactory, UserFactory


def extend(world) -> None:
    world.callback = FollowupFactory(assigned_to=world.staff_user)
    world.colleague = UserFactory(username="staff_colleague", role="Staff")
    world.colleague_callback = FollowupFactory(assigned_to=world.colleague)
    world.failed_message = FollowupFactory(kind="survey", channel="email", state="failed", last_error="SMTP down")
    world.comes_back = FollowupFactory(
        assigned_to=world.staff_user, state="done", outcome="comes_back", note="Wants the card back"
    )
