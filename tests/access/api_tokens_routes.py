"""Who may use each integration:token* route: Admins only (api.manage_tokens)."""

from .routes import ADMINS, Route


def _token(w) -> dict:
    return {"pk": w.api_token.pk}


ROUTES = [
    Route("integration:tokens", ADMINS),
    Route("integration:token_create", ADMINS),
    Route(
        "integration:token_create",
        ADMINS,
        method="POST",
        data=lambda w: {"name": "", "owner": "x", "role": "nope", "allowed_ips": "bad"},
    ),
    Route("integration:token_detail", ADMINS, kwargs=_token),
    Route("integration:token_detail", ADMINS, kwargs=_token, query="page=x"),
    Route("integration:token_revoke", ADMINS, method="POST", kwargs=_token, ok=(302,)),
]
