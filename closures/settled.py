"""How a closure, or the request for one, settles the card's balance and points (the fields that
closures.models.Closure and ClosureRequest share; the rules are in closures/settlement.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class Settlement(models.TextChoices):
    """How the balance and points of a card being closed are settled (closures/settlement.py)."""

    REFUND = "refund", _("Refund")
    TRANSFER = "transfer", _("Transfer to another card")
    FORFEIT = "forfeit", _("Forfeit")
    KEEP = "keep", _("Keep on the archived card")


class Settled(models.Model):
    """How a closure (or the request for one) settles the card's money: the choice, the refund's
    method, the receiving card of a transfer, the amount and points refunded, transferred or
    forfeited (on a request: the refund asked, empty for the whole balance) and why forfeited."""

    settlement = models.CharField(_("settlement"), max_length=10, choices=Settlement.choices, blank=True)
    settlement_method = models.CharField(_("refund method"), max_length=10, blank=True)
    settled_to = models.ForeignKey(
        Customer, verbose_name=_("transferred to"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    settled_amount = models.DecimalField(_("settled amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    settled_points = models.IntegerField(_("settled points"), default=0)
    forfeit_reason = models.CharField(_("why forfeited"), max_length=500, blank=True)

    class Meta:
        abstract = True
