"""Who may use each privacy:* route: Admins only (privacy.manage_datarequest, privacy.manage_retention);
Staff and Managers 403."""

from .routes import ADMINS, Route


def _req(name):
    return lambda w: {"pk": getattr(w, name).pk}


ROUTES = [
    Route("privacy:list", ADMINS),
    Route("privacy:list", ADMINS, query="show=overdue&kind=correction"),
    Route("privacy:list", ADMINS, query="show=done&kind=access&page=2"),
    Route("privacy:list", ADMINS, query="show=9&kind=x&page=y"),
    Route("privacy:create", ADMINS),
    Route(
        "privacy:create",
        ADMINS,
        method="POST",
        data=lambda w: {"customer_no": "NOPE-1", "kind": "bogus", "received_on": "2026-13-40"},
    ),
    Route(
        "privacy:create",
        ADMINS,
        method="POST",
        data=lambda w: {"customer_no": w.customer.customer_no, "kind": "access", "received_on": "2099-01-01"},
    ),
    Route("privacy:register", ADMINS, kwargs=lambda w: {"pk": w.customer.pk}),
    Route(
        "privacy:register",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.customer.pk},
        data=lambda w: {"kind": "access", "received_on": "2026-01-05", "notes": "电话"},
        ok=(302,),
    ),
    Route("privacy:detail", ADMINS, kwargs=_req("access_request")),
    Route("privacy:detail", ADMINS, kwargs=_req("unchecked_request")),
    Route("privacy:detail", ADMINS, kwargs=_req("erasure_request")),
    Route("privacy:identity", ADMINS, method="POST", kwargs=_req("unchecked_request"), ok=(302,)),
    Route("privacy:identity", ADMINS, method="POST", kwargs=_req("access_request"), ok=(302,)),  # checked already
    Route(
        "privacy:export",
        ADMINS,
        method="POST",
        kwargs=_req("access_request"),
        data=lambda w: {"format": "xlsx"},
        ok=(302,),
    ),
    Route(
        "privacy:export",
        ADMINS,
        method="POST",
        kwargs=_req("unchecked_request"),
        data=lambda w: {"format": "x"},
        ok=(302,),
    ),
    Route(
        "privacy:download",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.access_request.pk, "job": w.access_job.pk},
    ),
    Route(
        "privacy:complete",
        ADMINS,
        method="POST",
        kwargs=_req("access_request"),
        data=lambda w: {"note": "已寄出"},
        ok=(302,),
    ),
    Route(
        "privacy:complete",
        ADMINS,
        method="POST",
        kwargs=_req("unchecked_request"),
        data=lambda w: {"note": ""},
        ok=(302,),
    ),
    Route("privacy:complete", ADMINS, method="POST", kwargs=_req("erasure_request"), data=lambda w: {"note": ""}),
    Route(
        "privacy:refuse",
        ADMINS,
        method="POST",
        kwargs=_req("erasure_request"),
        data=lambda w: {"note": "无法核验身份"},
        ok=(302,),
    ),
    Route("privacy:refuse", ADMINS, method="POST", kwargs=_req("erasure_request"), data=lambda w: {"note": ""}),
    Route("privacy:retention", ADMINS),
    Route("privacy:retention_rule", ADMINS, kwargs=lambda w: {"pk": w.retention_rule.pk}),
    Route(
        "privacy:retention_rule",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.retention_rule.pk},
        data=lambda w: {"after_months": "48", "enabled": "on"},
        ok=(302,),
    ),
    Route(
        "privacy:retention_rule",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.retention_rule.pk},
        data=lambda w: {"after_months": "0"},
    ),
    Route("privacy:retention_list", ADMINS, kwargs=lambda w: {"pk": w.retention_rule.pk}),
    Route("privacy:retention_start", ADMINS, method="POST", ok=(302,)),
    Route("privacy:retention_run", ADMINS, kwargs=lambda w: {"job": w.retention_job.pk}),
    Route("privacy:holds", ADMINS),
    Route("privacy:hold", ADMINS, kwargs=lambda w: {"pk": w.free_card.pk}),
    Route("privacy:hold", ADMINS, kwargs=lambda w: {"pk": w.hold_card.pk}),
    Route(
        "privacy:hold",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.free_card.pk},
        data=lambda w: {"reason": "Dispute"},
        ok=(302,),
    ),
    Route(
        "privacy:hold", ADMINS, method="POST", kwargs=lambda w: {"pk": w.hold_card.pk}, data=lambda w: {"reason": "x"}
    ),
    Route("privacy:release", ADMINS, kwargs=lambda w: {"pk": w.hold.pk}),
    Route(
        "privacy:release",
        ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.hold.pk},
        data=lambda w: {"note": "Audit closed"},
        ok=(302,),
    ),
    Route("privacy:release", ADMINS, method="POST", kwargs=lambda w: {"pk": w.hold.pk}, data=lambda w: {"note": ""}),
]
