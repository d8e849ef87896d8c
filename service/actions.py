"""What the ticket page's forms do: each action's form, the ticket operation it calls, the words
that confirm it, and whether the page shows it (the state machine's ``available`` and the user's
permissions). The views (service/views/tickets.py) only wire these to requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import operations, states
from .forms import AssignForm, HandOffForm, NoteForm, SlaForm, StepForm
from .models import Ticket

WORK = "service.change_ticket"
MANAGE = "service.manage_tickets"
# The operations' refusal codes that mean "not yours to work": the page answers 403 with the message.
NOT_YOURS = ("not_yours", "permission")


@dataclass(frozen=True)
class Action:
    name: str  # the operation in states.TRANSITIONS (and the URL name service:<name>)
    form: type | None
    run: Callable  # run(ticket, request, cleaned_data)
    done: object  # the success message, with %(number)s
    permission: str = WORK
    note_label: object = None
    transition: str = ""  # the state machine's name when it differs (take → assign)

    def make_form(self, data=None, files=None):
        if self.form is None:
            return None
        extra = {"note_label": self.note_label} if self.form is NoteForm else {}
        return self.form(data, files, prefix=self.name, **extra)


def _note(operation):
    return lambda ticket, request, data: operation(ticket, by=request.user, note=data["note"], request=request)


ACTIONS = {
    action.name: action
    for action in [
        Action(
            "take",
            None,
            lambda t, r, d: operations.take(t, by=r.user, request=r),
            _("Ticket %(number)s is yours."),
            transition="assign",
        ),
        Action(
            "step",
            StepForm,
            lambda t, r, d: operations.add_step(t, by=r.user, request=r, **d),
            _("Step added to %(number)s."),
        ),
        Action(
            "hand_off",
            HandOffForm,
            lambda t, r, d: operations.hand_off(
                t, to_team=d["team"], assignee=d["assignee"], note=d["note"], by=r.user, request=r
            ),
            _("Ticket %(number)s handed over."),
        ),
        Action(
            "start", None, lambda t, r, d: operations.start(t, by=r.user, request=r), _("Work on %(number)s started.")
        ),
        Action(
            "wait",
            NoteForm,
            _note(operations.wait_for_customer),
            _("Ticket %(number)s is waiting for the customer."),
            note_label=_("What the customer should send or do"),
        ),
        Action(
            "resume",
            NoteForm,
            _note(operations.resume),
            _("Work on %(number)s resumed."),
            note_label=_("Note on resuming"),
        ),
        Action(
            "resolve",
            NoteForm,
            _note(operations.resolve),
            _("Ticket %(number)s resolved."),
            note_label=_("What solved it"),
        ),
        Action(
            "close", NoteForm, _note(operations.close), _("Ticket %(number)s closed."), note_label=_("Note on closing")
        ),
        Action(
            "reopen",
            NoteForm,
            _note(operations.reopen),
            _("Ticket %(number)s reopened."),
            note_label=_("Why it is reopened"),
        ),
        Action(
            "cancel",
            NoteForm,
            _note(operations.cancel),
            _("Ticket %(number)s cancelled."),
            note_label=_("Why it is cancelled"),
        ),
        Action(
            "assign",
            AssignForm,
            lambda t, r, d: operations.assign(t, to=d["to"], note=d["note"], by=r.user, request=r),
            _("Ticket %(number)s reassigned."),
            permission=MANAGE,
        ),
        Action(
            "change_sla",
            SlaForm,
            lambda t, r, d: operations.change_sla(t, by=r.user, request=r, **d),
            _("The SLA of %(number)s changed."),
            permission=MANAGE,
        ),
    ]
}


def may_work(user, ticket: Ticket, team_ids: set[int]) -> bool:
    """The operations' own rule (operations._may_work), read without a query to decide what the page shows."""
    if user.has_perm(MANAGE):
        return True
    return ticket.assignee_id in (None, user.pk) or (ticket.team_id is not None and ticket.team_id in team_ids)


def shown(user, ticket: Ticket, team_ids: set[int]) -> dict[str, bool]:
    """Which of the ticket page's actions ``user`` sees: allowed now, permitted, and theirs to work."""
    available = set(states.available(ticket.status))
    workable = may_work(user, ticket, team_ids)
    result = {}
    for name, action in ACTIONS.items():
        allowed = (action.transition or name) in available and user.has_perm(action.permission)
        if name == "take":
            allowed = allowed and ticket.assignee_id is None
        elif action.permission == WORK:
            allowed = allowed and workable
        result[name] = allowed
    return result


def attach(form, error: ValidationError) -> list[str]:
    """Put an operation's refusal next to the form's fields; what belongs to no field is returned."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    loose = []
    for field, errors in error.error_dict.items():
        messages = [m for e in errors for m in e.messages]
        if form is not None and field in form.fields:
            form.add_error(field, messages)
        else:
            loose += messages
    return loose
