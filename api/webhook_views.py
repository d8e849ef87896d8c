"""The webhook pages under /integration/webhooks/ (Admins: api.manage_webhooks): the endpoints, add
(the secret shown once), edit, send a test event, rotate the secret, the delivery log and redelivery.
api/webhooks.py does the writing, checks and audit; these views show forms and put a refusal next
to its field."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.permissions import require

from . import webhooks
from .models import WebhookDelivery, WebhookEndpoint
from .webhook_forms import EVENT_LABELS, EndpointForm

PERMISSION = "api.manage_webhooks"
LOG_PAGE = 50


@require(PERMISSION)
def webhook_list(request):
    pending = Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING))
    endpoints = WebhookEndpoint.objects.annotate(pending=pending).order_by("name", "id")
    return render(request, "api/webhook_list.html", {"endpoints": endpoints, "event_labels": EVENT_LABELS})


def _saved(form, save) -> bool:
    """Run the operation of a valid form; a refusal goes next to the URL (or on top)."""
    if not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except ValidationError as exc:
        form.add_error("url" if getattr(exc, "code", "") == "ssrf" else None, exc)
        return False
    return True


@require(PERMISSION)
def webhook_add(request):
    form = EndpointForm(request.POST or None)
    made = {}

    def save(data):
        made["endpoint"], made["secret"] = webhooks.create_endpoint(
            name=data["name"], url=data["url"], events=data["events"], fields=data["fields"], by=request.user,
            request=request,
        )  # fmt: skip

    if request.method == "POST" and _saved(form, save):
        # Shown here, in the answer to the POST, and nowhere else: the secret is not put in a session.
        return render(request, "api/webhook_secret.html", {**made, "new": True})
    return render(request, "api/webhook_form.html", {"form": form, "title": _("New webhook endpoint")})


@require(PERMISSION)
def webhook_edit(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {f: getattr(endpoint, f) for f in ("name", "url", "events", "fields", "enabled")}
    form = EndpointForm(request.POST or None, initial=initial, editing=True)

    def save(data):
        webhooks.update_endpoint(
            endpoint, name=data["name"], url=data["url"], events=data["events"], fields=data["fields"],
            enabled=data["enabled"], by=request.user, request=request,
        )  # fmt: skip

    if request.method == "POST" and _saved(form, save):
        messages.success(request, _("Saved."))
        return redirect("integration:webhook_list")
    context = {"form": form, "endpoint": endpoint, "title": _("Edit webhook endpoint")}
    return render(request, "api/webhook_form.html", context)


@require_POST
@require(PERMISSION)
def webhook_test(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhooks.send_test(endpoint, by=request.user, request=request)
    messages.success(request, _("A test event is on its way to %(name)s; its delivery is at the top of the log.")
                     % {"name": endpoint.name})  # fmt: skip
    return redirect("integration:webhook_log", pk=endpoint.pk)


@require_POST
@require(PERMISSION)
def webhook_rotate(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    secret = webhooks.rotate_secret(endpoint, by=request.user, request=request)
    return render(request, "api/webhook_secret.html", {"endpoint": endpoint, "secret": secret, "new": False})


@dataclass
class LogPage:
    """A page of the log without counting it (the pagination include's names)."""

    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


@require(PERMISSION)
def webhook_log(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    number = _page_number(request)
    start = (number - 1) * LOG_PAGE
    rows = list(endpoint.deliveries.defer("body").order_by("-id")[start : start + LOG_PAGE + 1])
    page = LogPage(number, has_next=len(rows) > LOG_PAGE)
    for delivery in rows:
        delivery.type_label = EVENT_LABELS.get(delivery.type, delivery.type)
    context = {"endpoint": endpoint, "deliveries": rows[:LOG_PAGE], "page_obj": page}
    return render(request, "api/webhook_log.html", context)


@require_POST
@require(PERMISSION)
def webhook_redeliver(request, pk: int, delivery_pk: int):
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_pk, endpoint_id=pk)
    webhooks.redeliver(delivery, by=request.user, request=request)
    messages.success(request, _("Delivery evt_%(id)s will be sent again now.") % {"id": delivery.event_id})
    return redirect("integration:webhook_log", pk=pk)
