"""After the closure, at scale (seed_scale): contact consent, the follow-ups of the seeded closures
(notice, exit survey, callback, win-back offer) in the states the senders and staff would have left
them, the customers' answers, won-back flags and a few improvement actions.

Set-based, like the rest of bench/scale: each table is one ``INSERT ... SELECT`` over the closures
and cards already loaded, so nothing is looped over in Python. The random draws are a hash of the
row's id and a salt (``u(expr, salt)``, uniform in [0, 1)): the same data set on every load.

What it leaves, as the app's own code would have (followups/planner.py, record_answer):
- only card closures (action ``close``) have follow-ups; void, archive and erase closures none;
- a notice at the closure (service message: no marketing consent needed, never to "do not
  contact"), an exit survey a day later and, for price and competitor reasons, a win-back offer
  30 days later (both need marketing consent on the channel: skipped without), a callback for key
  accounts within 3 working days assigned to the closure's owner (none: the team's queue);
- due in the future: pending; due before the card was reinstated: what happened; after: cancelled;
  an erased card's pending ones cancelled and its addresses, notes and free text wiped;
- about 22 % of sent surveys answered (state done, answered_at), reached callbacks answered too,
  each answer with its audit entry (``followup.answer``, the card's timeline);
- no outbox events: the seeded closures are history, so the planner has nothing to (re)plan.

A mixin of :class:`bench.scale.load.Loader` (``now``, ``staff_ids``, ``manager_ids``, ``say``).
"""

from django.conf import settings

from closures.models import Closure, ClosureReason
from crm.models import AuditEntry
from customers.models import ContactConsent, Customer
from followups.models import Answer, Followup, Improvement, Rule

CONSENT_MARKETING = 0.40  # share of cards with marketing consent (e-mail and SMS)
CONSENT_DNC = 0.02  # share of cards that asked not to be contacted at all
SURVEY_ANSWERED = 0.22  # share of sent surveys answered
FAILED = 0.006  # share of messages that end failed
SURVEY_DAYS, WINBACK_DAYS = 1, 30
WINBACK_CATEGORIES = ("price", "competitor")
WON_BACK = 0.35  # share of reinstated card closures credited to a follow-up

ERRORS = {
    "email": [
        "SMTPRecipientsRefused: 550 5.1.1 Recipient address rejected: User unknown",
        "SMTPServerDisconnected: Connection unexpectedly closed (after 5 attempts)",
        "SMTPDataError: 554 5.7.1 Message rejected as spam",
    ],
    "sms": ["isv.MOBILE_NUMBER_ILLEGAL", "isv.BUSINESS_LIMIT_CONTROL (after 5 attempts)"],
}
OTHER_REASONS = ["搬家到外地了", "家里人不让办", "Not using it any more", "店太远", "只是暂时不需要"]
COME_BACK = [
    "价格再便宜一点", "有新店开在我家附近", "客服态度好一点", "Better prices for members", "积分能当钱用",
    "A proper app", "送货快一点", "有优惠券的话会考虑", "如果能退差价", "More choice of products",
]  # fmt: skip
CALL_NOTES = ["客户接听，态度平和", "客户说会考虑", "已说明余额处理", "Left a message first, called back later", ""]
IMPROVEMENTS = [
    # (months before the load, title, categories, notes)
    (20, "价格保护：30 天内降价补差 / Price protection for 30 days", ["price"], "After the price complaints."),
    (14, "客服热线延长到 22:00 / Service hotline until 22:00", ["service"], "Two more agents in the evening."),
    (9, "会员积分永不过期 / Points no longer expire", ["price", "competitor"], "Matches the competitor's offer."),
    (4, "新品上架提速 / New products every month", ["product"], ""),
]


def u(expr: str, salt: int) -> str:
    """SQL for a uniform draw in [0, 1) from a hash of ``expr`` (an id) and ``salt``: reproducible."""
    return f"((hashint8extended(({expr})::bigint, {salt}) & 2147483647)::float8 / 2147483648.0)"


def pick(values: list[str], draw: str) -> str:
    """SQL picking one of ``values`` (text literals) by the uniform draw ``draw``."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"(ARRAY[{quoted}])[1 + floor({draw} * {len(values)})::int]"


class FollowupRows:
    def after_the_closure(self, cursor) -> None:
        """Consent, follow-ups, won-back flags, answers (with their audit entries), improvements."""
        self.fu = Followup._meta.db_table
        self.consents(cursor)
        self.closure_base(cursor)
        self.rule_ids = {}
        for kind in ("notice", "survey", "callback", "winback"):
            rule = Rule.objects.filter(action="close", kind=kind, active=True).order_by("position", "pk").first()
            self.rule_ids[kind] = rule.pk if rule else None
        self.notices(cursor)
        self.messages_later(cursor, "survey", SURVEY_DAYS, "", 21)
        self.messages_later(cursor, "winback", WINBACK_DAYS, "AND b.category IN ('price', 'competitor')", 22)
        self.callbacks(cursor)
        self.erased(cursor)
        self.won_back(cursor)
        self.answers(cursor)
        self.improvements(cursor)
        cursor.execute(f"SELECT kind, state, count(*) FROM {self.fu} GROUP BY 1, 2 ORDER BY 1, 2")
        counts = {}
        for kind, state, n in cursor.fetchall():
            counts.setdefault(kind, []).append(f"{state} {n:,}")
        self.say("follow-ups: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in counts.items()))

    # --- consent ---------------------------------------------------------------------------------
    def consents(self, cursor) -> None:
        """Marketing consent on e-mail and SMS for ~40 % of the cards (given at sign-up or later),
        "do not contact" on every channel for ~2 %; the rest have no row (the defaults)."""
        table, customers = ContactConsent._meta.db_table, Customer._meta.db_table
        r = u("c.id", 101)
        how = pick(["注册表单 / sign-up form", "门店登记 / in store", "微信关注 / WeChat", "电话 / on the phone"],
                   u("c.id", 102))  # fmt: skip
        cursor.execute(
            f"""INSERT INTO {table} (customer_id, channel, service, marketing, marketing_at, marketing_how,
                                     do_not_contact, updated_at)
                SELECT c.id, ch.channel, NOT dnc, NOT dnc,
                       CASE WHEN dnc THEN NULL ELSE c.created_at + (c.updated_at - c.created_at) * {u("c.id", 103)}
                                                                     * ({u("c.id", 104)} < 0.3)::int END,
                       CASE WHEN dnc THEN '' ELSE {how} END, dnc, c.updated_at
                FROM (SELECT c.*, {r} >= {CONSENT_MARKETING} AS dnc FROM {customers} c
                      WHERE c.status <> 'erased' AND {r} < {CONSENT_MARKETING + CONSENT_DNC}) c
                CROSS JOIN (VALUES ('email'), ('sms'), ('phone')) AS ch(channel)
                WHERE (ch.channel = 'email' AND (c.email <> '' OR c.dnc))
                   OR (ch.channel = 'sms' AND (c.phone <> '' OR c.dnc))
                   OR (ch.channel = 'phone' AND c.dnc)"""
        )
        self.say(f"contact consent rows {cursor.rowcount:,}")

    # --- follow-ups ------------------------------------------------------------------------------
    def closure_base(self, cursor) -> None:
        """The card closures with what their follow-ups need: address, consent, language. Messages go by
        e-mail, as the default policy has it (followups migration 0002): no address, skipped."""
        closures, customers, consent = Closure._meta.db_table, Customer._meta.db_table, ContactConsent._meta.db_table
        cursor.execute("DROP TABLE IF EXISTS scale_after")
        cursor.execute(
            f"""CREATE TEMPORARY TABLE scale_after ON COMMIT DROP AS
                SELECT k.id, k.customer_id, k.performed_at, k.reverted_at, k.reason_id, k.category, k.segment,
                       k.owner_id, k.customer_erased AS erased, c.language, c.phone,
                       'email' AS channel, c.email AS address,
                       coalesce(m.marketing, false) AS marketing, coalesce(m.do_not_contact, false) AS dnc,
                       coalesce(p.do_not_contact, false) AS phone_dnc
                FROM {closures} k JOIN {customers} c ON c.id = k.customer_id
                LEFT JOIN {consent} m ON m.customer_id = k.customer_id AND m.channel = 'email'
                LEFT JOIN {consent} p ON p.customer_id = k.customer_id AND p.channel = 'phone'
                WHERE k.action = 'close'"""
        )
        cursor.execute("ANALYZE scale_after")

    def insert(self, cursor, select: str) -> int:
        """Insert follow-ups from ``select`` (its columns named as below; the rest get their defaults)."""
        columns = (
            "kind, channel, customer_id, closure_id, rule_id, language, due_at, state, attempts, last_error, "
            "sent_at, address, assigned_to_id, outcome, done_at, done_by_id, note, won_back, key, created_at"
        )
        cursor.execute(
            f"""INSERT INTO {self.fu} ({columns})
                SELECT kind, channel, customer_id, closure_id, rule_id, language, due_at, state, attempts, last_error,
                       sent_at, address, assigned_to_id, outcome, done_at, done_by_id, note, false,
                       gen_random_uuid(), created_at
                FROM ({select}) AS planned""",
            {"now": self.now},
        )
        return cursor.rowcount

    def message_columns(self, kind: str, salt: int, *, needs_consent: bool) -> str:
        """The SELECT list of a message follow-up (from ``b``, due at ``b.due``): its state as sending left it."""
        now = "to_timestamp(%(now)s)"
        failed = u("b.id", salt + 100)
        rule = self.rule_ids[kind] or "NULL"
        no_consent = "NOT b.marketing OR b.dnc" if needs_consent else "b.dnc"
        error = (
            f"CASE WHEN b.channel = 'email' THEN {pick(ERRORS['email'], u('b.id', salt + 101))} "
            f"ELSE {pick(ERRORS['sms'], u('b.id', salt + 101))} END"
        )
        return f"""'{kind}' AS kind, b.channel, b.customer_id, b.id AS closure_id, {rule}::bigint AS rule_id,
                   b.language, due AS due_at,
                   CASE WHEN b.reverted_at IS NOT NULL AND b.reverted_at <= due THEN 'cancelled'
                        WHEN due > {now} THEN 'pending'
                        WHEN {no_consent} THEN 'skipped'
                        WHEN NOT b.erased AND b.address = '' THEN 'skipped'
                        WHEN {failed} < {FAILED} THEN 'failed'
                        ELSE 'sent' END AS state,
                   CASE WHEN due > {now} OR (b.reverted_at IS NOT NULL AND b.reverted_at <= due) THEN 0
                        WHEN {failed} < {FAILED} THEN 5 ELSE 1 END AS attempts,
                   CASE WHEN b.reverted_at IS NOT NULL AND b.reverted_at <= due THEN 'The card was reinstated.'
                        WHEN due > {now} THEN ''
                        WHEN b.dnc THEN 'The customer asked not to be contacted by E-mail.'
                        WHEN {no_consent} THEN 'The customer has not agreed to surveys and offers by E-mail.'
                        WHEN NOT b.erased AND b.address = '' THEN 'The customer has no e-mail address.'
                        WHEN {failed} < {FAILED} THEN {error} ELSE '' END AS last_error,
                   CASE WHEN due <= {now} AND (b.reverted_at IS NULL OR b.reverted_at > due) AND NOT ({no_consent})
                             AND (b.erased OR b.address <> '') AND {failed} >= {FAILED}
                        THEN due + interval '1 second' * (5 + 600 * {u("b.id", salt + 102)}) END AS sent_at,
                   CASE WHEN b.erased THEN '' ELSE b.address END AS address,
                   NULL::int AS assigned_to_id, '' AS outcome,
                   CASE WHEN b.reverted_at IS NOT NULL AND b.reverted_at <= due THEN b.reverted_at END AS done_at,
                   NULL::int AS done_by_id, '' AS note, b.performed_at AS created_at"""

    def notices(self, cursor) -> None:
        select = f"""SELECT {self.message_columns("notice", 10, needs_consent=False)}
                     FROM (SELECT b.*, b.performed_at AS due FROM scale_after b) b"""
        self.say(f"closure notices {self.insert(cursor, select):,}")

    def messages_later(self, cursor, kind: str, days: int, where: str, salt: int) -> None:
        select = f"""SELECT {self.message_columns(kind, salt, needs_consent=True)}
                     FROM (SELECT b.*, b.performed_at + interval '{days} days' AS due FROM scale_after b) b
                     WHERE true {where}"""
        self.say(f"{kind} follow-ups {self.insert(cursor, select):,}")

    def callbacks(self, cursor) -> None:
        """Key accounts: a call by the closure's owner within 3 working days (Monday to Friday, local).
        Due and passed: ~66 % done on time, ~20 % late (reached), the rest still pending (overdue; half of
        them tried once, not reached), so the queues have work today, overdue and upcoming."""
        now = "to_timestamp(%(now)s)"
        zone = settings.TIME_ZONE
        staff = ", ".join(str(pk) for pk in self.staff_ids)
        rule = self.rule_ids["callback"] or "NULL"
        anyone = f"(ARRAY[{staff}])[1 + floor({u('b.id', 34)} * {len(self.staff_ids)})::int]"
        r, when = u("b.id", 31), u("b.id", 32)
        # Not reached yet: still pending (followups.callbacks moves it to the next working day), one attempt made.
        tried = f"(b.done_at IS NULL AND b.due <= {now} AND NOT b.phone_dnc AND {u('b.id', 33)} < 0.5)"
        select = f"""
            SELECT 'callback' AS kind, 'phone' AS channel, b.customer_id, b.id AS closure_id, {rule}::bigint AS rule_id,
                   b.language, b.due AS due_at,
                   CASE WHEN b.done_at IS NOT NULL THEN 'done'
                        WHEN b.reverted_at IS NOT NULL THEN 'cancelled'
                        WHEN b.phone_dnc THEN 'skipped' ELSE 'pending' END AS state,
                   (b.done_at IS NOT NULL OR {tried})::int AS attempts,
                   CASE WHEN b.done_at IS NOT NULL THEN ''
                        WHEN b.reverted_at IS NOT NULL THEN 'The card was reinstated.'
                        WHEN b.phone_dnc THEN 'Do not contact.' ELSE '' END AS last_error,
                   NULL::timestamptz AS sent_at, CASE WHEN b.erased THEN '' ELSE b.phone END AS address,
                   b.owner_id AS assigned_to_id,
                   CASE WHEN b.done_at IS NOT NULL THEN 'reached' WHEN {tried} THEN 'not_reached' ELSE '' END
                       AS outcome,
                   coalesce(b.done_at, CASE WHEN b.reverted_at IS NOT NULL THEN b.reverted_at END) AS done_at,
                   CASE WHEN b.done_at IS NOT NULL
                        THEN coalesce(b.owner_id, {anyone})
                   END AS done_by_id,
                   CASE WHEN b.done_at IS NOT NULL AND NOT b.erased THEN {pick(CALL_NOTES, u("b.id", 35))} ELSE '' END
                       AS note,
                   b.performed_at AS created_at
            FROM (SELECT b.*,
                         CASE WHEN b.due > {now} OR b.phone_dnc OR {r} >= 0.86 THEN NULL
                              WHEN {r} < 0.66 THEN b.performed_at + (b.due - b.performed_at) * {when}
                              ELSE b.due + least({now} - b.due, interval '12 days') * {when} END AS done_at
                  FROM (SELECT b.*, b.performed_at + interval '1 day' * CASE
                                   WHEN extract(isodow FROM b.performed_at AT TIME ZONE '{zone}') IN (3, 4, 5) THEN 5
                                   WHEN extract(isodow FROM b.performed_at AT TIME ZONE '{zone}') = 6 THEN 4
                                   ELSE 3 END AS due
                        FROM scale_after b WHERE b.segment = 'key') b) b
"""
        self.say(f"callbacks {self.insert(cursor, select):,}")
        # A call done after the card came back is not a call: those became cancelled at the reinstatement.
        cursor.execute(
            f"""UPDATE {self.fu} f SET state = 'cancelled', outcome = '', done_by_id = NULL, note = '', attempts = 0,
                       done_at = b.reverted_at, last_error = 'The card was reinstated.'
                FROM scale_after b
                WHERE f.closure_id = b.id AND f.kind = 'callback' AND b.reverted_at IS NOT NULL
                  AND (f.state = 'pending' OR (f.state = 'done' AND f.done_at >= b.reverted_at))"""
        )

    def erased(self, cursor) -> None:
        """Erased cards: pending follow-ups cancelled (the planner's ``forget``)."""
        cursor.execute(
            f"""UPDATE {self.fu} f SET state = 'cancelled', last_error = 'The card was deleted.',
                       done_at = to_timestamp(%(now)s), address = '', note = ''
                FROM scale_after b WHERE f.closure_id = b.id AND b.erased AND f.state = 'pending'""",
            {"now": self.now},
        )

    def won_back(self, cursor) -> None:
        """About a third of the reinstated card closures came back after a follow-up: the last
        callback or message before the reinstatement is flagged won back (a callback: "wants to
        come back")."""
        cursor.execute(
            f"""UPDATE {self.fu} f SET won_back = true,
                       outcome = CASE WHEN f.kind = 'callback' THEN 'comes_back' ELSE f.outcome END
                FROM (SELECT DISTINCT ON (f.closure_id) f.id
                      FROM {self.fu} f JOIN scale_after b ON b.id = f.closure_id
                      WHERE b.reverted_at IS NOT NULL AND {u("b.id", 51)} < {WON_BACK}
                        AND f.kind IN ('callback', 'winback', 'survey')
                        AND ((f.state = 'sent' AND f.sent_at < b.reverted_at)
                             OR (f.state = 'done' AND f.done_at < b.reverted_at))
                      ORDER BY f.closure_id, coalesce(f.done_at, f.sent_at) DESC) w
                WHERE f.id = w.id"""
        )
        self.say(f"won back {cursor.rowcount:,}")

    # --- answers ---------------------------------------------------------------------------------
    def answers(self, cursor) -> None:
        """~22 % of sent surveys answered within a few days, and every reached callback: the
        customer's own reason (mostly the stated one), CSAT and NPS (low, as leaving customers
        rate), sometimes what would bring them back. Then each answer's audit entry."""
        table, audit = Answer._meta.db_table, AuditEntry._meta.db_table
        close_reasons = [r.pk for r in ClosureReason.objects.all() if r.applies_to("close")] or [0]
        other = ", ".join(map(str, close_reasons))
        a = "f.closure_id * 4 + (f.kind = 'callback')::int"  # not f.id: insert order, so ids, may vary
        another = f"(ARRAY[{other}])[1 + floor({u(a, 64)} * {len(close_reasons)})::int]"
        nps = f"least(10, greatest(0, round((csat - 1) * 2.2 + ({u(a, 66)} - 0.5) * 5)))::int"
        come_back = pick(COME_BACK, u(a, 68))
        csat = f"""CASE WHEN {u(a, 61)} < 0.04 THEN NULL WHEN {u(a, 62)} < 0.20 THEN 1 WHEN {u(a, 62)} < 0.45 THEN 2
                        WHEN {u(a, 62)} < 0.73 THEN 3 WHEN {u(a, 62)} < 0.91 THEN 4 ELSE 5 END"""
        cursor.execute(
            f"""INSERT INTO {table} (followup_id, closure_id, customer_id, source, reason_id, other_reason, csat, nps,
                                     come_back, contact_again, answered_at, recorded_by_id)
                SELECT f.id, f.closure_id, f.customer_id, src,
                       CASE WHEN {u(a, 63)} < 0.68 THEN k.reason_id
                            WHEN {u(a, 63)} < 0.94 THEN {another}
                       END,
                       CASE WHEN {u(a, 63)} >= 0.94 AND NOT k.customer_erased THEN {pick(OTHER_REASONS, u(a, 65))}
                            ELSE '' END,
                       csat, CASE WHEN csat IS NULL THEN NULL
                                  ELSE {nps} END,
                       CASE WHEN {u(a, 67)} < 0.35 AND NOT k.customer_erased THEN {come_back} ELSE '' END,
                       CASE WHEN {u(a, 69)} < 0.3 THEN true WHEN {u(a, 69)} < 0.8 THEN false END,
                       f.answered, f.done_by_id
                FROM (SELECT f.*, {csat} AS csat,
                             CASE WHEN f.kind = 'survey' THEN 'survey' ELSE 'callback' END AS src,
                             CASE WHEN f.kind = 'survey'
                                  THEN f.sent_at + interval '1 minute' * (10 + 5760 * {u(a, 70)} ^ 2)
                                  ELSE f.done_at END AS answered
                      FROM {self.fu} f
                      WHERE (f.kind = 'survey' AND f.state = 'sent' AND {u(a, 71)} < {SURVEY_ANSWERED})
                         OR (f.kind = 'callback' AND f.state = 'done' AND f.outcome = 'reached')) f
                JOIN {Closure._meta.db_table} k ON k.id = f.closure_id
                WHERE f.answered < to_timestamp(%(now)s)""",
            {"now": self.now},
        )
        self.say(f"answers {cursor.rowcount:,}")
        # An answered survey is done (record_answer); a reached callback was done already.
        cursor.execute(
            f"""UPDATE {self.fu} f SET answered_at = a.answered_at,
                       state = 'done', done_at = coalesce(f.done_at, a.answered_at)
                FROM {table} a WHERE a.followup_id = f.id"""
        )
        cursor.execute(
            f"""INSERT INTO {audit} (id, at, actor_id, actor_name, ip, action, object_type, object_id, customer_id,
                                     summary, changes, data, reason, notes)
                SELECT (SELECT coalesce(max(id), 0) FROM {audit}) + row_number() OVER (ORDER BY a.id),
                       a.answered_at, a.recorded_by_id, coalesce(u.username, ''), NULL, 'followup.answer', 'answer',
                       a.id::text, a.customer_id, '', '{{}}',
                       jsonb_build_object('source', a.source, 'closure', a.closure_id, 'reason', a.reason_id,
                                          'csat', a.csat, 'nps', a.nps, 'contact_again', a.contact_again),
                       '', concat_ws(E'\\n', nullif(a.other_reason, ''), nullif(a.come_back, ''))
                FROM {table} a LEFT JOIN auth_user u ON u.id = a.recorded_by_id"""
        )

    def improvements(self, cursor) -> None:
        table = Improvement._meta.db_table
        by = (self.manager_ids or self.staff_ids)[0]
        for months, title, categories, notes in IMPROVEMENTS:
            cursor.execute(
                f"""INSERT INTO {table} (title, started_on, categories, notes, created_by_id, created_at)
                    VALUES (%s, (to_timestamp(%s) - interval '1 month' * %s)::date, %s::jsonb, %s, %s,
                            to_timestamp(%s) - interval '1 month' * %s)""",
                [title, self.now, months, _json(categories), notes, by, self.now, months],
            )


def _json(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
