"""Driving the closure flow through its pages, as a user's browser would (no JavaScript needed)."""

from django.contrib.messages import get_messages
from django.urls import reverse

from closures.models import ClosureReason


def reason(code: str) -> ClosureReason:
    """A reason seeded by closures/migrations/0002_default_reasons.py."""
    return ClosureReason.objects.get(code=code)


def start_url(customer, action: str) -> str:
    return reverse("closures:start", kwargs={"pk": customer.pk, "action": action})


def confirm_url(customer, action: str) -> str:
    return reverse("closures:confirm", kwargs={"pk": customer.pk, "action": action})


def card_url(customer) -> str:
    return reverse("customers:card", kwargs={"pk": customer.pk})


def preview(client, customer, action: str, *, reason, notes: str = "", duplicate_of: str = ""):
    """Choose "Reason" and "Notes", press "Continue": the impact page (nothing changes yet)."""
    data = {"reason": reason.pk, "notes": notes}
    if duplicate_of:
        data["duplicate_of"] = duplicate_of
    return client.post(start_url(customer, action), data)


def token_of(response) -> str:
    return response.context["form"]["token"].value()


def confirm(client, customer, action: str, token: str, **fields):
    """Press "Confirm" on the impact page."""
    return client.post(confirm_url(customer, action), {"token": token, **fields})


def close_through_pages(client, customer, action: str, *, reason, notes: str = "", **fields):
    page = preview(client, customer, action, reason=reason, notes=notes)
    assert page.status_code == 200, page.content.decode()[:2000]
    return confirm(client, customer, action, token_of(page), **fields)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]
