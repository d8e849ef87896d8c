"""Objects the URL walk needs for the exit survey: a closed card, its sent survey, the link's token."""

from django.utils import timezone

from closures import operations
from closures.models import Action
from closures.rules import ClosureChoice
from followups import links
from followups.models import Followup, Kind
from tests.factories import ClosureReasonFactory, CustomerFactory


def extend(world) -> None:
    reason = ClosureReasonFactory(code="walk-survey", for_close=True)
    card = CustomerFactory(language="zh-hans")  # the page is in the customer's language, not the reader's
    closure = operations.close_customer(card, ClosureChoice(Action.CLOSE, reason), by=world.manager_user)
    world.survey = Followup.objects.create(
        kind=Kind.SURVEY,
        channel="email",
        customer=card,
        closure=closure,
        due_at=timezone.now(),
        state=Followup.State.SENT,
        sent_at=timezone.now(),
    )
    world.survey_token = links.survey_token(world.survey)
