"""Panels that higher apps add to a card's page, without customers importing them (DESIGN.md).

A higher app registers its panel in its AppConfig.ready:

    panels.register("followups", template="followups/_card_panel.html",
                    permission="followups.view_followup", context=lambda request, customer: {...})

and the card page (customers.views.card) shows, in ``order``, each panel the reader may see,
rendering its template with the card's context plus ``panel`` (what ``context`` returned). A
panel's ``context`` must read in a fixed number of queries: the card page's budget is fixed.

Links in the card's Actions menu are registered the same way (a lower app's template must not
include a higher app's by path):

    panels.register_action("service.new", url_name="service:new", label=_("New ticket"),
                           permission="service.add_ticket", when=lambda customer: ...)

``url_name`` takes the card's id; ``when`` (optional) decides from the card alone, without a query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    permission: str
    context: Callable | None = None
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register(name: str, *, template: str, permission: str, context: Callable | None = None, order: int = 100):
    _PANELS[name] = Panel(name, template, permission, context, order)


def panels_for(request, customer) -> list[dict]:
    """The panels ``request.user`` may see on ``customer``'s page: ``{"template", "data"}`` each, in order."""
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        if request.user.has_perm(panel.permission):
            data = panel.context(request, customer) if panel.context else {}
            shown.append({"name": panel.name, "template": panel.template, "data": data})
    return shown


@dataclass(frozen=True)
class Action:
    name: str
    url_name: str
    label: Any
    permission: str
    when: Callable | None = None
    order: int = 100


_ACTIONS: dict[str, Action] = {}


def register_action(
    name: str, *, url_name: str, label, permission: str, when: Callable | None = None, order: int = 100
) -> None:
    _ACTIONS[name] = Action(name, url_name, label, permission, when, order)


def actions_for(request, customer) -> list[dict]:
    """The Actions menu's registered links ``request.user`` may follow on ``customer``: ``{"name", "url", "label"}``."""
    return [
        {"name": action.name, "url": reverse(action.url_name, args=[customer.pk]), "label": action.label}
        for action in sorted(_ACTIONS.values(), key=lambda a: (a.order, a.name))
        if request.user.has_perm(action.permission) and (action.when is None or action.when(customer))
    ]
