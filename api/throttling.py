"""Rate limits: each token (or person, on the browsable API) gets API_RATE_LIMIT calls ("600/min" by
default; "/s", "/min", "/hour", "/day"); beyond it the API answers 429 with Retry-After, the seconds
until the next call is let in. Counted in the cache (Redis when REDIS_URL is set)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class PerCaller(SimpleRateThrottle):
    scope = "caller"

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view):
        token = getattr(request.user, "api_token", None)
        if token is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"token-{token.pk}"}
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}
        return None  # not logged in: refused before any work (401), nothing to count
