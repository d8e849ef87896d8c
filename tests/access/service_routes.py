"""Who may use each service:* route (world objects in service_world.py).

Staff see every ticket and work their own, their team's and unassigned ones; another team's ticket
that someone else has answers 403 with the operation's message on the page. Managers and Admins
work every ticket, reassign (also in bulk) and change a ticket's SLA.
"""

from .routes import EVERYONE, MANAGERS, Route


def _post(name, allowed, ticket, data=None):
    return Route(
        f"service:{name}",
        allowed,
        method="POST",
        kwargs=lambda w: {"pk": getattr(w, ticket).pk},
        data=data or (lambda w: {}),
        ok=(302,),
    )


def _new_ticket(w):
    return {"subject": "发票错了", "category": w.ticket.category_id, "channel": "phone", "priority": "normal"}


ROUTES = [
    Route("service:queue", EVERYONE),
    Route("service:queue", EVERYONE, query="view=team&status=new&priority=high&assignee=nobody&o=-due&page=2"),
    Route("service:queue", EVERYONE, query="view=all&q=S2026-000001&opened_from=2026-01-01&opened_to=bad"),
    Route("service:queue", EVERYONE, query="view=overdue&q=张&category=1&team=1&channel=wechat&o=-priority"),
    Route("service:queue", EVERYONE, kwargs=lambda w: {}, query="customer=1"),
    Route(
        "service:bulk_reassign",
        MANAGERS,
        method="POST",
        data=lambda w: {"ids": [w.unassigned_ticket.pk], "to": w.other_agent.pk, "note": "转"},
        ok=(302,),
    ),
    Route("service:new", EVERYONE, kwargs=lambda w: {"customer_pk": w.customer.pk}),
    Route(
        "service:new",
        EVERYONE,
        method="POST",
        kwargs=lambda w: {"customer_pk": w.customer.pk},
        data=_new_ticket,
        ok=(302,),
    ),
    Route("service:ticket", EVERYONE, kwargs=lambda w: {"pk": w.ticket.pk}),
    Route("service:ticket", EVERYONE, kwargs=lambda w: {"pk": w.others_ticket.pk}),
    _post("take", EVERYONE, "unassigned_ticket"),
    _post("step", EVERYONE, "ticket", lambda w: {"step-kind": "work", "step-content": "上门"}),
    _post("step", MANAGERS, "others_ticket", lambda w: {"step-kind": "work", "step-content": "上门"}),
    _post("hand_off", EVERYONE, "ticket", lambda w: {"hand_off-team": w.other_team.pk, "hand_off-note": "转售后"}),
    _post("start", EVERYONE, "ticket"),
    _post("wait", EVERYONE, "ticket", lambda w: {"wait-note": "等照片"}),
    _post("resume", EVERYONE, "waiting_ticket", lambda w: {"resume-note": ""}),
    _post("resolve", EVERYONE, "ticket", lambda w: {"resolve-note": "修好了"}),
    _post("resolve", MANAGERS, "others_ticket", lambda w: {"resolve-note": "修好了"}),
    _post("close", EVERYONE, "resolved_ticket", lambda w: {"close-note": ""}),
    _post("reopen", EVERYONE, "resolved_ticket", lambda w: {"reopen-note": "又坏了"}),
    _post("cancel", EVERYONE, "ticket", lambda w: {"cancel-note": "重复"}),
    _post("assign", MANAGERS, "ticket", lambda w: {"assign-to": w.other_agent.pk, "assign-note": "转"}),
    _post(
        "change_sla",
        MANAGERS,
        "ticket",
        lambda w: {
            "change_sla-first_response_minutes": "30",
            "change_sla-resolution_minutes": "600",
            "change_sla-note": "VIP",
        },
    ),
    Route("service:attachment", EVERYONE, kwargs=lambda w: {"pk": w.attachment_step.pk}),
]
