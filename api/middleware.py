"""The log of every call made with an API token (api.models.ApiCall).

Placed after authentication: DRF authenticates inside the view and sets the user on the request,
so when the response comes back here a token's call is known by ``request.user.api_token``.
A call refused before that (an unknown or revoked token, 401) belongs to no token and is not kept.

On PostgreSQL the row is committed without waiting for the disk (``synchronous_commit`` off for its
own transaction only): a log row is not worth a disk flush on every call (1–3 ms here); a crash may
lose the last fraction of a second of the log, never a change the call made (those commit as usual,
with their audit entries).
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from crm.middleware import client_ip

from .models import ApiCall

PREFIX = "/api/"


class CallLog:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        token = getattr(getattr(request, "user", None), "api_token", None)
        if token is not None:
            _log(
                token=token,
                method=request.method[:10],
                # Without the query (a search may name a person); a NUL (refused, 400) cannot be stored.
                path=request.path.replace("\x00", "\ufffd")[:300],
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000),
                ip=client_ip(request),
            )
        return response


def _log(**fields) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        ApiCall.objects.create(**fields)
