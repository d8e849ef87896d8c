"""A score per customer, kept by the scoring run (insights/scoring.py) and read by the card, the
lists and the dashboards: RFM quintiles and segment, an explainable risk 0–100 with its reasons,
and value (historical, probability alive, expected purchases and value over the next 12 months)."""

from __future__ import annotations

from django.db import models
from django.db.models import DecimalField, IntegerField, Value
from django.db.models.functions import Coalesce
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
        indexes = [
            models.Index(fields=["-value_at_risk", "customer"], name="score_value_at_risk"),
            models.Index(fields=["-risk", "customer"], name="score_risk"),
            # Customers without a purchase have neither: last in these orders (forms.ORDERING).
            models.Index(WORTH_KEY.desc(), "customer", name="score_expected_value"),
            models.Index(RECENCY_KEY.desc(), "customer", name="score_recency"),
            models.Index(fields=["segment", "-value_at_risk", "customer"], name="score_segment_value"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.segment} risk {self.risk}"
