from .routes import ADMINS, EVERYONE, Route

ROUTES = [
    Route("login", EVERYONE, public=True, ok=(200, 302)),
    Route("logout", EVERYONE, method="POST", ok=(302,)),
    Route("password_change", EVERYONE),
    Route("password_change_done", EVERYONE),
    Route("set_language", EVERYONE, method="POST", data=lambda w: {"language": "zh-hans"}, public=True, ok=(302,)),
    Route("healthz", EVERYONE, public=True),
    # Everyone with a role has an inbox (crm/inbox.py); a user without one has no source: 403.
    Route("inbox", EVERYONE),
    Route("users:list", ADMINS),
    Route("users:create", ADMINS),
    # A new user without an email address: the page shows their one-time invitation link.
    Route(
        "users:create",
        ADMINS,
        method="POST",
        data=lambda w: {"username": "route_new", "role": "Staff", "is_active": "on"},
    ),
    Route("users:edit", ADMINS, kwargs=lambda w: {"pk": w.staff_user.pk}),
    Route("users:data_scopes", ADMINS),
    # Saving the scopes as they are: "Nothing changed", back to the page.
    Route("users:data_scopes", ADMINS, method="POST", data=lambda w: {"Staff": "all", "Manager": "all"}, ok=(302,)),
    Route("users:reset_link", ADMINS, method="POST", kwargs=lambda w: {"pk": w.staff_user.pk}, ok=(302,)),
    # The emailed link is opened logged out: a bad token shows "this link is not valid".
    Route("password_reset_confirm", EVERYONE, kwargs=lambda w: {"uidb64": "MQ", "token": "not-a-token"}, public=True),
    Route("password_reset_complete", EVERYONE, public=True),
    # The world's job is an Admin's finished closures export: only that Admin may see it.
    Route("jobs:status", ADMINS, kwargs=lambda w: {"pk": w.job.pk}, denied=404),
    Route("jobs:download", ADMINS, kwargs=lambda w: {"pk": w.job.pk}, denied=404),
    Route("jobs:retry", ADMINS, method="POST", kwargs=lambda w: {"pk": w.job.pk}, denied=404, ok=(302,)),
]
