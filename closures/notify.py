"""Telling a requester the outcome of their closure request by e-mail.

The app tells them anyway (the inbox count in every page's header, the inbox and the card); the
e-mail is for those not looking at the app, sent only when the requester has an address and mail
is configured (crm.invitations.mail_enabled: CRM_MAIL_ENABLED, or a backend that delivers). It goes
after the decision commits (``transaction.on_commit``), so a decision rolled back mails nobody and a
slow or failing mail server never holds the row locks nor undoes a decision: a failure is logged.
It is written in the language the requester used when asking (ClosureRequest.language; the site's
language for older requests), through the configured EMAIL_BACKEND, by a Celery task (a worker
when CELERY_BROKER_URL is set, in-process otherwise: closures/tasks.py).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from crm import invitations

from .models import ClosureRequest

logger = logging.getLogger(__name__)


def tell_requester_after_commit(closure_request: ClosureRequest, *, request=None) -> None:
    """Mail the requester the outcome once the current transaction commits (now, outside one).

    Through a Celery task, so with a broker (CELERY_BROKER_URL) a batch of decisions does not wait
    for the mail server; without one the task runs in-process. ``robust``: a broker that cannot be
    reached is logged, and the decision stands.
    """
    from . import tasks  # the task module imports this one

    link = request.build_absolute_uri(reverse("closures:my_requests")) if request is not None else ""
    pk = closure_request.pk
    transaction.on_commit(lambda: tasks.tell_requester.delay(pk, link), robust=True)


def tell_requester(pk: int, *, link: str = "") -> bool:
    """Mail request ``pk``'s requester its outcome; False when they have no address or sending failed."""
    try:
        related = ("requested_by", "decided_by", "customer", "reason")
        closure_request = ClosureRequest.objects.select_related(*related).get(pk=pk)
        requester = closure_request.requested_by
        if not requester.email or not requester.is_active or not invitations.mail_enabled():
            return False
        with translation.override(closure_request.language or settings.LANGUAGE_CODE):
            context = {"req": closure_request, "link": link}
            subject = " ".join(render_to_string("closures/decision_email_subject.txt", context).split())
            body = render_to_string("closures/decision_email.txt", context)
        send_mail(subject, body, None, [requester.email])
        return True
    except Exception:
        logger.exception("Could not mail the outcome of closure request %s to its requester", pk)
        return False
