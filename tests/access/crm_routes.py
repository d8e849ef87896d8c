from .routes import ADMINS, EVERYONE, Route

ROUTES = [
    Route("login", EVERYONE, public=True, ok=(200, 302)),
    Route("logout", EVERYONE, method="POST", ok=(302,)),
    Route("password_change", EVERYONE),
    Route("password_change_done", EVERYONE),
    Route("set_language", EVERYONE, method="POST", data=lambda w: {"language": "zh-hans"}, public=True, ok=(302,)),
    Route("healthz", EVERYONE, public=True),
    Route("users:list", ADMINS),
    Route("users:create", ADMINS),
    Route("users:edit", ADMINS, kwargs=lambda w: {"pk": w.staff_user.pk}),
    # The world's job is an Admin's finished closures export: only that Admin may see it.
    Route("jobs:status", ADMINS, kwargs=lambda w: {"pk": w.job.pk}, denied=404),
    Route("jobs:download", ADMINS, kwargs=lambda w: {"pk": w.job.pk}, denied=404),
    Route("jobs:retry", ADMINS, method="POST", kwargs=lambda w: {"pk": w.job.pk}, denied=404, ok=(302,)),
]
