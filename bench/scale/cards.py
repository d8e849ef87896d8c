"""The cards of the scale data set, with their purchases, interactions and tags (seed_scale).

A mixin of :class:`bench.scale.load.Loader`, which holds the state it reads (``rng``, ``now``,
``created``, ``stories``, ``staff_ids``, ``owner_cum``, ``utc_offset``) and the COPY writers.
The random draws happen in a fixed order, so the same seed gives the same data set.
"""

import math
import time

from crm.models import ERASED_MARKER as ERASED
from customers.models import Customer, ImportBatch, Interaction, Purchase, Tag

from . import vocab
from .pgcopy import local_day, money, ts
from .plan import YEAR

TAG_NAMES = ["VIP", "团购", "企业客户", "线上", "门店", "老客户推荐", "高潜力", "投诉过", "Newsletter", "生日月"]
# Chinese surname → a plausible pinyin for e-mail addresses (others get a generic word).
PINYIN = {"王": "wang", "李": "li", "张": "zhang", "刘": "liu", "陈": "chen", "杨": "yang", "黄": "huang",
          "吴": "wu", "赵": "zhao", "周": "zhou", "徐": "xu", "孙": "sun", "马": "ma", "朱": "zhu", "胡": "hu",
          "郭": "guo", "何": "he", "林": "lin", "高": "gao", "罗": "luo"}  # fmt: skip


# One card in BATCH_EVERY came in with one migration import (about 7,000 at a million cards, the
# size of the public telecom data set), and one in SOURCE_EVERY names the system it came from.
BATCH_EVERY = 142
SOURCE_EVERY = 10
SOURCE = "旧系统 Legacy CRM"


class CardRows:
    def tags(self, cursor) -> None:
        copier = self.copier(cursor, Tag)
        copier.write([copier.line({"id": str(i), "name": name}) for i, name in enumerate(TAG_NAMES, 1)])
        self.tag_ids = list(range(1, len(TAG_NAMES) + 1))
        batch = self.copier(cursor, ImportBatch)
        rows = self.n // BATCH_EVERY
        batch.write(
            [
                batch.line(
                    {
                        "id": "1",
                        "kind": "customers",
                        "file_name": "legacy-customers.xlsx",
                        "created_by_id": str(self.staff_ids[0]),
                        "created_at": ts(self.now),
                        "rows": str(rows),
                        "created_count": str(rows),
                        "updated_count": "0",
                        "closed_count": "0",
                    }
                )
            ]
        )

    def customers(self, cursor) -> None:
        copiers = {
            "customer": self.copier(cursor, Customer),
            "tags": self.copier(cursor, Customer.tags.through),
            "purchase": self.copier(cursor, Purchase),
            "interaction": self.copier(cursor, Interaction),
        }
        self.snapshots = {}  # the cards that get closures or a pending request: what the closure copies
        self.pending = set(self.rng.sample(range(1, self.n + 1), min(300, self.n // 1000)))
        self.pending -= set(self.stories)
        counters = {"purchase": 0, "interaction": 0, "tags": 0}
        for first in range(1, self.n + 1, self.chunk):
            lines = {key: [] for key in copiers}
            for cid in range(first, min(first + self.chunk, self.n + 1)):
                self.customer(cid, lines, counters, copiers)
            for key in ("customer", "tags", "purchase", "interaction"):
                copiers[key].write(lines[key])
            if (first - 1) % (self.chunk * 4) == 0 or first + self.chunk > self.n:
                self.say(
                    f"customers {copiers['customer'].rows:,} / purchases {copiers['purchase'].rows:,} "
                    f"/ interactions {copiers['interaction'].rows:,}"
                )

    def customer(self, cid: int, lines: dict, counters: dict, copiers: dict) -> None:
        """One card: who (drawn even for an erased card, so later cards do not change), its segment,
        owner and money, its personal data, then what it bought and what was logged, and its tags."""
        rng, rnd, choices = self.rng, self.rng.random, self.rng.choices
        created = self.created[cid - 1]
        story = self.stories.get(cid)
        end = story.end if story else self.now
        erased = bool(story and story.erased)
        name, word = self.name_and_word()
        city = choices(vocab.CITIES, cum_weights=vocab.CITY_CUM)[0] if rnd() < 0.92 else ""
        segment = "potential" if (s := rnd()) < 0.45 else "regular" if s < 0.88 else "key"
        owner = choices(self.staff_ids, cum_weights=self.owner_cum)[0] if rnd() < 0.95 else None
        balance = 0.0
        if rnd() < (0.55 if segment == "key" else 0.25):
            balance = min(50_000.0, rng.lognormvariate(5.6 if segment == "key" else 4.8, 1.0))
        points = 0 if rnd() < 0.5 else int(rng.lognormvariate(6.0, 1.2))
        row = {
            "id": str(cid),
            "customer_no": f"C{cid:07d}",
            "segment": segment,
            "owner_id": str(owner) if owner else r"\N",
            "balance": money(balance),
            "points": str(points),
            "status": story.status if story else Customer.Status.ACTIVE,
            "created_at": ts(created),
            "customer_since": local_day(created),
            "source": SOURCE if cid % SOURCE_EVERY == 0 else "",
            "import_batch_id": "1" if cid % BATCH_EVERY == 0 else r"\N",
        }
        row["language"] = "en" if " " in name else "zh-hans"  # English names get their messages in English
        if erased:
            row.update(
                name=ERASED, gender="", birth_date=r"\N", phone="", phone_rev="", email="", wechat="", address=""
            )
            row.update(occupation="", company="", title="", preferences="", city=city)
        else:
            self.personal(row, name, word, city)
        recorder = owner or self.staff_ids[0]
        span = (created, end)
        count, total, last_bought = self.purchases(
            row, span, recorder, lines["purchase"], copiers["purchase"], counters
        )
        last_contact = self.interactions(
            row, span, recorder, erased, lines["interaction"], copiers["interaction"], counters
        )
        if rnd() < 0.2 and not erased:
            for tag in rng.sample(self.tag_ids, 1 if rnd() < 0.7 else 2):
                counters["tags"] += 1
                lines["tags"].append(
                    copiers["tags"].line({"id": str(counters["tags"]), "customer_id": row["id"], "tag_id": str(tag)})
                )
        last_event = max([max(e[0], e[2] or 0) for e in story.events] + [story.erased_at or 0]) if story else 0
        row.update(
            purchase_count=str(count),
            purchase_total=money(total),
            last_purchase_on=last_bought or r"\N",
            last_interaction_at=ts(last_contact) if last_contact else r"\N",
            stage=(
                "prospect" if count == 0 else "first_purchase" if count == 1 else "repeat" if count < 5 else "loyal"
            ),
            updated_at=ts(max(created, last_contact or 0, last_event, created + int(rnd() * (end - created)))),
        )
        lines["customer"].append(copiers["customer"].line(row))
        if story or cid in self.pending:
            self.snapshots[cid] = (segment, owner, row["balance"], points, created)

    def name_and_word(self) -> tuple[str, str]:
        """A name (three in four Chinese, with real surname frequencies) and a word for its e-mail."""
        rng, rnd, choices = self.rng, self.rng.random, self.rng.choices
        chinese = rnd() < 0.75
        if chinese:
            surname = (
                rng.choice(vocab.COMPOUND_SURNAMES)
                if rnd() < 0.004
                else choices(vocab.SURNAMES, cum_weights=vocab.SURNAME_CUM)[0]
            )
            style = rnd()
            if style < 0.25:
                given = choices(vocab.GIVEN_POOL, cum_weights=vocab.GIVEN_CUM)[0]
            elif style < 0.5:
                given = rng.choice(vocab.COMMON_GIVEN)
            else:
                given = "".join(choices(vocab.GIVEN_POOL, cum_weights=vocab.GIVEN_CUM, k=2))
            return surname + given, PINYIN.get(surname, "user")
        first_name = choices(vocab.EN_FIRST, cum_weights=vocab.EN_FIRST_CUM)[0]
        last_name = choices(vocab.EN_LAST, cum_weights=vocab.EN_LAST_CUM)[0]
        return f"{first_name} {last_name}", f"{first_name}.{last_name}".lower()

    def personal(self, row: dict, name: str, word: str, city: str) -> None:
        """The personal fields of a card that was not erased, some left empty as in real data."""
        rng, rnd, choices = self.rng, self.rng.random, self.rng.choices
        phone = self.phone(rnd)
        row.update(
            name=name,
            gender=("f" if (g := rnd()) < 0.48 else "m" if g < 0.96 else ""),
            birth_date=(
                time.strftime("%Y-%m-%d", time.gmtime(rng.randrange(-20 * YEAR, 36 * YEAR))) if rnd() < 0.65 else r"\N"
            ),
            phone=phone,
            phone_rev="".join(ch for ch in reversed(phone) if ch.isdigit()),
            email=(
                f"{word}{rng.randrange(1, 100_000)}@"
                + choices(vocab.EMAIL_DOMAINS, cum_weights=vocab.EMAIL_DOMAIN_CUM)[0]
                if rnd() < 0.65
                else ""
            ),
            wechat=(rng.choice(vocab.WECHAT_PREFIXES) + f"{word[:6]}{rng.randrange(100, 99_999)}")
            if rnd() < 0.4
            else "",
            city=city,
            address=(
                f"{city or '上海'}{rng.choice(vocab.DISTRICTS)}{rng.choice(vocab.ROADS)}{rng.randrange(1, 999)}号"
                if rnd() < 0.5
                else ""
            ),
            occupation=rng.choice(vocab.OCCUPATIONS) if rnd() < 0.4 else "",
            preferences=rng.choice(vocab.PREFERENCES) if rnd() < 0.2 else "",
        )
        company = rnd() < 0.3
        row.update(
            company=rng.choice(vocab.COMPANIES) if company else "",
            title=rng.choice(vocab.TITLES) if company else "",
        )

    def purchases(self, row, span, recorder, lines, copier, counters) -> tuple[int, float, str | None]:
        """About a third buy nothing; the rest a geometric number of times, between the card's
        creation and its end (``span``). Returns the purchase count, total and last day."""
        rng, rnd, choices = self.rng, self.rng.random, self.rng.choices
        created, end = span
        count, total, last_bought = 0, 0.0, None
        if rnd() >= 0.3:
            count = min(40, 1 + int(math.log(1.0 - rnd()) / math.log(0.62)))
            for _ in range(count):
                when = rng.randrange(created, max(end, created + 1))
                amount = round(rng.lognormvariate(5.2, 0.9), 2)
                total += amount
                day = time.strftime("%Y-%m-%d", time.gmtime(when + self.utc_offset))
                last_bought = max(last_bought or day, day)
                counters["purchase"] += 1
                lines.append(
                    copier.line(
                        {
                            "id": str(counters["purchase"]),
                            "customer_id": row["id"],
                            "product": choices(vocab.PRODUCTS, cum_weights=vocab.PRODUCT_CUM)[0],
                            "quantity": "1" if rnd() < 0.8 else str(rng.randrange(2, 4)),
                            "amount": money(amount),
                            "purchased_on": day,
                            "recorded_by_id": str(recorder),
                            "created_at": ts(when),
                        }
                    )
                )
        return count, total, last_bought

    def interactions(self, row, span, recorder, erased: bool, lines, copier, counters) -> int | None:
        """Calls, visits and messages on about two cards in three; returns the last one's moment."""
        rng, rnd, choices = self.rng, self.rng.random, self.rng.choices
        created, end = span
        last_contact = None
        if rnd() >= 0.35:
            for _ in range(min(30, 1 + int(math.log(1.0 - rnd()) / math.log(0.55)))):
                when = rng.randrange(created, max(end, created + 1))
                last_contact = max(last_contact or when, when)
                counters["interaction"] += 1
                lines.append(
                    copier.line(
                        {
                            "id": str(counters["interaction"]),
                            "customer_id": row["id"],
                            "kind": choices(vocab.INTERACTION_KINDS, cum_weights=vocab.INTERACTION_KIND_CUM)[0],
                            "occurred_at": ts(when),
                            "by_id": str(recorder),
                            "summary": ERASED if erased else rng.choice(vocab.INTERACTION_SUMMARIES),
                            "outcome": "" if erased else rng.choice(vocab.INTERACTION_OUTCOMES),
                            "created_at": ts(when),
                        }
                    )
                )
        return last_contact

    def phone(self, rnd) -> str:
        """E.164, as the app stores it: mostly Chinese mobiles, a few foreign numbers, a few none."""
        r = rnd()
        if r < 0.02:
            return ""
        if r < 0.04:
            code, digits = self.rng.choice(vocab.FOREIGN_PHONES)
            return f"+{code}{self.rng.randrange(10 ** (digits - 1), 10**digits)}"
        return f"+86{self.rng.choice(vocab.MOBILE_PREFIXES)}{self.rng.randrange(0, 10**8):08d}"
