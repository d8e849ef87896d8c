"""A ticket with a formula for a subject, for the export routes."""

from tests.factories import TicketFactory


def extend(world) -> None:
    world.exported_ticket = TicketFactory(customer=world.customer, subject='=HYPERLINK("http://x","y")')
