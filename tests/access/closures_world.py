"""Objects the URL walk needs for closures:* routes."""

from closures import operations, rules, tokens
from closures.models import Action, ClosureRequest, ReasonCategory
from closures.rules import ClosureChoice
from tests.factories import ClosureReasonFactory, CustomerFactory


def extend(world) -> None:
    world.close_reason = ClosureReasonFactory(code="walk-close", for_close=True, for_erase=True)
    world.closed_customer = CustomerFactory()
    operations.close_customer(
        world.closed_customer, ClosureChoice(Action.CLOSE, world.close_reason), by=world.manager_user
    )
    world.requested_customer = CustomerFactory()
    world.closure_request = ClosureRequest.objects.create(
        customer=world.requested_customer,
        action=Action.CLOSE,
        reason=world.close_reason,
        notes="Customer asked by phone",
        requested_by=world.staff_user,
    )
    world.reason_to_edit = world.close_reason
    world.category = ReasonCategory.objects.create(key="walk", label_en="Walk", label_zh="走访")
    world.merge_target = ReasonCategory.objects.get(key="price")


def close_preview_token(world) -> str:
    """A fresh "Continue" token for closing world.customer (each role's call gets its own world)."""
    preview = tokens.Preview.new(world.customer, action=Action.CLOSE, reason_id=world.close_reason.pk, notes="")
    return tokens.sign_preview(preview)


def erase_preview_token(world) -> str:
    preview = tokens.Preview.new(world.customer, action=Action.ERASE, reason_id=world.close_reason.pk, notes="")
    return tokens.sign_preview(preview)


def bulk_token(world) -> str:
    seen = {world.customer.pk: rules.version(world.customer)}
    return tokens.sign_bulk(ClosureChoice(Action.CLOSE, world.close_reason.pk, seen=seen, nonce=tokens.new_nonce()))
