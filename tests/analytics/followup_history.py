"""Follow-ups and answers for the closure history (history.py), and an oracle that recounts the
dashboard's follow-up figures from those rows in plain Python (no ORM filtering or aggregation).

Rows are written with ``objects.create`` (the follow-up factories belong to the parts that send
and record them); states, times and answers are chosen to hit every rule: surveys sent and not,
answered and not; callbacks on time, late, cancelled, pending past due and not yet due; answers
naming the stated reason, another one, a retired one, "other" and nothing; reinstatements after a
follow-up, before any, and by a won-back callback.
"""

import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from followups import summary
from followups.models import Answer, Followup, Kind

from .history import History, local_day

FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
NEVER = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass
class Aftercare:
    followups: list = field(default_factory=list)
    answers: list = field(default_factory=list)


# build_aftercare writes many rows, then rebuilds the summary once.
_building = False


def followup(closure, kind, due_at, **fields) -> Followup:
    fields.setdefault("channel", "phone" if kind == Kind.CALLBACK else "email")
    made = Followup.objects.create(kind=kind, customer_id=closure.customer_id, closure=closure, due_at=due_at, **fields)
    if not _building:
        summary.refresh([closure.pk])  # what the write paths do (followups/summary.py)
    return made


def answer(fu: Followup, *, reason=None, other_reason="", csat=None, nps=None) -> Answer:
    made = Answer.objects.create(
        followup=fu,
        closure=fu.closure,
        customer_id=fu.customer_id,
        source=Answer.Source.CALLBACK if fu.kind == Kind.CALLBACK else Answer.Source.SURVEY,
        reason=reason,
        other_reason=other_reason,
        csat=csat,
        nps=nps,
        answered_at=fu.answered_at or fu.done_at or fu.due_at,
    )
    if not _building:
        summary.refresh([fu.closure_id])
    return made


def build_aftercare(h: History, seed: int = 11) -> Aftercare:
    global _building
    _building = True
    try:
        return _build_aftercare(h, seed)
    finally:
        _building = False


def _build_aftercare(h: History, seed: int) -> Aftercare:
    rng = random.Random(seed)
    out = Aftercare()
    reasons = list(h.reasons.values())
    for i, closure in enumerate(c for c in h.closures if c.action != "erase"):
        at = closure.performed_at
        # The closure notice: sent at once.
        out.followups.append(followup(closure, Kind.NOTICE, at, state="sent", sent_at=at + timedelta(minutes=1)))
        # The exit survey, a day later: sent (answered or not), failed or skipped.
        roll = rng.random()
        due = at + timedelta(days=1)
        if roll < 0.7:
            answered = rng.random() < 0.5
            survey = followup(
                closure, Kind.SURVEY, due, state="sent", sent_at=due,
                answered_at=due + timedelta(hours=rng.randint(1, 90)) if answered else None,
            )  # fmt: skip
            out.followups.append(survey)
            if answered:
                out.answers.append(_answer(rng, survey, closure, reasons))
        else:
            state = "failed" if roll < 0.85 else "skipped"
            out.followups.append(followup(closure, Kind.SURVEY, due, state=state))
        # A callback for about half: on time, late, cancelled, pending past due, or not yet due.
        if i % 2 == 0:
            out.followups.append(_callback(rng, closure, reasons, out))
        # A win-back offer for some of the reverted closures, sent before or after the return.
        if closure.reverted_at is not None and rng.random() < 0.6:
            sent = closure.reverted_at - timedelta(hours=rng.randint(-48, 200))
            out.followups.append(followup(closure, Kind.WINBACK, sent, state="sent", sent_at=sent))
    summary.rebuild()  # the factories' closures (reinstated ones too) and the rows above
    return out


def _answer(rng, fu, closure, reasons) -> Answer:
    roll = rng.random()
    kwargs = {"csat": rng.choice([None, 1, 2, 3, 4, 5, 5]), "nps": rng.choice([None, 0, 3, 6, 7, 8, 9, 10])}
    if roll < 0.4:
        kwargs["reason"] = closure.reason  # agrees with staff
    elif roll < 0.75:
        kwargs["reason"] = rng.choice(reasons)  # the retired one among them
    elif roll < 0.88:
        kwargs["other_reason"] = "门店太远 <b>far</b>"
    return answer(fu, **kwargs)


def _callback(rng, closure, reasons, out: Aftercare) -> Followup:
    due = closure.performed_at + timedelta(days=3)
    roll = rng.random()
    if closure.reverted_at is not None and roll < 0.3:
        # The callback that won the customer back: recorded as the card was reinstated.
        return followup(
            closure, Kind.CALLBACK, due, state="done", outcome="comes_back", won_back=True,
            done_at=closure.reverted_at + timedelta(seconds=1),
        )  # fmt: skip
    if roll < 0.45:
        done = due - timedelta(hours=rng.randint(0, 60))
    elif roll < 0.65:
        done = due + timedelta(hours=rng.randint(1, 100))
    elif roll < 0.75:
        return followup(closure, Kind.CALLBACK, due, state="cancelled")
    elif roll < 0.9:
        return followup(closure, Kind.CALLBACK, due, state="pending")  # past due: not done
    else:
        return followup(closure, Kind.CALLBACK, FAR_FUTURE, state="pending")  # upcoming
    fu = followup(closure, Kind.CALLBACK, due, state="done", outcome="reached", done_at=done)
    if rng.random() < 0.6:
        out.answers.append(_answer(rng, fu, closure, reasons))
    return fu


# --- the oracle ---------------------------------------------------------------------------
def month_key(closure) -> int:
    day = local_day(closure.performed_at)
    return day.year * 12 + day.month - 1


def activity(h: History, care: Aftercare, f) -> dict:
    """{(dimension, key): [sent, answered, on_time, late, not_done, upcoming]} for month, owner, reason."""
    now = timezone.now()
    selected = {c.pk: c for c in f.select(h.closures)}
    out: dict = {}
    for fu in care.followups:
        closure = selected.get(fu.closure_id)
        if closure is None or fu.kind not in (Kind.SURVEY, Kind.CALLBACK):
            continue
        counts = [0] * 6
        if fu.kind == Kind.SURVEY and fu.sent_at is not None:
            counts[0] = 1
            counts[1] = int(fu.answered_at is not None)
        elif fu.kind == Kind.CALLBACK:
            if fu.done_at is not None:
                counts[2 if fu.done_at <= fu.due_at else 3] = 1
            elif fu.state == "cancelled" or (fu.state == "pending" and fu.due_at < now):
                counts[4] = 1
            elif fu.state == "pending":
                counts[5] = 1
        for dimension, key in (
            ("month", month_key(closure)),
            ("owner", closure.owner_id),
            ("reason", closure.reason_id),
            ("all", ""),
        ):
            row = out.setdefault((dimension, key), [0] * 6)
            for n, v in enumerate(counts):
                row[n] += v
    return out


def own_key(a: Answer) -> str:
    if a.reason_id is not None:
        return str(a.reason_id)
    return "other" if a.other_reason else "none"


def matrix(h: History, care: Aftercare, f) -> dict:
    selected = {c.pk: c for c in f.select(h.closures)}
    out: dict = {}
    for a in care.answers:
        closure = selected.get(a.closure_id)
        if closure is not None:
            key = (closure.reason_id, own_key(a))
            out[key] = out.get(key, 0) + 1
    return out


def agreement(cells: dict) -> float | None:
    named = sum(n for (_s, own), n in cells.items() if own not in ("other", "none"))
    agreeing = sum(n for (stated, own), n in cells.items() if own == str(stated))
    return agreeing / named if named else None


def satisfaction(h: History, care: Aftercare, f, by) -> dict:
    """{key: (answers, mean csat, share satisfied, nps, promoters, detractors)} grouped by ``by(closure)``."""
    selected = {c.pk: c for c in f.select(h.closures)}
    groups: dict = {}
    for a in care.answers:
        closure = selected.get(a.closure_id)
        if closure is not None:
            groups.setdefault(by(closure), []).append(a)
    out = {}
    for key, answers in groups.items():
        csat = [a.csat for a in answers if a.csat is not None]
        nps = [a.nps for a in answers if a.nps is not None]
        promoters = sum(1 for n in nps if n >= 9)
        detractors = sum(1 for n in nps if n <= 6)
        out[key] = (
            len(answers),
            statistics.mean(csat) if csat else None,
            sum(1 for c in csat if c >= 4) / len(csat) if csat else None,
            (promoters - detractors) * 100 / len(nps) if nps else None,
            promoters,
            detractors,
        )
    return out


def winback(h: History, care: Aftercare, f) -> tuple[int, dict, dict]:
    """(reinstatements in the period, {reason: days list}, {kind: days list}) for those after a follow-up."""
    by_closure: dict = {}
    for fu in care.followups:
        by_closure.setdefault(fu.closure_id, []).append(fu)
    reinstated, by_reason, by_kind = 0, {}, {}
    for c in h.closures:
        if c.reverted_at is None or not f.matches_slice(c) or not f.in_days(c.reverted_at, f.first, f.last):
            continue
        reinstated += 1
        before = [
            fu
            for fu in by_closure.get(c.pk, [])
            if fu.won_back
            or (fu.sent_at is not None and fu.sent_at <= c.reverted_at)
            or (fu.done_at is not None and fu.done_at <= c.reverted_at)
        ]
        if not before:
            continue
        last = max(before, key=lambda fu: (fu.won_back, fu.done_at or fu.sent_at or NEVER, fu.pk))
        days = (c.reverted_at - c.performed_at).total_seconds() / 86400
        by_reason.setdefault(c.reason_id, []).append(days)
        by_kind.setdefault(last.kind, []).append(days)
    return reinstated, by_reason, by_kind
