"""The owners' daily risk digest by e-mail: what Celery beat (insights/tasks.py, after the nightly
scoring run) and ``manage.py send_risk_digest`` call.

    send_digests(now=None) -> Digests   # one e-mail per owner with something new; what happened

Where configured: the setting INSIGHTS_DIGEST_EMAIL (default off) and mail that reaches people
(crm.invitations.mail_enabled). Users have no preferences of their own, so the setting alone
decides; every owner with an address, who may see the scores, gets theirs.

Each owner's e-mail lists their customers **newly at risk** — open warnings on their active cards
that became news (raised, or reached high risk: ``RiskWarning.alerted_at``) since their last digest,
or in the last 24 hours before their first, and never more than ``NEW_DAYS`` back (a day the mail
did not go out is caught up the next) — with the number, name, band, risk, the top reason in
words, the value at risk and a link to the card; and their **retention callbacks** not yet made,
due today or earlier. Something new is a customer newly at risk or a callback that fell due since
the last digest; an owner with nothing new gets no mail. It is written in the language the owner
reads the app in (``DigestReader``, the site's language until known).

At most one digest per owner and day (``DigestSent``, unique): a second run the same day mails
nobody twice. The row is written in the transaction that sends, so a mail the server refused is
not recorded and the next run tries again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from crm import invitations
from customers.models import Customer

from . import risk
from .inbox import NEW_DAYS
from .models import DigestReader, DigestSent, RetentionAction, RiskWarning

logger = logging.getLogger(__name__)
MAX_ROWS = 50  # customers listed in one e-mail; the link to the list has them all
ACTIVE = Customer.Status.ACTIVE


@dataclass
class Digests:
    """What one run did: digests sent, owners with something new but no address (skipped), owners
    already sent today's, owners whose mail failed; ``off`` when the digest is not configured."""

    sent: int = 0
    no_address: int = 0
    already: int = 0
    failed: int = 0
    off: bool = False


def enabled() -> bool:
    return bool(getattr(settings, "INSIGHTS_DIGEST_EMAIL", False)) and invitations.mail_enabled()


def _link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _news(earliest: datetime, today) -> tuple[dict, dict]:
    """Warnings alerted since ``earliest`` by owner, and callbacks due by assignee (two queries)."""
    warnings = (
        RiskWarning.objects.filter(cleared_on=None, alerted_at__gte=earliest, customer__status=ACTIVE)
        .exclude(customer__owner_id=None)
        .values(
            *("customer_id", "alerted_at", "risk", "reasons", "value_at_risk"),
            *("customer__customer_no", "customer__name", "customer__owner_id"),
            *("customer__score__risk", "customer__score__reasons", "customer__score__value_at_risk"),
        )
    )
    by_owner = defaultdict(list)
    for row in warnings:
        by_owner[row["customer__owner_id"]].append(row)
    callbacks = (
        RetentionAction.objects.filter(
            kind=RetentionAction.Kind.CALLBACK, done_at=None, due_on__lte=today, customer__status=ACTIVE
        )
        .exclude(assigned_to_id=None)
        .order_by("due_on", "pk")
        .values("assigned_to_id", "customer_id", "customer__customer_no", "customer__name", "due_on", "note")
    )
    by_assignee = defaultdict(list)
    for row in callbacks:
        by_assignee[row["assigned_to_id"]].append(row)
    return by_owner, by_assignee


def send_digests(now: datetime | None = None) -> Digests:
    """Mail every owner with something new their digest (see the module docstring)."""
    done = Digests()
    if not enabled():
        done.off = True
        return done
    now = now or timezone.now()
    today = timezone.localdate(now)
    earliest = now - timedelta(days=NEW_DAYS)
    by_owner, by_assignee = _news(earliest, today)
    candidates = set(by_owner) | set(by_assignee)
    if not candidates:
        return done
    digests = DigestSent.objects.filter(user_id__in=candidates)
    last_sent = dict(digests.values("user_id").annotate(last=Max("sent_at")).values_list("user_id", "last"))
    sent_today = set(digests.filter(day=today).values_list("user_id", flat=True))
    languages = dict(DigestReader.objects.filter(user_id__in=candidates).values_list("user_id", "language"))
    for user in get_user_model().objects.filter(pk__in=candidates, is_active=True).order_by("pk"):
        if user.pk in sent_today:
            done.already += 1
            continue
        since = max(last_sent.get(user.pk) or now - timedelta(days=1), earliest)
        new = [w for w in by_owner.get(user.pk, []) if w["alerted_at"] > since]
        due = by_assignee.get(user.pk, [])
        fell_due = [c for c in due if c["due_on"] > timezone.localdate(since)]
        if not (new or fell_due) or not user.has_perm("insights.view_score"):
            continue
        if not user.email:
            done.no_address += 1
            continue
        language = languages.get(user.pk) or settings.LANGUAGE_CODE
        outcome = _send(user, new, due, today=today, now=now, language=language)
        setattr(done, outcome, getattr(done, outcome) + 1)
    return done


def _send(user, new: list[dict], due: list[dict], *, today, now: datetime, language: str) -> str:
    """Record and send one owner's digest: "sent", "already" (another run sent it meanwhile) or
    "failed" (the mail server refused it: nothing recorded, the next run tries again)."""
    try:
        with transaction.atomic():
            _row, created = DigestSent.objects.get_or_create(
                user=user, day=today, defaults={"sent_at": now, "customers": len(new), "callbacks": len(due)}
            )
            if not created:
                return "already"
            with translation.override(language):
                message(user, new, due).send()
    except Exception:
        logger.exception("The risk digest for user %s was not sent", user.pk)
        return "failed"
    return "sent"


def message(user, new: list[dict], due: list[dict]) -> EmailMultiAlternatives:
    """One owner's digest, in the active language: plain text with an HTML alternative."""
    rows = []
    for w in sorted(new, key=lambda w: -(w["customer__score__value_at_risk"] or w["value_at_risk"])):
        level = w["customer__score__risk"] if w["customer__score__risk"] is not None else w["risk"]
        reasons = w["customer__score__reasons"] or w["reasons"] or []
        rows.append(
            {
                "number": w["customer__customer_no"],
                "name": w["customer__name"],
                "band": risk.band(level)["label"],
                "risk": level,
                "reason": risk.describe(reasons[0]) if reasons else "",
                "value_at_risk": w["customer__score__value_at_risk"] or w["value_at_risk"],
                "link": _link(reverse("customers:card", args=[w["customer_id"]])),
            }
        )
    callbacks = [{**c, "link": _link(reverse("customers:card", args=[c["customer_id"]]))} for c in due[:MAX_ROWS]]
    context = {
        "user": user,
        "rows": rows[:MAX_ROWS],
        "more": max(0, len(rows) - MAX_ROWS),
        "callbacks": callbacks,
        "more_callbacks": max(0, len(due) - MAX_ROWS),
        "list_link": _link(f"{reverse('insights:at_risk')}?owner={user.pk}&new={NEW_DAYS}"),
        "inbox_link": _link(reverse("inbox")),
    }
    if rows:
        subject = ngettext(
            "%(count)d of your customers newly at risk", "%(count)d of your customers newly at risk", len(rows)
        ) % {"count": len(rows)}
    else:
        subject = ngettext("%(count)d retention callback due", "%(count)d retention callbacks due", len(due)) % {
            "count": len(due)
        }
    text = render_to_string("insights/digest_email.txt", context)
    mail = EmailMultiAlternatives(subject, text, None, [user.email])
    mail.attach_alternative(render_to_string("insights/digest_email.html", context), "text/html")
    return mail
