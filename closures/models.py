"""Closing a card (销卡), voiding a record (作废), archiving (归档) and erasure, with reasons.

Statuses change only through the closure operations (closures/operations.py, erasure.py, bulk.py,
all writing through writes.py); these models are the history.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.formatting import in_language  # noqa: F401  (closures.categories imports it from here)
from customers.models import Customer

from .settled import Settled, Settlement  # noqa: F401  (Settlement: the closure operations import it from here)


class Action(models.TextChoices):
    CLOSE = "close", _("Close card")
    VOID = "void", _("Void record")
    ARCHIVE = "archive", _("Archive")
    ERASE = "erase", _("Delete")


# The status each action leaves the card in.
ACTION_STATUS = {
    Action.CLOSE: Customer.Status.CLOSED,
    Action.VOID: Customer.Status.VOID,
    Action.ARCHIVE: Customer.Status.ARCHIVED,
    Action.ERASE: Customer.Status.ERASED,
}


class Category(models.TextChoices):
    """The categories every installation starts with (migration 0010 makes them ReasonCategory rows).

    Categories are data now (closures/categories.py reads them); this class keeps the default keys
    for the code that names one (``DUPLICATE`` asks for the surviving card) and for the modules
    that have not moved to closures.categories yet.
    """

    COMPETITOR = "competitor", _("Competitor")
    PRICE = "price", _("Price")
    SERVICE = "service", _("Service")
    PRODUCT = "product", _("Product")
    MOVED = "moved", _("Moved away")
    DECEASED = "deceased", _("Deceased")
    INACTIVITY = "inactivity", _("Inactivity")
    DUPLICATE = "duplicate", _("Duplicate record")
    DATA_ERROR = "data_error", _("Data error")
    CUSTOMER_REQUEST = "customer_request", _("Customer request")
    OTHER = "other", _("Other")


class ReasonCategory(models.Model):
    """A reason category (原因类别): what churn analytics group reasons by. Admins manage them on the
    Reasons page (closures/category_ops.py); closures/categories.py reads them.

    Reasons and closures store the key (ClosureReason.category, Closure.category), not a foreign
    key: the dashboard's tallies key on it, and a key never changes once created, so old closures,
    exports and links keep their meaning. A category is retired rather than deleted; a merged one
    is retired and remembers where its reasons and closures went.
    """

    key = models.SlugField(_("key"), max_length=40, unique=True)
    label_en = models.CharField(_("label (English)"), max_length=120, blank=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=120, blank=True)
    display_order = models.PositiveIntegerField(_("display order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("reason category")
        verbose_name_plural = _("reason categories")
        ordering = ["display_order", "id"]
        default_permissions = ()  # managed with the reasons' permissions (closures.change_closurereason)

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The label in the active language (the other language's when this one is empty)."""
        return in_language(self.label_en, self.label_zh) or self.key


class ClosureReasonQuerySet(models.QuerySet):
    def active(self) -> "ClosureReasonQuerySet":
        return self.filter(is_active=True)

    def for_action(self, action: str) -> "ClosureReasonQuerySet":
        return self.filter(**{f"for_{action}": True})


class ClosureReason(models.Model):
    """A predefined reason (注销原因). Retired reasons stay on old closures and in analytics."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_en = models.CharField(_("label (English)"), max_length=120, blank=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=120, blank=True)
    category = models.CharField(_("category"), max_length=40)  # a ReasonCategory key
    for_close = models.BooleanField(_("for closing cards"), default=False)
    for_void = models.BooleanField(_("for voiding records"), default=False)
    for_archive = models.BooleanField(_("for archiving"), default=False)
    for_erase = models.BooleanField(_("for deletion"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=100)
    notes_required = models.BooleanField(_("notes required"), default=False)

    objects = ClosureReasonQuerySet.as_manager()

    class Meta:
        verbose_name = _("closure reason")
        verbose_name_plural = _("closure reasons")
        ordering = ["display_order", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The label in the active language (the other language's when this one is empty)."""
        return in_language(self.label_en, self.label_zh) or self.code

    @property
    def requires_notes(self) -> bool:
        """Whether closing with this reason needs notes: what the Admin ticked, nothing implied."""
        return self.notes_required

    def applies_to(self, action: str) -> bool:
        return bool(getattr(self, f"for_{action}", False))


class ClosureQuerySet(models.QuerySet):
    def open(self) -> "ClosureQuerySet":
        return self.filter(reverted_at__isnull=True)

    def in_period(self, start, end) -> "ClosureQuerySet":
        return self.filter(performed_at__gte=start, performed_at__lt=end)


class Closure(Settled):
    """One closure of one card: what was done, why, by whom, and whether it was reverted.

    Segment, owner and tenure are copied from the card at the moment of closing, so churn
    analytics describe the customer as they were when they left and stay right after erasure.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="closures")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.ForeignKey(ClosureReason, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("category"), max_length=40)  # the reason's ReasonCategory key
    notes = models.TextField(_("notes"), max_length=1000, blank=True)
    duplicate_of = models.ForeignKey(
        Customer, verbose_name=_("duplicate of"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    merged = models.BooleanField(
        _("merged"), default=False, help_text=_("The duplicate's records were moved onto the surviving card.")
    )
    previous_status = models.CharField(max_length=10, choices=Customer.Status.choices)
    balance_at_closure = models.DecimalField(_("balance at closure"), max_digits=12, decimal_places=2, default=0)
    points_at_closure = models.IntegerField(_("points at closure"), default=0)
    settlement_note = models.TextField(_("settlement note"), max_length=1000, blank=True)

    segment = models.CharField(_("segment"), max_length=16, choices=Customer.Segment.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The card's owner *now*, which data scopes select by (crm/scopes.py, analytics/population.py).
    # While the closure is in force it is ``owner`` (a closed card is not edited: customers.gate);
    # after a reinstatement the card may change hands, and this follows it (closures.signals).
    card_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    tenure_days = models.PositiveIntegerField(_("tenure (days)"), default=0)
    # The card's "customer since" at closing: the cohort the closure belongs to.
    customer_since = models.DateField(_("customer since"), null=True, blank=True)

    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("performed by"), on_delete=models.PROTECT, related_name="+"
    )
    performed_at = models.DateTimeField(_("performed at"), default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    nonce = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # Historical closures brought in by an import: the file, and the performer's name as the
    # file gave it when no such user exists (performed_by is then the importing user).
    import_batch = models.ForeignKey(
        "customers.ImportBatch",
        verbose_name=_("import batch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="closures",
        editable=False,
    )
    performed_by_name = models.CharField(_("performed by (as imported)"), max_length=150, blank=True)

    reverted_at = models.DateTimeField(_("reverted at"), null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reverted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revert_note = models.TextField(_("reinstatement note"), max_length=1000, blank=True)
    customer_erased = models.BooleanField(_("customer erased"), default=False)

    objects = ClosureQuerySet.as_manager()

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["-performed_at", "-id"]
        permissions = [
            ("reinstate_closure", _("Can reinstate closed, void and archived cards")),
            ("erase_customer", _("Can irreversibly delete a customer's personal data")),
            ("bulk_close", _("Can close many cards at once")),
            ("view_analytics", _("Can view closure analytics")),
            ("export_closures", _("Can export closure data")),
        ]
        constraints = [
            # At most one open closure per card, so two racing confirmations cannot both land.
            models.UniqueConstraint(
                fields=["customer"], condition=Q(reverted_at__isnull=True), name="closure_one_open_per_customer"
            ),
        ]
        indexes = [
            models.Index(fields=["performed_at"], name="closure_performed_at"),
            models.Index(fields=["reason", "performed_at"], name="closure_reason_at"),
            models.Index(fields=["category", "performed_at"], name="closure_category_at"),
            models.Index(fields=["performed_by", "performed_at"], name="closure_by_at"),
            # A data scope's closures (its owners' cards), by period.
            models.Index(fields=["card_owner", "performed_at"], name="closure_card_owner_at"),
            # Reinstatements in the partial months at a period's ends (analytics/figures.py).
            # ... and the churn rate's cards reinstated in a period after being closed before it,
            # counted from this index alone (analytics/churn.py).
            models.Index(
                fields=["reverted_at"],
                name="closure_reverted_at",
                include=["performed_at"],
                condition=Q(reverted_at__isnull=False),
            ),
            # The closure list and the export leave reverted closures out unless asked: their capped
            # count and newest-first page read this instead of the whole table.
            models.Index(
                fields=["performed_at"], name="closure_open_performed_at", condition=Q(reverted_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.customer_id} {self.performed_at:%Y-%m-%d}"

    @property
    def is_reverted(self) -> bool:
        return self.reverted_at is not None


class ClosureRequest(Settled):
    """A Staff closure waiting for a Manager's approval (when approval is switched on)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="closure_requests")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.ForeignKey(ClosureReason, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(_("notes"), max_length=1000, blank=True)
    settlement_note = models.TextField(_("settlement note"), max_length=1000, blank=True)
    duplicate_of = models.ForeignKey(
        Customer, verbose_name=_("duplicate of"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    merge = models.BooleanField(
        _("merge into the surviving card"),
        default=False,
        help_text=_("Approving moves the duplicate's records onto the surviving card."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), max_length=1000, blank=True)
    closure = models.OneToOneField(Closure, null=True, blank=True, on_delete=models.PROTECT, related_name="request")
    nonce = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # What the requester saw: approving refuses when the card's money changed since the request.
    balance_seen = models.DecimalField(_("balance when requested"), max_digits=12, decimal_places=2, default=0)
    points_seen = models.IntegerField(_("points when requested"), default=0)
    # The language the requester used when asking: the e-mail telling them the outcome is written in it
    # (closures/notify.py); empty for requests made before it was kept (the site's language then).
    language = models.CharField(max_length=10, blank=True, editable=False)

    class Meta:
        verbose_name = _("closure request")
        verbose_name_plural = _("closure requests")
        ordering = ["-requested_at", "-id"]
        permissions = [("decide_closurerequest", _("Can approve or reject closure requests"))]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(state="pending"), name="closurerequest_one_pending_per_customer"
            ),
        ]
        indexes = [
            # The approval queue (oldest first) and the inbox's "approvals to decide" count, on every
            # page for Managers: the pending requests alone, with the requester to leave one's own out.
            models.Index(
                fields=["requested_at", "id"],
                include=["requested_by"],
                condition=Q(state="pending"),
                name="closurerequest_pending_at",
            ),
            # The inbox's "my requests decided since I last looked", on every page for Staff.
            models.Index(
                fields=["requested_by", "decided_at"], include=["decided_by"], name="closurerequest_by_decided"
            ),
            # "My requests", newest first.
            models.Index(fields=["requested_by", "requested_at"], name="closurerequest_by_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.customer_id} ({self.get_state_display()})"


class BulkClosure(models.Model):
    """One confirmed bulk closure: who, when, what, and how many cards were done and skipped.

    Its nonce is the one the confirmation page carried, unique: re-posting the same confirmation
    (a refresh, the back button, a replay within the token's lifetime) is refused as a whole, so
    cards reinstated in between are never closed again by it (closures/bulk.py).
    """

    nonce = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    reason = models.ForeignKey(ClosureReason, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="+")
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("performed by"), on_delete=models.PROTECT, related_name="+"
    )
    performed_at = models.DateTimeField(_("performed at"), default=timezone.now)
    selected = models.PositiveIntegerField(_("cards selected"), default=0)
    done = models.PositiveIntegerField(_("cards done"), default=0)
    skipped = models.PositiveIntegerField(_("cards skipped"), default=0)

    class Meta:
        verbose_name = _("bulk closure")
        verbose_name_plural = _("bulk closures")
        ordering = ["-performed_at", "-id"]
        default_permissions = ()  # written by bulk_close only, read by nobody's page yet

    def __str__(self) -> str:
        return f"{self.get_action_display()} x{self.done} {self.performed_at:%Y-%m-%d %H:%M}"


class ClosureSettings(models.Model):
    """Singleton (pk=1): whether Staff closures need a Manager's approval, and for which cards."""

    class Policy(models.TextChoices):
        ALL = "all", _("All cards")
        KEY_OR_BALANCE = "key_or_balance", _("Key accounts and cards with a balance or points")

    approval_required = models.BooleanField(_("Staff closures need a Manager's approval"), default=False)
    approval_policy = models.CharField(
        _("cards that need approval"), max_length=20, choices=Policy.choices, default=Policy.KEY_OR_BALANCE
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("closure settings")
        verbose_name_plural = _("closure settings")
        default_permissions = ("view", "change")

    def __str__(self) -> str:
        return str(_("Closure settings"))

    @classmethod
    def load(cls) -> "ClosureSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    def needs_approval(self, customer: Customer) -> bool:
        if not self.approval_required:
            return False
        if self.approval_policy == self.Policy.ALL:
            return True
        return customer.segment == Customer.Segment.KEY or customer.balance > 0 or customer.points > 0


# The dashboard's tallies, in their own module (closures/tally_models.py; kept by closures/tally.py).
from .tally_models import (  # noqa: E402, F401
    ClosureOwnerBandTally,
    ClosureOwnerStaffTally,
    ClosureOwnerTally,
    ClosureStaffTally,
    ClosureTally,
    CohortOwnerTally,
    CohortTally,
)
