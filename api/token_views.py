"""Integration → API tokens: the Admins' page to give other systems a token and take it back."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.permissions import require

from . import tokens
from .models import ApiToken
from .token_forms import TokenForm

PERMISSION = "api.manage_tokens"
CALLS_PER_PAGE = 50


@require(PERMISSION)
def token_list(request):
    listed = ApiToken.objects.select_related("owner").order_by("revoked_at", "name")
    return render(request, "api/token_list.html", {"tokens": listed})


@require(PERMISSION)
def token_create(request):
    """A new token; its secret is shown on the answer to this form and never again."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        token, secret = tokens.create_token(
            name=data["name"],
            owner=data["owner"],
            role=data["role"],
            by=request.user,
            expires_at=form.expires_at,
            allowed_ips=data["allowed_ips"],
        )
        response = render(request, "api/token_created.html", {"token": token, "secret": secret})
        add_never_cache_headers(response)  # the secret is in no cache, no history to come back to
        return response
    return render(request, "api/token_form.html", {"form": form})


@require(PERMISSION)
def token_detail(request, pk):
    token = get_object_or_404(ApiToken.objects.select_related("owner", "created_by", "revoked_by"), pk=pk)
    calls = Paginator(token.calls.order_by("-at", "-id"), CALLS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"token": token, "calls": calls, "log_days": settings.API_CALL_LOG_DAYS}
    return render(request, "api/token_detail.html", context)


@require(PERMISSION)
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk)
    tokens.revoke(token, by=request.user)
    messages.success(request, _("Token “%(name)s” revoked: it no longer works.") % {"name": token.name})
    return redirect("integration:token_detail", pk=token.pk)
