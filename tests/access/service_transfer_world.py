"""A ticket with a formula for a subject (on its own card: the closure pages of the world's card
stay free of it), for the export routes."""

from tests.factories import CustomerFactory, TicketFactory


def extend(world) -> None:
    world.exported_ticket = TicketFactory(customer=CustomerFactory(), subject='=HYPERLINK("http://x","y")')
