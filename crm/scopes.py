"""Who sees which card (数据范围): the one rule every read path of a card applies.

A user's scope (:func:`scope_of`) comes from their role's :class:`~crm.models.DataScope` row:
``own`` (cards they own), ``team`` (cards owned by anyone of a team they belong to or manage, their
own included) or ``all``. Admins and superusers always see all cards; a role with no row sees all
(the default of an existing install). :func:`q` turns the scope into a condition on a card, or on a
row reached from a card through ``via`` (``"customer__"`` for a ticket, a closure...), so lists,
counts and lookups of every app filter the same way:

    Customer.objects.visible_to(user)                       # customers.models
    Ticket.objects.filter(scopes.q(user, "customer__"))      # any row of a card

Outside their scope a card does not exist for the user: a lookup answers 404, a count leaves it
out. Cards with no owner are outside every ``own`` and ``team`` scope. The scope is read once per
user object (a request's user) and cached on it.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import audit, inbox
from .models import DataScope, Team
from .roles import ADMIN, SCOPED_ROLES

ALL, TEAM, OWN = DataScope.Scope.ALL, DataScope.Scope.TEAM, DataScope.Scope.OWN
_CACHE = "_crm_scope"
CACHE_KEY = "crm:data-scopes"


def scope_of(user) -> str:
    """``all``, ``team`` or ``own`` for ``user`` (cached on the user object). While no role is scoped
    (an install's default) this reads nothing but the cache."""
    cached = getattr(user, _CACHE, None)
    if cached is not None:
        return cached[0]
    scope, members = ALL, ()
    scoped = role_scopes()
    if scoped and user.is_authenticated and not user.is_superuser:
        # An API token acts as its role, whatever its owner's (api.tokens.token_user sets ``scope_roles``).
        roles = getattr(user, "scope_roles", None) or [g.name for g in user.groups.all()]
        if ADMIN not in roles and roles:
            # A user in two roles gets the wider of their scopes; a role without a row sees all.
            chosen = {scoped.get(role, ALL) for role in roles}
            scope = ALL if ALL in chosen else TEAM if TEAM in chosen else OWN
            if scope == TEAM:
                members = _team_members(user)
    setattr(user, _CACHE, (scope, members))
    return scope


def role_scopes() -> dict[str, str]:
    """The scoped roles, ``{role: scope}`` without the ones that see all; kept in the cache."""
    scoped = cache.get(CACHE_KEY)
    if scoped is None:
        rows = DataScope.objects.exclude(scope=ALL).values_list("role", "scope")
        scoped = dict(rows)
        cache.set(CACHE_KEY, scoped, 300)
    return scoped


def _team_members(user) -> tuple[int, ...]:
    teams = Team.objects.filter(Q(members=user) | Q(manager=user), active=True).values("pk")
    ids = set(Team.members.through.objects.filter(team__in=teams).values_list("user_id", flat=True)) | {user.pk}
    return tuple(sorted(pk for pk in ids if pk is not None))


def q(user, via: str = "") -> Q:
    """The condition on a card (or on a row reached from one through ``via``) that ``user`` may see."""
    scope = scope_of(user)
    if scope == ALL:
        return Q()
    if scope == OWN:
        return Q(**{f"{via}owner_id": user.pk})
    return Q(**{f"{via}owner_id__in": getattr(user, _CACHE)[1]})


def owners(user) -> tuple[int, ...] | None:
    """The owners whose cards ``user`` sees, or None when they see every card (for code that counts
    by owner itself: the dashboards, analytics/population.py)."""
    scope = scope_of(user)
    if scope == ALL:
        return None
    return (user.pk,) if scope == OWN else getattr(user, _CACHE)[1]


def is_scoped(user) -> bool:
    return scope_of(user) != ALL


def current() -> dict[str, str]:
    """Every scoped role's scope, ``all`` where it has no row: ``{"Staff": "own", "Manager": "all"}``."""
    rows = dict(DataScope.objects.filter(role__in=SCOPED_ROLES).values_list("role", "scope"))
    return {role: rows.get(role, ALL) for role in SCOPED_ROLES}


def change(chosen: dict[str, str], *, by, request=None) -> dict[str, list[str]]:
    """Set the scope of each role in ``chosen`` (``{role: scope}``), audited with the old and new
    values; returns the changes. Every process reads the new scopes on its next request (the cached
    ones are dropped after the commit), and every user's inbox counts are counted again."""
    with transaction.atomic():
        before = current()
        changes = {role: [before[role], scope] for role, scope in chosen.items() if before.get(role) != scope}
        if not changes:
            return {}
        for role, (_old, scope) in changes.items():
            DataScope.objects.update_or_create(
                role=role, defaults={"scope": scope, "changed_by": by, "changed_at": timezone.now()}
            )
        audit.record("scopes.update", actor=by, request=request, object_type="datascope", changes=changes)
        transaction.on_commit(lambda: cache.delete(CACHE_KEY))
        for source in inbox.all_sources():
            inbox.changed(source.key)
    cache.delete(CACHE_KEY)
    return changes


def forget(user) -> None:
    """Drop the cached scope (after the user's role, team or their role's scope changed)."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def visible(queryset, user, via: str = "customer__"):
    """``queryset`` (rows of a card: tickets, closures, follow-ups...) cut to the cards ``user`` sees."""
    condition = q(user, via)
    return queryset.filter(condition) if condition else queryset
