"""The customer management card (客户管理卡) and what is recorded on it."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from crm.fields import EncryptedTextField

from . import identity
from .querysets import CustomerQuerySet


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def local_today():
    """Today in the configured time zone (the default "customer since" of a new card)."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


class ImportBatch(models.Model):
    """One file imported (customers or historical closures): who, when, what it did.

    A card remembers the batch that brought it in (``Customer.import_batch``), so a migrated
    population can be found and measured; the counts here are the import's own, exact.
    """

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        CLOSURES = "closures", _("Historical closures")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CUSTOMERS)
    file_name = models.CharField(_("file name"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("imported at"), default=timezone.now)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    closed_count = models.PositiveIntegerField(_("closures recorded"), default=0)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.file_name} ({timezone.localtime(self.created_at):%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        """The customer search showing the cards this import created, whatever their status now."""
        statuses = [("status", status) for status in Customer.Status.values]
        return f"{reverse('customers:search')}?{urlencode([('batch', self.pk), *statuses])}"


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")
        VOID = "void", _("Void")
        ARCHIVED = "archived", _("Archived")
        ERASED = "erased", _("Erased")

    class Segment(models.TextChoices):
        POTENTIAL = "potential", _("Potential")
        REGULAR = "regular", _("Regular")
        KEY = "key", _("Key account")

    class Stage(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        FIRST_PURCHASE = "first_purchase", _("First purchase")
        REPEAT = "repeat", _("Repeat")
        LOYAL = "loyal", _("Loyal")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Not stated")
        FEMALE = "f", _("Female")
        MALE = "m", _("Male")
        OTHER = "o", _("Other")

    # Identity
    customer_no = models.CharField(_("customer number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True, default="")
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=150, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    # 证件号码: encrypted at rest, found by exact match through its keyed hash, which save() keeps in step
    # with the normalised number (customers.identity; SECURITY.md, "Sensitive fields").
    id_number = EncryptedTextField(_("ID document number"), blank=True, default="", db_default="")
    id_number_hash = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)

    # Contact. phone is stored normalised in E.164 (+8613812345678); phone_rev holds its digits
    # reversed so "last 4 or more digits" is an indexed prefix search, not a scan.
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True, db_index=True)
    phone_rev = models.CharField(max_length=20, blank=True, editable=False)
    email = models.EmailField(_("email"), max_length=254, blank=True, db_index=True)
    wechat = models.CharField(_("WeChat or other handle"), max_length=100, blank=True)
    # The language of the messages the customer receives (closure notice, survey): customers.consent.
    language = models.CharField(
        _("language for messages"), max_length=10, choices=settings.LANGUAGES, default="zh-hans", db_default="zh-hans"
    )
    city = models.CharField(_("city"), max_length=60, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=255, blank=True)

    # Classification
    segment = models.CharField(_("segment"), max_length=16, choices=Segment.choices, default=Segment.POTENTIAL)
    stage = models.CharField(_("lifecycle stage"), max_length=16, choices=Stage.choices, default=Stage.PROSPECT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    preferences = models.TextField(_("preferences"), max_length=2000, blank=True)

    # Where the customer came from: when they became a customer (客户起始日期; the creation date
    # unless an import or an edit says otherwise: tenure and the churn rate's population start
    # here), the system or channel they came from, and the import that brought the card in.
    customer_since = models.DateField(_("customer since"), default=local_today)
    source = models.CharField(_("source"), max_length=60, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("import batch"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        editable=False,
    )

    # Money
    balance = models.DecimalField(
        _("stored-value balance"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    points = models.IntegerField(_("loyalty points"), default=0, validators=[MinValueValidator(0)])

    # State, changed only by the closure operations (closures/); the other fields only through customers.gate
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)

    # Kept current by customers.gate.record_purchase / record_interaction, never recomputed on a page view.
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True, editable=False)
    last_purchase_on = models.DateField(_("last purchase"), null=True, blank=True, editable=False)
    purchase_count = models.PositiveIntegerField(_("purchases"), default=0, editable=False)
    purchase_total = models.DecimalField(
        _("purchase total"), max_digits=14, decimal_places=2, default=Decimal("0.00"), editable=False
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["customer_no"]
        permissions = [
            ("import_customers", _("Can import customers from files")),
            ("export_customers", _("Can export customers to files")),
            ("view_unmasked_contacts", _("Can see full phone numbers and emails in lists")),
            ("change_balance", _("Can change a card's balance and points")),
        ]
        indexes = [
            # The last digits of phones (phone_rev LIKE '8765%'); covering, so the ids of the active
            # cards ending with them are read from the index alone (customers.results.LastDigits).
            models.Index(
                fields=["phone_rev"],
                name="customer_phone_rev_covering",
                opclasses=["varchar_pattern_ops"],
                include=["status", "id"],
            ),
            models.Index(fields=["status", "updated_at"], name="customer_status_updated"),
            # Counting a frequent name's matches (伟: 12% of all cards) merges the name-gram index
            # with the active cards in id order: read from this index alone, not from the table
            # (3 ms instead of 14 ms for the first 1,001 at a million cards).
            models.Index(fields=["status", "id"], name="customer_status_id"),
            models.Index(fields=["status", "name"], name="customer_status_name"),
            # A user scoped to their own cards (crm/scopes.py) searches names on those: newest first
            # by id, the name and number riding in the index, so the search's page and its count
            # filter without reading the table (0.4 ms and 20 ms for 22,000 cards, instead of 57 and 78).
            models.Index(
                fields=["owner", "status", "id"], name="customer_owner_status", include=["name", "customer_no"]
            ),
            # The exact search of an ID number; partial: only the cards that have one, no pattern index.
            models.Index(fields=["id_number_hash"], name="customer_id_number_hash", condition=~Q(id_number_hash="")),
            # "cards active at the start of a period" (churn rate) counts by creation date.
            models.Index(fields=["created_at"], name="customer_created_at"),
            # ... and per segment or per owner, for the churn rate's denominators of one slice.
            models.Index(fields=["segment", "created_at"], name="customer_segment_created"),
            models.Index(fields=["owner", "created_at"], name="customer_owner_created"),
            # The churn rate's population and the cohorts start at "customer since".
            models.Index(fields=["customer_since"], name="customer_since"),
            models.Index(fields=["segment", "customer_since"], name="customer_segment_since"),
            # ... and a data scope's cards (its owners'), counted by day without reading them.
            models.Index(fields=["owner", "customer_since"], name="customer_owner_since"),
            models.Index(fields=["source", "customer_since"], name="customer_source_since"),
            models.Index(fields=["import_batch", "customer_since"], name="customer_batch_since"),
            # A filtered population's "customer since" (a tag's cards, by id) read from the index alone.
            models.Index(fields=["id"], name="customer_id_since", include=["customer_since"]),
            # The search page filtered by segment and city, sorted by purchase total (the key
            # accounts of a city): without it the count walked the (status, total) index and
            # filtered 56,000 rows away to find 1,001 matches (190 ms at a million cards).
            models.Index(fields=["status", "segment", "city", "purchase_total", "id"], name="customer_seg_city_total"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="customer_balance_not_negative"),
            models.CheckConstraint(condition=Q(points__gte=0), name="customer_points_not_negative"),
            # One card per number whatever its case (customers.numbers stores the canonical form;
            # this also serves the search's case-insensitive lookup).
            models.UniqueConstraint(Upper("customer_no"), name="customer_no_unique_any_case"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_no})"

    def save(self, *args, **kwargs):
        self.phone_rev = "".join(ch for ch in reversed(self.phone) if ch.isdigit())
        self.id_number_hash = identity.keyed_hash(self.id_number)
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_erased(self) -> bool:
        return self.status == self.Status.ERASED


class Purchase(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="purchases")
    product = models.CharField(_("product"), max_length=150)
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    purchased_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        ordering = ["-purchased_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "purchased_on"], name="purchase_customer_date"),
            # The cards whose history changed since the last scoring run (insights/scoring.py).
            models.Index(fields=["created_at"], name="purchase_created"),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class Interaction(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("Email")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        MESSAGE = "message", _("Message")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.TextField(_("summary"), max_length=2000)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="interaction_customer_when"),
            models.Index(fields=["created_at"], name="interaction_created"),  # as purchase_created
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class LedgerEntry(models.Model):
    """One change of a card's stored-value balance or loyalty points (储值 and 积分), kept for good.

    The card's ``balance`` and ``points`` are the running totals of its entries: they change only
    by writing an entry (customers.ledger), in the same transaction, under the card's lock, so
    the card and its ledger always agree (a test recounts). Each entry records what happened
    (a top-up, money spent, an adjustment and why, a settlement on closure, a transfer between
    cards), the amounts as signed changes and the totals after it, who did it and when.
    """

    class Kind(models.TextChoices):
        OPENING = "opening", _("Opening balance")
        TOP_UP = "top_up", _("Top-up")
        SPEND = "spend", _("Paid from balance")
        ADJUSTMENT = "adjustment", _("Adjustment")
        REFUND = "refund", _("Refunded")
        FORFEIT = "forfeit", _("Forfeited")
        TRANSFER_OUT = "transfer_out", _("Transferred to another card")
        TRANSFER_IN = "transfer_in", _("Transferred from another card")

    class Method(models.TextChoices):
        NONE = "", _("Not stated")
        CASH = "cash", _("Cash")
        BANK = "bank", _("Bank transfer")
        ORIGINAL = "original", _("Original payment method")
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ledger")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=Decimal("0.00"))
    points = models.IntegerField(_("points"), default=0)
    balance_after = models.DecimalField(_("balance after"), max_digits=12, decimal_places=2)
    points_after = models.IntegerField(_("points after"))
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, blank=True, default="")
    note = models.CharField(_("note"), max_length=500, blank=True)
    counterpart = models.ForeignKey(
        Customer,
        verbose_name=_("other card"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("balance entry")
        verbose_name_plural = _("balance entries")
        ordering = ["-created_at", "-id"]
        default_permissions = ("add", "view")
        indexes = [models.Index(fields=["customer", "-id"], name="ledger_customer_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} / {self.points}"


class NameGram(models.Model):
    """Every character and every two-character run of each customer's name (lower-cased).

    PostgreSQL only: pg_trgm cannot serve one- and two-character queries (a Chinese surname
    such as "伟" or a given name such as "张伟"), so those go through this table's
    (gram, customer) index instead of scanning a million names. A trigger on the customer
    table keeps it in step with every insert, update, import and erasure (see the
    migration); SQLite searches with LIKE and leaves this table empty.
    """

    pk = models.CompositePrimaryKey("gram", "customer")
    gram = models.CharField(max_length=2)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.gram


class SavedViewQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SavedViewQuerySet":
        """The user's own saved searches and everyone's shared ones."""
        return self.filter(Q(owner=user) | Q(shared=True))


class SavedView(models.Model):
    """A named search (the search page's query string), private to its owner or shared with everyone.

    ``query`` holds only the search's own parameters (customers.saved.clean_query), so opening a
    saved view is opening the search page with them. Owners rename and delete their own; Admins
    (``customers.delete_shared_savedview``) may delete a shared one that has outlived its use.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("search"), max_length=2000)
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "pk"]
        default_permissions = ()
        permissions = [("delete_shared_savedview", "Delete anyone's shared saved view")]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="savedview_owner_name")]
        indexes = [models.Index(fields=["name"], condition=Q(shared=True), name="savedview_shared_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse('customers:search')}?{self.query}"


class ContactConsent(models.Model):
    """What a customer allows on one channel (e-mail, SMS, phone); customers/consent.py reads and changes it.

    No row means the defaults: service messages about the customer's own account allowed, surveys
    and offers (marketing) not, not "do not contact". Changed only through customers.consent.change
    (audited, also on a closed card: a customer may unsubscribe after leaving).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        PHONE = "phone", _("Phone")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    service = models.BooleanField(_("service messages"), default=True)
    marketing = models.BooleanField(_("surveys and offers"), default=False)
    marketing_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    marketing_how = models.CharField(_("consent given how"), max_length=200, blank=True)
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact consent")
        verbose_name_plural = _("contact consents")
        default_permissions = ("view", "change")
        constraints = [models.UniqueConstraint(fields=["customer", "channel"], name="consent_customer_channel")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}"
