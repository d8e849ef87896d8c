"""The public unsubscribe page (no login: the signed link is the check; followups/unsubscribe.py)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.permissions import public

from .. import messages
from ..links import LinkError, unsubscribe_followup
from ..unsubscribe import unsubscribe as withdraw
from ..unsubscribe import what_stops


def page_language(request, followup=None) -> str:
    """?lang= when it names one of our languages, else the follow-up's, the customer's, the visitor's."""
    chosen = request.GET.get("lang", "")
    codes = [code for code, _name in settings.LANGUAGES]
    if chosen in codes:
        return chosen
    if followup is not None:
        return followup.language or followup.customer.language or settings.LANGUAGE_CODE
    return translation.get_language() or settings.LANGUAGE_CODE


# csrf_exempt: mail clients send RFC 8058's one-click POST (body "List-Unsubscribe=One-Click") with
# no CSRF cookie. The signed token in the URL is the check, and the POST can only reduce contact,
# so a forged request could do nothing worse than what the link's owner may do anyway.
@public
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET: what will stop, with a one-click button; POST (the button or a mail client): stop it."""
    try:
        followup = unsubscribe_followup(token)
    except LinkError:
        with translation.override(page_language(request)):
            return render(request, "followups/link_invalid.html", {"company": messages.company()}, status=404)
    context = {"company": messages.company(), "erased": followup.customer.is_erased, "done": False}
    with translation.override(page_language(request, followup)):
        context["what"] = what_stops(followup)
        if request.method == "POST" and not context["erased"]:
            try:
                withdraw(followup)
                context["done"] = True
            except ValidationError:  # erased meanwhile
                context["erased"] = True
        return render(request, "followups/unsubscribe.html", context)
