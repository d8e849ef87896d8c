"""One seeded ticket's story (seed_scale, bench/scale/tickets.py): its moments, its status, its SLA
and the steps its history keeps. All moments are Unix seconds; working time is the WorkClock's."""

import math
from dataclasses import dataclass, field

from . import service_vocab as words
from .plan import DAY

FIRST_CONTACT = 0.30  # resolved at the first contact: the resolution is the first response
WAITED, HANDED_OFF, REOPENED = 0.12, 0.08, 0.09
LATE_RESPONSE, LATE_RESOLUTION, LATE_AFTER_LATE_RESPONSE = 0.06, 0.045, 0.40
CANCELLED = 0.03  # of the finished tickets
CLOSED_LATER = 0.63  # of the resolved tickets older than a week: closed some days after
AT_CLOSURE_RESOLVED = 0.6  # open when the card closed: resolved with a note (else cancelled)
OPEN_NOW = "new", "assigned", "in_progress", "waiting"
MAX_STEPS = 6


@dataclass
class Story:
    opened: int
    status: str = "resolved"
    responded: int | None = None
    resolved: int | None = None
    closed: int | None = None
    cancelled: int | None = None
    paused: int = 0  # working minutes
    paused_since: int | None = None
    first_due: int = 0
    resolution_due: int = 0
    reopened: bool = False
    handed: int | None = None  # the moment of the hand-off
    steps: list = field(default_factory=list)  # (at, kind, content, declared new status, extra columns)

    @property
    def breached_response(self) -> bool:
        return self.responded is not None and self.responded > self.first_due

    @property
    def breached_resolution(self) -> bool:
        return self.resolved is not None and self.resolved > self.resolution_due


def tell(rng, clock, now: int, opened: int, card_end: int, targets: tuple[int, int], odds: float) -> Story:
    """When the ticket was answered, waited, handed over, reopened, resolved, closed (or is still
    open), and its due times, as the SLA clock (service/sla.py) would have counted them."""
    rnd = rng.random
    fr_target, res_target = targets
    late_response = rnd() < LATE_RESPONSE * odds
    late_resolution = rnd() < (LATE_AFTER_LATE_RESPONSE if late_response else LATE_RESOLUTION * odds)
    fr_work = fr_target * (rng.uniform(1.05, 3.0) if late_response else rng.uniform(0.02, 0.95))
    first_contact = rnd() < FIRST_CONTACT
    res_work = fr_work
    if not first_contact:
        res_work = res_target * (rng.uniform(1.03, 2.5) if late_resolution else rng.uniform(0.05, 0.97))
        res_work = max(res_work, fr_work + rng.uniform(5, 60))
    s = Story(opened, responded=clock.add(opened, fr_work))
    wait = reopen = None
    if not first_contact and rnd() < WAITED:
        start = clock.add(opened, fr_work + (res_work - fr_work) * rng.uniform(0.1, 0.9))
        wait = (start, clock.add(start, rng.uniform(60, 3 * 540)))
        s.paused = clock.between(*wait)
    elif not first_contact and rnd() < REOPENED:
        first = clock.add(opened, fr_work + (res_work - fr_work) * 0.6)
        reopen = (first, clock.add(first, rng.uniform(60, 5 * 540)))
        s.paused = clock.between(*reopen)
    s.resolved = clock.add(opened, res_work + s.paused)
    age = (now - opened) / DAY
    if card_end and s.resolved > card_end:  # open at the closure: the closure flow resolved or cancelled it
        wait = reopen = None
        s.paused = 0
        if rnd() < AT_CLOSURE_RESOLVED:
            s.resolved = card_end
        else:
            s.status, s.cancelled, s.resolved = "cancelled", card_end, None
    elif not card_end and (s.resolved > now or rnd() < 0.9 * math.exp(-age / 25) + (0.03 if age < 120 else 0.004)):
        wait = reopen = None
        s.paused, s.resolved = 0, None
        if s.responded > now:
            s.status, s.responded = ("new" if rnd() < 0.35 else "assigned"), None
        elif rnd() < 0.25:
            s.status, s.paused_since = "waiting", s.responded + int((now - s.responded) * rnd())
        else:
            s.status = "in_progress"
    elif rnd() < CANCELLED:
        wait = reopen = None
        s.paused = 0
        s.status, s.cancelled = "cancelled", opened + int((s.resolved - opened) * rnd())
        s.resolved = None
    elif s.resolved + 7 * DAY < now and rnd() < CLOSED_LATER:
        s.status, s.closed = "closed", min(now - 60, s.resolved + rng.randrange(3600, 7 * DAY))
    end = s.resolved or s.cancelled or now
    if s.responded is not None and s.responded >= end:
        s.responded = s.resolved  # answered by the resolution itself (None when cancelled first)
    s.first_due = clock.add(opened, fr_target)
    s.resolution_due = clock.add(opened, res_target + s.paused)
    s.reopened = reopen is not None
    if s.responded not in (None, s.resolved) and s.status != "in_progress" and rnd() < HANDED_OFF:
        before = (wait or reopen or (s.paused_since or end,))[0]
        s.handed = s.responded + int((before - s.responded) * rng.uniform(0.2, 0.8))
    s.steps = required_steps(rng, s, first_contact and s.responded == s.resolved, wait, reopen)
    return s


def required_steps(rng, s: Story, first_contact: bool, wait, reopen) -> list:
    """The steps the story cannot do without: what changed the status or answered the customer."""
    c = rng.choice
    steps = []
    if s.responded is not None and not first_contact and s.responded != s.resolved:
        steps.append((s.responded, "reply", c(words.REPLIES), "", {"minutes_spent": str(rng.randint(3, 20))}))
    if s.handed is not None:
        steps.append((s.handed, "handoff", c(words.HANDOFFS), "assigned", {}))
    if wait:
        steps.append((wait[0], "status", c(words.WAITS), "waiting", {}))
        steps.append((wait[1], "status", c(words.RESUMES), "in_progress", {}))
    if reopen:
        steps.append((reopen[0], "status", c(words.RESOLUTIONS), "resolved", {}))
        steps.append((reopen[1], "status", c(words.REOPENS), "assigned", {}))
    if s.resolved is not None:
        steps.append((s.resolved, "status", c(words.RESOLUTIONS), "resolved", {"result": c(words.RESULTS)}))
    if s.closed is not None:
        steps.append((s.closed, "status", "", "closed", {}))
    if s.cancelled is not None:
        steps.append((s.cancelled, "status", c(words.CANCELS), "cancelled", {}))
    if s.paused_since is not None:
        steps.append((s.paused_since, "status", c(words.WAITS), "waiting", {}))
    if s.status in ("new", "assigned"):
        steps.append((s.opened, "open", "", s.status, {}))
    return steps


def more_steps(rng, s: Story, count: int, need: str, now: int) -> None:
    """``count`` more steps: work done, internal notes, or the opening step with the customer's need,
    at moments while the ticket was being worked (not while it waited or stood resolved)."""
    if count <= 0 or s.status in ("new", "assigned"):
        return
    begin = s.responded if s.responded is not None else s.opened
    stops = [at for at, _k, _c, new, _e in s.steps if new in ("waiting", "resolved")]
    end = min([s.resolved or s.cancelled or s.paused_since or now, *stops])
    has_opening = False
    for _i in range(count):
        draw = rng.random()
        if draw < 0.25 and not has_opening:
            has_opening = True
            s.steps.append((s.opened, "open", need, "assigned", {}))
        elif draw < 0.8:
            at = begin + int((end - begin) * rng.random())
            s.steps.append((at, "work", rng.choice(words.WORK), "", {"minutes_spent": str(rng.randint(5, 120))}))
        else:
            at = begin + int((end - begin) * rng.random())
            s.steps.append((at, "note", rng.choice(words.NOTES), "", {}))


def walk(steps: list, initial: str) -> list:
    """The steps in time order with their old and new status, as the operations write them: the
    opening step has no old status; a declared change moves the status; work, a note or a reply on a
    new or assigned ticket starts it (service.operations.add_step)."""
    out, current = [], initial
    for at, kind, content, declared, extra in sorted(steps, key=lambda step: (step[0], step[1] != "open")):
        if kind == "open":
            out.append((at, "status", content, "", declared, extra))
            current = declared
        elif declared:
            out.append((at, kind, content, current, declared, extra))
            current = declared
        elif current in ("new", "assigned"):
            out.append((at, kind, content, current, "in_progress", extra))
            current = "in_progress"
        else:
            out.append((at, kind, content, "", "", extra))
    return out
