"""A closure for the analytics routes to show and export."""

from tests.factories import ClosureFactory, CustomerFactory


def extend(world) -> None:
    world.analytics_closure = ClosureFactory(customer=CustomerFactory(status="closed"), performed_by=world.staff_user)
