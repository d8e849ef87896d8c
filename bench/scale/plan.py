"""Which cards of the scale data set close, when, how, and which come back (seed_scale).

Planned before any row is written, so each card's rows know its story. A mixin of
:class:`bench.scale.load.Loader`, which holds ``rng``, ``now``, ``n`` (cards), ``m`` (closures)
and ``created`` (each card's creation moment).
"""

import math
import time
from dataclasses import dataclass

from django.core.management.base import CommandError

from closures.models import ACTION_STATUS
from customers.models import Customer

from . import vocab

DAY = 86_400
YEAR = 365 * DAY


@dataclass
class Story:
    """What happens to one closed card: its closures as (performed_at, action, reverted_at|None)."""

    events: list
    status: str
    end: int  # nothing is bought or logged on the card after this moment
    erased_at: int | None = None  # personal data deleted (by an "erase" closure, or later)

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


def status_of(action: str) -> str:
    return str(ACTION_STATUS[action])


class Planning:
    def creation_times(self) -> list[int]:
        """Card creation over five years, more recent years busier (the company grows). Sorted, so
        ids rise with time as they do in a real table."""
        rnd, start = self.rng.random, self.now - 5 * YEAR
        span = 5 * YEAR - DAY
        return sorted(start + int(span * math.sqrt(rnd())) for _ in range(self.n))

    def closure_time(self, lo: int, hi: int) -> int:
        """A moment in [lo, hi): churn rises over the three years and peaks after the New Year."""
        rng = self.rng
        for _ in range(50):
            t = rng.randrange(lo, hi)
            month = time.gmtime(t).tm_mon
            weight = (1.35 if month in (2, 3) else 1.0 if month != 8 else 0.8) * (
                0.75 + 0.5 * (t - (self.now - 3 * YEAR)) / (3 * YEAR)
            )
            if rng.random() * 1.7 < weight:
                return t
        return lo

    def closure_stories(self) -> dict[int, Story]:
        """Which cards were closed, how, and whether reinstated: about 4 % reinstated for good, 3 %
        reinstated then closed again; open closures mostly close, some void, archive, erase, and a
        few closed cards erased later (their closure stays, marked customer_erased)."""
        rng, rnd = self.rng, self.rng.random
        stories: dict[int, Story] = {}
        planned = 0
        window_start = self.now - 3 * YEAR
        candidates = list(range(1, self.n + 1))
        rng.shuffle(candidates)
        for cid in candidates:
            if planned >= self.m:
                break
            lo = max(window_start, self.created[cid - 1] + 7 * DAY)
            hi = self.now - 3600
            if hi - lo < 12 * DAY:
                continue
            kind = rnd()
            if kind < 0.04 or (kind < 0.07 and self.m - planned >= 2):
                first = self.closure_time(lo, hi - 11 * DAY)
                action = rng.choices(vocab.REVERTED_ACTIONS, cum_weights=vocab.REVERTED_ACTION_CUM)[0]
                reverted = first + rng.randrange(3600, min(20 * DAY, hi - first - DAY))
                events = [(first, action, reverted)]
                if kind >= 0.04:  # reinstated, then closed again later
                    second = self.closure_time(reverted + DAY, hi) if reverted + DAY < hi - 60 else hi - 1
                    action2 = rng.choices(vocab.OPEN_ACTIONS, cum_weights=vocab.OPEN_ACTION_CUM)[0]
                    events.append((second, action2, None))
                    stories[cid] = Story(events, status_of(action2), first, second if action2 == "erase" else None)
                else:
                    stories[cid] = Story(events, Customer.Status.ACTIVE, self.now)
            else:
                when = self.closure_time(lo, hi)
                action = rng.choices(vocab.OPEN_ACTIONS, cum_weights=vocab.OPEN_ACTION_CUM)[0]
                erased_at = when if action == "erase" else None
                if erased_at is None and hi - when > 3 * DAY and rnd() < 0.015:
                    erased_at = when + rng.randrange(DAY, min(200 * DAY, hi - when))
                status = Customer.Status.ERASED if erased_at else status_of(action)
                stories[cid] = Story([(when, action, None)], status, when, erased_at)
            planned += len(stories[cid].events)
        if planned < self.m:
            raise CommandError(f"Could only plan {planned:,} closures over {self.n:,} customers; ask for fewer.")
        return stories
