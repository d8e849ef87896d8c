"""Request plumbing for security: sessions that end after inactivity, the log-in page for a
part of a page whose session ended, and the client's address."""

import ipaddress
import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, SESSION_KEY
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

# When the session's expiry was last pushed forward (seconds since the epoch).
STAMP_KEY = "_crm_active_at"


class IdleSessionMiddleware:
    """A logged-in session ends after SESSION_IDLE_MINUTES without a request, not after a fixed time.

    Django stores a session's expiry when the session is saved (SESSION_COOKIE_AGE from then),
    and saves it only when it changes, so on its own a session dies that long after log-in
    however busy the user is. SESSION_SAVE_EVERY_REQUEST would fix that at the price of a
    database write on every page view. Here the expiry moves forward only once less than half
    of the idle window is left: a user who keeps working never sees a log-in page, a session
    left alone for the window is gone, and a busy user costs one session write per half window.

    The session backend refuses an expired session by itself; the stamp check below is a
    second line for backends that keep sessions longer than the window (a cache without TTL).
    Must come after SessionMiddleware and before AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is None:
            return self.get_response(request)
        now = int(time.time())
        window = settings.SESSION_COOKIE_AGE
        if SESSION_KEY in session:
            stamp = session.get(STAMP_KEY)
            if isinstance(stamp, int) and now - stamp >= window:
                session.flush()  # idle too long: this request continues as an anonymous visitor
            elif not isinstance(stamp, int) or now - stamp >= window / 2:
                session[STAMP_KEY] = now  # marks the session modified: saved with a new expiry
        response = self.get_response(request)
        # Saved anyway (log-in, messages...): the expiry moves forward for free, so record it.
        if session.modified and SESSION_KEY in session:
            session[STAMP_KEY] = now
        return response


class HtmxLoginMiddleware:
    """An htmx request sent to log in again (its session ended) takes the whole page to the log-in page.

    Without this the browser follows the redirect inside the request and htmx swaps the log-in
    page into the part being updated: search results, a filter panel, a job's progress bar.
    Instead the answer tells htmx to load the log-in page as a page (``HX-Redirect``), coming
    back afterwards to the page the user was on (htmx's ``HX-Current-URL``, path and query
    only) rather than to the fragment's own URL. Other redirects are left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302, 303, 307, 308):
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login:
            return response
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = (current.path or "/") + (f"?{current.query}" if current.query else "")
        return HttpResponseClientRedirect(f"{login}?{urlencode({REDIRECT_FIELD_NAME: back})}")


def client_ip(request) -> str | None:
    """The client's address, for lockouts (django-axes) and the audit trail.

    Without a proxy it is REMOTE_ADDR. Behind the TLS proxy (BEHIND_TLS_PROXY=1) REMOTE_ADDR is
    the proxy, and the client is the entry the proxy appended to X-Forwarded-For: the last one
    with one proxy, the PROXY_HOPS-th from the end with several. Entries further left come from
    the client itself and may be forged, so they are never trusted: an attacker who could pick
    their address could escape the lockout by changing it on every attempt.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    if not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    depth = max(1, settings.PROXY_HOPS)
    if len(hops) >= depth and _is_ip(hops[-depth]):
        return hops[-depth]
    return remote


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
