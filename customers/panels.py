"""Panels that higher apps add to a card's page, without customers importing them (DESIGN.md).

A higher app registers its panel in its AppConfig.ready:

    panels.register("followups", template="followups/_card_panel.html",
                    permission="followups.view_followup", context=lambda request, customer: {...})

and the card page (customers.views.card) shows, in ``order``, each panel the reader may see,
rendering its template with the card's context plus ``panel`` (what ``context`` returned). A
panel's ``context`` must read in a fixed number of queries: the card page's budget is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
