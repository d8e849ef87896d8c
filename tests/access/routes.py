from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLES = ("staff", "manager", "admin")
EVERYONE = frozenset(ROLES)
MANAGERS = frozenset({"manager", "admin"})
ADMINS = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    """How one URL pattern answers each role.

    ``kwargs`` and ``data`` take the test's ``world`` (objects built once per test) and return
    the URL arguments and the POST body. ``ok`` are the acceptable statuses for an allowed role;
    a role not in ``allowed`` must get ``denied`` (403; 404 for objects
    that belong to someone else), and an anonymous visitor a redirect to the login
    page (unless ``public``).
    """

    name: str
    allowed: frozenset[str]
    method: str = "GET"
    kwargs: Callable[[Any], dict] = field(default=lambda w: {})
    data: Callable[[Any], dict] = field(default=lambda w: {})
    query: str = ""
    ok: tuple[int, ...] = (200,)
    denied: int = 403
    public: bool = False
