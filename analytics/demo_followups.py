"""After the closure, in the demo data (seed_demo): consent, the follow-ups of the demo closures as
the senders and staff would have left them, a few answers, won-back flags and improvement actions,
so the follow-ups queue, the card's panels, the survey and the dashboard all have something to show
on a fresh ``make run``.

The follow-ups are planned by the app itself: the demo closures wrote their outbox events
(closures.writes) and :func:`seed_followups` hands them to the planner (``outbox.dispatch``), which
applies the follow-up policy (its defaults come with the followups migrations). What happened since
is then played out: messages due before now were sent (or skipped without consent, or failed),
about a third of the surveys were answered through ``followups.answers.record_answer`` (so each
answer is audited on the card's timeline), callbacks were mostly made. A few key accounts are
closed recently so that Staff have callbacks due today, overdue and upcoming.
"""

from __future__ import annotations

import datetime as dt
import random
from unittest import mock

from django.utils import timezone

from closures.models import Action, Category, ClosureReason, ClosureRequest
from crm import outbox
from crm.roles import MANAGER, STAFF
from customers import consent
from customers.models import ContactConsent, Customer
from followups.answers import record_answer
from followups.models import MARKETING_KINDS, Followup, Improvement, Kind, Rule
from followups.planner import add_working_days

SEED = 2026 + 19
MARKETING_SHARE, DNC_SHARE = 0.45, 0.02
SURVEY_ANSWERED = 0.35
COME_BACK = ["价格再便宜一点", "有新店开在我家附近", "Better prices for members", "积分能当钱用", "A proper app"]
CALL_NOTES = ["客户接听，态度平和", "客户说会考虑回来", "Explained how the balance was refunded"]
ERRORS = ["SMTPRecipientsRefused: 550 5.1.1 Recipient address rejected: User unknown"]
IMPROVEMENTS = [
    (150, "价格保护：30 天内降价补差 / Price protection for 30 days", [Category.PRICE], "After the price complaints."),
    (60, "客服热线延长到 22:00 / Service hotline until 22:00", [Category.SERVICE], "Two more agents in the evening."),
]


def seed_followups(customers: list[Customer], users: dict, now: dt.datetime) -> dict:
    """Consent, recent key-account closures, the planner, then the follow-ups' history; counts."""
    rng = random.Random(SEED)
    consents(customers, rng)
    recent_key_closures(users, now, rng)
    outbox.dispatch(["followups"])
    customers_by_pk = {c.pk: c for c in Customer.objects.filter(followups__isnull=False).distinct()}
    rows = list(Followup.objects.select_related("closure").order_by("due_at", "pk"))
    for row in rows:
        row.customer = customers_by_pk[row.customer_id]
        (callback if row.kind == Kind.CALLBACK else message)(row, users, now, rng)
    Followup.objects.bulk_update(
        rows,
        ["state", "attempts", "last_error", "sent_at", "address", "outcome", "due_at", "done_at", "done_by", "note"],
        batch_size=500,
    )
    answered = answer_surveys_and_calls(rows, now, rng)
    won_back(rows, rng)
    for days, title, categories, notes in IMPROVEMENTS:
        Improvement.objects.create(
            title=title,
            started_on=timezone.localdate(now) - dt.timedelta(days=days),
            categories=[str(c) for c in categories],
            notes=notes,
            created_by=users[MANAGER],
            created_at=now - dt.timedelta(days=days),
        )
    return {"followups": len(rows), "answers": answered}


def consents(customers: list[Customer], rng: random.Random) -> None:
    """Marketing consent on e-mail (and SMS) for ~45 % of the cards, "do not contact" for ~2 %."""
    rows = []
    for customer in customers:
        draw = rng.random()
        if draw < MARKETING_SHARE:
            given = customer.created_at + (timezone.now() - customer.created_at) * rng.random() * 0.5
            how = rng.choice(["注册表单 / sign-up form", "门店登记 / in store", "微信关注 / WeChat"])
            for channel in (ContactConsent.Channel.EMAIL, ContactConsent.Channel.SMS):
                rows.append(
                    ContactConsent(
                        customer=customer, channel=channel, marketing=True, marketing_at=given, marketing_how=how
                    )
                )
        elif draw < MARKETING_SHARE + DNC_SHARE:
            rows += [
                ContactConsent(customer=customer, channel=channel, service=False, do_not_contact=True)
                for channel in ContactConsent.Channel.values
            ]
    ContactConsent.objects.bulk_create(rows, batch_size=1000)


def recent_key_closures(users: dict, now: dt.datetime, rng: random.Random) -> None:
    """Close four active key accounts recently (Staff's and the Manager's), through the operations:
    a callback due today, one overdue, two upcoming."""
    from closures import operations
    from closures.rules import ClosureChoice

    reason = ClosureReason.objects.active().for_action(Action.CLOSE).filter(category=Category.PRICE).first()
    if reason is None or not Rule.objects.filter(kind=Kind.CALLBACK, active=True).exists():
        return
    pending = ClosureRequest.objects.filter(state=ClosureRequest.State.PENDING).values("customer_id")
    key = Customer.objects.filter(status=Customer.Status.ACTIVE, segment=Customer.Segment.KEY).exclude(pk__in=pending)
    today_9 = timezone.localtime(now).replace(hour=9, minute=0, second=0, microsecond=0)
    moments = [
        (users[STAFF], back_working_days(today_9, 3)),  # due today at 9:00
        (users[STAFF], now - dt.timedelta(days=12)),  # overdue
        (users[STAFF], now - dt.timedelta(hours=20)),  # upcoming
        (users[MANAGER], now - dt.timedelta(hours=2)),  # upcoming
    ]
    for owner, when in moments:
        customer = key.filter(owner=owner).order_by("pk").first()
        if customer is None or when > now:
            continue
        settle = {}
        if customer.balance or customer.points:
            settle = {"settlement": "refund", "settlement_method": "wechat"} if customer.balance else {}
            settle = settle or {"settlement": "forfeit", "forfeit_reason": "积分清零 / points written off"}
        with mock.patch("django.utils.timezone.now", return_value=when):
            operations.close_customer(
                customer, ClosureChoice(Action.CLOSE, reason, notes="", **settle), by=users[STAFF]
            )


def back_working_days(moment: dt.datetime, days: int) -> dt.datetime:
    """The moment ``days`` working days before ``moment`` (add_working_days backwards)."""
    for back in range(days, days + 7):
        earlier = moment - dt.timedelta(days=back)
        if earlier.weekday() < 5 and add_working_days(earlier, days) == moment:
            return earlier
    return moment - dt.timedelta(days=days)


def message(row: Followup, users: dict, now: dt.datetime, rng: random.Random) -> None:
    """A notice, survey or offer: pending if not due yet; else what the sender did with it."""
    customer, reverted = row.customer, row.closure.reverted_at
    if reverted is not None and reverted <= row.due_at:
        row.state, row.done_at = Followup.State.CANCELLED, reverted
        return
    if row.due_at > now or customer.is_erased:
        return  # pending (the planner cancelled an erased card's)
    purpose = consent.MARKETING if row.kind in MARKETING_KINDS else consent.SERVICE
    refused = consent.refusal(customer, row.channel, purpose)
    if refused or not customer.email:
        row.state, row.done_at = Followup.State.SKIPPED, row.due_at
        row.last_error = refused or "The customer has no e-mail address."
        row.sent_at = None
    elif rng.random() < 0.03:
        row.state, row.attempts, row.last_error = Followup.State.FAILED, 5, rng.choice(ERRORS)
        row.done_at = row.due_at + dt.timedelta(hours=3)
    else:
        row.state, row.attempts, row.address = Followup.State.SENT, 1, customer.email
        row.sent_at = row.due_at + dt.timedelta(seconds=rng.randint(5, 300))
        row.last_error = ""


def callback(row: Followup, users: dict, now: dt.datetime, rng: random.Random) -> None:
    """A callback: pending if due in the last two weeks or later (work in progress), else mostly made."""
    reverted = row.closure.reverted_at
    if row.customer.is_erased:
        return
    if row.due_at > now - dt.timedelta(days=14) and reverted is None:
        return
    draw = rng.random()
    if reverted is None and draw >= 0.9:
        return  # not done: overdue
    late = draw >= 0.7
    done_at = row.due_at + (dt.timedelta(days=rng.randint(1, 6)) if late else -dt.timedelta(hours=rng.randint(2, 40)))
    if reverted is not None and done_at >= reverted:
        row.state, row.done_at = Followup.State.CANCELLED, reverted
        return
    row.attempts, row.note = 1, rng.choice(CALL_NOTES)
    if reverted is None and rng.random() < 0.2:  # not reached: tried again the next working day (still pending)
        row.outcome, row.due_at = Followup.Outcome.NOT_REACHED, add_working_days(done_at, 1)
        return
    row.state, row.done_at, row.outcome = Followup.State.DONE, done_at, Followup.Outcome.REACHED
    row.done_by = row.assigned_to or users[STAFF]


def answer_surveys_and_calls(rows: list[Followup], now: dt.datetime, rng: random.Random) -> int:
    """About a third of the sent surveys answered, and every reached callback, by record_answer."""
    reasons = list(ClosureReason.objects.for_action(Action.CLOSE))
    # "May we contact you again?" No would withdraw the consent a later offer was sent with: not then.
    last_offer: dict[int, dt.datetime] = {}
    for row in rows:
        if row.kind in MARKETING_KINDS and row.sent_at is not None:
            last_offer[row.customer_id] = max(row.sent_at, last_offer.get(row.customer_id, row.sent_at))
    answered = 0
    for row in rows:
        if row.kind == Kind.SURVEY and row.state == Followup.State.SENT and rng.random() < SURVEY_ANSWERED:
            at, by, source = row.sent_at + dt.timedelta(hours=rng.randint(1, 72)), None, "survey"
        elif row.kind == Kind.CALLBACK and row.outcome == Followup.Outcome.REACHED:
            at, by, source = row.done_at, row.done_by, "callback"
        else:
            continue
        if at >= now:
            continue
        csat = rng.choices([1, 2, 3, 4, 5], weights=[20, 25, 28, 18, 9])[0]
        again = rng.choice([True, False, None])
        if again is False and last_offer.get(row.customer_id, at) > at:
            again = None
        with mock.patch("django.utils.timezone.now", return_value=at):
            record_answer(
                row,
                source=source,
                reason=row.closure.reason if rng.random() < 0.7 else rng.choice(reasons),
                csat=csat,
                nps=max(0, min(10, round((csat - 1) * 2.2 + rng.uniform(-2.5, 2.5)))),
                come_back=rng.choice(COME_BACK) if rng.random() < 0.5 else "",
                contact_again=again,
                by=by,
            )
        answered += 1
    return answered


def won_back(rows: list[Followup], rng: random.Random) -> None:
    """Half the reinstated demo closures came back after a follow-up: the last one before it is flagged."""
    last: dict[int, Followup] = {}
    for row in rows:
        reverted = row.closure.reverted_at
        moment = row.sent_at if row.kind != Kind.CALLBACK else row.done_at
        if reverted is None or moment is None or moment >= reverted or row.state not in ("sent", "done"):
            continue
        if row.closure_id not in last or moment > (last[row.closure_id].sent_at or last[row.closure_id].done_at):
            last[row.closure_id] = row
    for row in last.values():
        if rng.random() < 0.5:
            row.won_back = True
            if row.kind == Kind.CALLBACK:
                row.outcome = Followup.Outcome.COMES_BACK
            row.save(update_fields=["won_back", "outcome"])
