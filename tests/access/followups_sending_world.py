"""A closed card's sent closure notice, for the unsubscribe link's routes."""

from django.utils import timezone

from followups import links
from followups.models import Followup, Kind
from tests.factories import ClosureFactory, CustomerFactory


def extend(world) -> None:
    customer = CustomerFactory(owner=world.staff_user, status="closed")
    closure = ClosureFactory(customer=customer, performed_by=world.staff_user)
    notice = Followup.objects.create(
        kind=Kind.NOTICE,
        channel="email",
        customer=customer,
        closure=closure,
        due_at=timezone.now(),
        state=Followup.State.SENT,
        language="zh-hans",
    )
    world.unsubscribe_token = links.unsubscribe_token(notice)
