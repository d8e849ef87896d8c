"""``Idempotency-Key``: a write sent twice (a retry after a timeout, a double submit) happens once.

Every POST and PATCH of the API accepts the header (``@idempotent`` on the view's method):

- the same key with the same body, by the same user (a token acts as its owner, api.tokens), gets
  the first answer again, status and body, with ``Idempotent-Replayed: true``; nothing runs again;
- the same key with another body (or another method or path) is refused: 422
  ``idempotency_key_reused``;
- keys are kept 24 hours (KEEP); after that a key may be used afresh.

The key's row (api.models.IdempotencyKey) is inserted *before* the write runs, in the write's
transaction, under a unique (user, key) constraint: a second request with the same key, arriving
while the first one runs, waits on that row (PostgreSQL blocks the duplicate insert until the first
transaction ends) and then replays the first one's answer, so the two never both execute. Answers
of 5xx are not kept (the transaction rolls back and the key with it): a retry runs again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import wraps

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .errors import ApiError
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
KEEP = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255

REUSED = _(
    "This Idempotency-Key was already used for another request (a different body, method or path). "
    "Use a new key for a new request."
)
TOO_LONG = _("An Idempotency-Key has at most %(max)d characters.")
IN_PROGRESS = _("A request with this Idempotency-Key is still being processed; try again in a moment.")


def fingerprint(request) -> str:
    """SHA-256 of the method, the path with its query and the parsed body (key order ignored)."""
    data = request.data if hasattr(request.data, "keys") else list(request.data or [])
    text = json.dumps([request.method, request.get_full_path(), data], sort_keys=True, cls=JSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent(handler):
    """Make a view method (post, patch) honour the Idempotency-Key header."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = (request.headers.get(HEADER) or "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError.of("idempotency_key_invalid", TOO_LONG, max=MAX_KEY_LENGTH)
        with transaction.atomic():
            row, replay = _claim(request, key)
            if replay is not None:
                return replay
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:  # answered in the API's error shape and kept, as a success is
                response = view.handle_exception(exc)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            row.status = response.status_code
            row.response = json.loads(json.dumps(response.data, cls=JSONEncoder))
            row.save(update_fields=["status", "response"])
        return response

    return wrapper


def _claim(request, key: str) -> tuple[IdempotencyKey, Response | None]:
    """The key's row, new (nothing to replay) or the first request's answer to replay."""
    user_id = request.user.pk
    body_hash = fingerprint(request)
    now = timezone.now()
    values = {"method": request.method, "path": request.path[:500], "body_hash": body_hash, "created_at": now}
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(user_id=user_id, key=key, **values)
    except IntegrityError:
        row = IdempotencyKey.objects.select_for_update().get(user_id=user_id, key=key)
    else:
        IdempotencyKey.objects.filter(user_id=user_id, created_at__lt=now - KEEP).delete()
        return row, None
    if row.created_at < now - KEEP:  # expired: the key starts afresh
        IdempotencyKey.objects.filter(pk=row.pk).update(status=None, response=None, **values)
        row.refresh_from_db()
        return row, None
    if row.body_hash != body_hash:
        raise ApiError.of("idempotency_key_reused", REUSED, status_code=422)
    if row.status is None:
        raise ApiError.of("idempotency_in_progress", IN_PROGRESS, status_code=409)
    return row, Response(row.response, status=row.status, headers={"Idempotent-Replayed": "true"})
