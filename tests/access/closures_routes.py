"""Who may use each closures:* route (world objects in closures_world.py).

Staff close, void and archive (closures.add_closure); only Admins delete; Managers and Admins
reinstate, decide requests and bulk-close; reasons, their categories, settings and the import of
historical closures are Admin pages; the audit log is for Managers and Admins.
"""

from closures import tokens

from .closures_world import bulk_token, close_preview_token, erase_preview_token
from .routes import ADMINS, EVERYONE, MANAGERS, Route


def _card(action):
    return lambda w: {"pk": w.customer.pk, "action": action}


ROUTES = [
    Route("closures:start", EVERYONE, kwargs=_card("close")),
    Route("closures:start", EVERYONE, kwargs=_card("void")),
    Route("closures:start", EVERYONE, kwargs=_card("archive")),
    Route("closures:start", ADMINS, kwargs=_card("erase")),
    Route(
        "closures:start",
        EVERYONE,
        method="POST",
        kwargs=_card("close"),
        data=lambda w: {"reason": w.close_reason.pk, "notes": "walk"},
    ),
    Route(
        "closures:start",
        ADMINS,
        method="POST",
        kwargs=_card("erase"),
        data=lambda w: {"reason": w.close_reason.pk, "notes": "walk"},
    ),
    Route("closures:confirm", EVERYONE, kwargs=_card("close"), ok=(302,)),
    Route(
        "closures:confirm",
        EVERYONE,
        method="POST",
        kwargs=_card("close"),
        data=lambda w: {"token": close_preview_token(w)},
        ok=(302,),
    ),
    Route(
        "closures:confirm",
        ADMINS,
        method="POST",
        kwargs=_card("erase"),
        data=lambda w: {"token": erase_preview_token(w), "confirmation": w.customer.customer_no},
        ok=(302,),
    ),
    Route("closures:reinstate", MANAGERS, kwargs=lambda w: {"pk": w.closed_customer.pk}),
    Route(
        "closures:reinstate",
        MANAGERS,
        method="POST",
        kwargs=lambda w: {"pk": w.closed_customer.pk},
        data=lambda w: {"note": "Customer came back"},
        ok=(302,),
    ),
    Route("closures:request_queue", MANAGERS),
    Route("closures:request_decide", MANAGERS, kwargs=lambda w: {"pk": w.closure_request.pk}),
    Route(
        "closures:request_decide",
        MANAGERS,
        method="POST",
        kwargs=lambda w: {"pk": w.closure_request.pk},
        data=lambda w: {"decision": "reject", "note": "Keep the customer"},
        ok=(302,),
    ),
    # Several requests at once, one note: the result page lists what was decided and refused.
    Route(
        "closures:request_batch",
        MANAGERS,
        method="POST",
        data=lambda w: {"ids": [w.closure_request.pk], "decision": "reject", "note": "Keep the customer"},
    ),
    # The requester's own requests; withdrawing someone else's is refused with a message (302 to the list).
    Route("closures:my_requests", EVERYONE),
    Route(
        "closures:request_withdraw",
        EVERYONE,
        method="POST",
        kwargs=lambda w: {"pk": w.closure_request.pk},
        ok=(302,),
    ),
    Route("closures:bulk", MANAGERS),
    Route("closures:bulk", MANAGERS, query="ids=1&ids=2"),
    Route(
        "closures:bulk",
        MANAGERS,
        method="POST",
        data=lambda w: {
            "selection": tokens.sign_selection([w.customer.pk]),
            "choice": f"close:{w.close_reason.pk}",
            "notes": "",
            "settlement_note": "",
        },
    ),
    # "Retry the skipped cards" on a bulk result: their ids back into a new first step.
    Route("closures:bulk", MANAGERS, method="POST", data=lambda w: {"ids": str(w.customer.pk), "retry": "1"}),
    Route("closures:bulk_confirm", MANAGERS, method="POST", data=lambda w: {"token": bulk_token(w)}),
    # The lead's pages (reason management, settings, audit log).
    Route("closures:reason_list", ADMINS),
    Route("closures:reason_create", ADMINS),
    Route("closures:reason_edit", ADMINS, kwargs=lambda w: {"pk": w.reason_to_edit.pk}),
    Route("closures:category_create", ADMINS),
    Route(
        "closures:category_create",
        ADMINS,
        method="POST",
        data=lambda w: {"label_en": "Walked in", "label_zh": "", "display_order": "5", "is_active": "on"},
        ok=(302,),
    ),
    Route("closures:category_edit", ADMINS, kwargs=lambda w: {"pk": w.category.pk}),
    Route("closures:category_merge", ADMINS, kwargs=lambda w: {"pk": w.category.pk}),
    Route(
        "closures:category_merge",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.category.pk},
        data=lambda w: {"target": w.merge_target.pk},
        ok=(302,),
    ),
    Route("closures:settings", ADMINS),
    Route("closures:audit", MANAGERS),
    # The import of historical closures (Admin).
    Route("closures:import", ADMINS),
    Route("closures:import", ADMINS, method="POST", data=lambda w: {}),
    Route("closures:import_template", ADMINS, kwargs=lambda w: {"fmt": "csv"}),
    Route("closures:import_template", ADMINS, kwargs=lambda w: {"fmt": "xlsx"}),
    Route("closures:import_confirm", ADMINS, method="POST", data=lambda w: {"upload": "0" * 32}, ok=(302,)),
    Route("closures:import_marked", ADMINS, kwargs=lambda w: {"upload_id": "0" * 32}, ok=(404,)),
]
