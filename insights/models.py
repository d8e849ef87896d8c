"""A score per customer, kept by the scoring run (insights/scoring.py) and read by the card, the
lists and the dashboards: RFM quintiles and segment, an explainable risk 0–100 with its reasons,
and value (historical, probability alive, expected purchases and value over the next 12 months)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import DecimalField, IntegerField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer

# The "At risk" list's sort keys by expected value and by time without a purchase, with their indexes:
# NULL (no purchase) as -1, so such customers come last in both databases' descending orders.
WORTH_KEY = Coalesce("expected_value", Value(-1), output_field=DecimalField(max_digits=14, decimal_places=2))
RECENCY_KEY = Coalesce("recency_days", Value(-1), output_field=IntegerField())


class Segment(models.TextChoices):
    """The usual RFM segments, from the recency and frequency quintiles (insights/rfm.py)."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL = "potential", _("Potential loyalists")
    NEW = "new", _("New customers")
    ATTENTION = "attention", _("Need attention")
    AT_RISK = "at_risk", _("At risk")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")
    NO_PURCHASE = "none", _("No purchase yet")


class Score(models.Model):
    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, primary_key=True, related_name="score"
    )
    computed_at = models.DateTimeField(_("scored at"))
    as_of = models.DateField(_("as of"))  # the day the history was read up to
    purchases = models.IntegerField(_("purchases"), default=0)
    purchase_days = models.IntegerField(default=0)  # days with a purchase (BG/NBD counts days)
    last_purchase = models.DateField(_("last purchase"), null=True)
    recency_days = models.IntegerField(_("days since the last purchase"), null=True)
    typical_interval = models.FloatField(_("usual days between purchases"), null=True)
    r_score = models.SmallIntegerField(default=0)  # quintiles 1–5; 0 without a purchase
    f_score = models.SmallIntegerField(default=0)
    m_score = models.SmallIntegerField(default=0)
    segment = models.CharField(_("RFM segment"), max_length=12, choices=Segment.choices, default=Segment.NO_PURCHASE)
    risk = models.SmallIntegerField(_("risk"), default=0)  # 0–100
    # The risk's band as the run that wrote the score read the bands (risk.bands()): the customer
    # search's risk filter walks the band's cards newest first in its index (score_band_customer).
    band = models.CharField(_("risk band"), max_length=8, default="low")
    reasons = models.JSONField(_("reasons"), default=list)  # [{"code": ..., ...}], strongest first
    historical_value = models.DecimalField(_("historical value"), max_digits=14, decimal_places=2, default=0)
    probability_alive = models.FloatField(_("probability alive"), null=True)
    expected_purchases = models.FloatField(_("expected purchases, next 12 months"), null=True)
    expected_value = models.DecimalField(
        _("expected value, next 12 months"), max_digits=14, decimal_places=2, null=True
    )
    # expected value × risk / 100: what the "At risk" list sorts by first (0 without a model value).
    value_at_risk = models.DecimalField(_("value at risk"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        default_permissions = ("view",)
        permissions = [
            ("view_risk_analytics", _("Can see the churn-warning dashboard")),
            ("export_scores", _("Can export the customers at risk")),
            ("view_scoring_settings", _("Can read the risk weights and thresholds")),
        ]
        indexes = [
            models.Index(fields=["-value_at_risk", "customer"], name="score_value_at_risk"),
            models.Index(fields=["-risk", "customer"], name="score_risk"),
            # Customers without a purchase have neither: last in these orders (forms.ORDERING).
            models.Index(WORTH_KEY.desc(), "customer", name="score_expected_value"),
            models.Index(RECENCY_KEY.desc(), "customer", name="score_recency"),
            models.Index(fields=["segment", "-value_at_risk", "customer"], name="score_segment_value"),
            # The customer search filtered by risk, segment or value walks the cards newest first and
            # looks their scores up by key: with these columns in the index, without the table
            # (PostgreSQL; elsewhere a plain index). 213 ms a page for high risk before, 57 after.
            models.Index(
                fields=["customer"], include=["risk", "segment", "expected_value"], name="score_customer_covering"
            ),
            # The search filtered by risk band or RFM segment: the band's (segment's) newest cards first.
            models.Index(fields=["band", "-customer"], name="score_band_customer"),
            models.Index(fields=["segment", "-customer"], name="score_segment_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.segment} risk {self.risk}"


class ScoringRun(models.Model):
    """One scoring run. A full run (nightly) fits the purchase model and the RFM cut points over all
    active cards and keeps them here; an incremental run (every few minutes) rescores the cards whose
    history changed since the run before, with the last full run's model, so its scores compare."""

    class Kind(models.TextChoices):
        FULL = "full", _("Full")
        CHANGED = "changed", _("Changed cards")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    as_of = models.DateField(_("as of"))
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True)
    cards = models.IntegerField(_("cards scored"), default=0)
    # {"bgnbd": {r, alpha, a, b} | null, "spend": {p, q, v} | null, "cuts": {"r": [...], "f": [...], "m": [...]}}
    model = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        default_permissions = ("view",)
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["kind", "-started_at"], name="scoringrun_kind_started")]

    def __str__(self) -> str:
        return f"{self.kind} {self.as_of}"


class RiskWarning(models.Model):
    """A spell at medium or high risk: raised by the run that first put the card there, cleared by
    the run that took it back to low (or when the card is closed: the closure's lead time reads it)."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+")
    raised_on = models.DateField(_("raised on"))
    high_on = models.DateField(_("high risk since"), null=True)
    cleared_on = models.DateField(_("cleared on"), null=True)
    risk = models.SmallIntegerField(_("risk"))  # as the latest run left it while open
    peak_risk = models.SmallIntegerField(_("highest risk"))
    reasons = models.JSONField(_("reasons"), default=list)  # the raising run's reasons
    value_at_risk = models.DecimalField(_("value at risk"), max_digits=14, decimal_places=2, default=0)
    # When the warning last became news to the card's owner: raised, or reached high risk. The inbox's
    # "Customers newly at risk" and the daily digest (insights/digest.py) count from it.
    alerted_at = models.DateTimeField(_("news to the owner since"), null=True)

    class Meta:
        verbose_name = _("risk warning")
        verbose_name_plural = _("risk warnings")
        default_permissions = ("view",)
        ordering = ["-raised_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(cleared_on__isnull=True), name="warning_one_open_per_card"
            )
        ]
        indexes = [
            models.Index(fields=["customer", "-raised_on"], name="warning_customer"),
            models.Index(fields=["raised_on"], name="warning_raised"),
            models.Index(
                fields=["alerted_at"], name="warning_alerted_open", condition=models.Q(cleared_on__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.raised_on}"


class RiskDay(models.Model):
    """The active cards by risk band, RFM segment and owner as a run left them on ``day`` (rewritten
    by each run of the day): the dashboards' risk over time, and at risk by segment and owner."""

    day = models.DateField()
    band = models.CharField(max_length=8)
    segment = models.CharField(max_length=12, choices=Segment.choices)
    owner_id = models.IntegerField(null=True)  # no foreign key: a summary row outlives nothing
    customers = models.IntegerField(default=0)
    value_at_risk = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    expected_value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["day", "band"], name="riskday_day_band")]

    def __str__(self) -> str:
        return f"{self.day} {self.band} {self.segment}: {self.customers}"


class RetentionAction(models.Model):
    """Something done to keep a customer at risk: a callback planned for someone, or an attempt
    logged (a call made, a visit, a message, an offer). Its outcome is settled by the scoring runs
    (insights/actions.py): retained when the customer buys again within ``RETENTION_WINDOW_DAYS``
    of the action, closed when the card is closed first (with the closure and so its reason), no
    purchase when the window passes without either."""

    class Kind(models.TextChoices):
        CALLBACK = "callback", _("Callback")
        ATTEMPT = "attempt", _("Retention attempt")

    class Channel(models.TextChoices):
        CALL = "call", _("Phone call")
        VISIT = "visit", _("Visit")
        MESSAGE = "message", _("Message")
        OFFER = "offer", _("Offer")

    class Outcome(models.TextChoices):
        OPEN = "open", _("Waiting")
        RETAINED = "retained", _("Retained: bought again")
        CLOSED = "closed", _("Closed")
        LAPSED = "lapsed", _("No purchase in time")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+")
    warning = models.ForeignKey(
        RiskWarning, verbose_name=_("warning"), null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    kind = models.CharField(_("action"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.CALL)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    risk = models.SmallIntegerField(_("risk"), default=0)  # the score when the action was taken
    value_at_risk = models.DecimalField(_("value at risk"), max_digits=14, decimal_places=2, default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A callback: who calls and by when; done when its result is recorded (then it counts as an attempt).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    result = models.TextField(_("result"), max_length=2000, blank=True)
    # The outcome window runs from the action (a callback: from when it was done) for RETENTION_WINDOW_DAYS.
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    outcome_on = models.DateField(_("outcome on"), null=True, blank=True)
    closure = models.ForeignKey(
        "closures.Closure",
        verbose_name=_("closure"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("retention action")
        verbose_name_plural = _("retention actions")
        default_permissions = ("add", "change", "view")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="retention_customer"),
            models.Index(fields=["outcome", "created_at"], name="retention_outcome"),
            models.Index(
                fields=["assigned_to", "due_on"],
                name="retention_callbacks_due",
                condition=models.Q(done_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class ClosureValue(models.Model):
    """What a closure lost, as the scores stood when it was made (written by the "insights" outbox
    consumer on card.closed/voided/archived; marked on card.reinstated): the value-lost-by-reason
    and early-warning panels read these rows."""

    closure = models.OneToOneField(
        "closures.Closure", on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    customer_id = models.BigIntegerField()
    action = models.CharField(max_length=10)
    reason_id = models.BigIntegerField(null=True)
    category = models.CharField(max_length=40, blank=True)
    day = models.DateField()  # the closure's local day
    reverted = models.BooleanField(default=False)
    scored = models.BooleanField(default=False)  # the card had a score when it was closed
    risk = models.SmallIntegerField(null=True)
    expected_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    historical_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    warned_on = models.DateField(null=True)  # the open warning's first day, when there was one
    lead_days = models.IntegerField(null=True)  # day − warned_on

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["day", "reason_id"], name="closurevalue_day_reason")]

    def __str__(self) -> str:
        return f"{self.closure_id}: {self.expected_value}"


class DigestSent(models.Model):
    """One owner's daily risk digest, sent (insights/digest.py): at most one per owner and day, so a
    second run the same day mails nobody twice; the next digest lists what became news since."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    customers = models.IntegerField(default=0)  # customers newly at risk listed
    callbacks = models.IntegerField(default=0)  # retention callbacks due listed

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_one_per_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"


class DigestReader(models.Model):
    """The language an owner reads the app in, as last seen when they opened their inbox: their
    digest is written in it (users have no language setting of their own; until they have opened
    the inbox, the site's LANGUAGE_CODE)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
