"""What happens after a closure: the policy (rules and message templates), the follow-ups it plans
(closure notice, exit survey, callback, win-back offer), the customer's answers, and the
improvement actions whose effect the dashboard compares.

A closure's event (crm.outbox: card.closed, card.voided, card.archived) is read by the planner
(followups/planner.py), which creates one Followup per matching active Rule, idempotent on
(event, rule). Senders (followups/sending.py) deliver what is due; callbacks are worked by staff
(followups/callbacks.py); the public survey page (followups/survey.py) records an Answer.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from closures.models import Action, Closure, ClosureReason
from customers.models import ContactConsent, Customer


class Kind(models.TextChoices):
    NOTICE = "notice", _("Closure notice")
    SURVEY = "survey", _("Exit survey")
    CALLBACK = "callback", _("Callback")
    WINBACK = "winback", _("Win-back offer")


# The kinds that need marketing consent (customers.consent.MARKETING); a notice is a service message.
MARKETING_KINDS = (Kind.SURVEY, Kind.WINBACK)
Channel = ContactConsent.Channel


class Rule(models.Model):
    """One line of the follow-up policy: after a closure of ``action`` (and ``category``, ``segment``
    when set; blank means any), plan a follow-up of ``kind`` on ``channel`` ``delay_days`` later
    (working days when ``working_days``: Monday to Friday). Callbacks go to the card's owner."""

    action = models.CharField(_("action"), max_length=10, choices=[c for c in Action.choices if c[0] != "erase"])
    category = models.CharField(_("reason category"), max_length=40, blank=True, help_text=_("Blank: any category."))
    segment = models.CharField(
        _("segment"), max_length=16, choices=Customer.Segment.choices, blank=True, help_text=_("Blank: any segment.")
    )
    kind = models.CharField(_("follow-up"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    delay_days = models.PositiveSmallIntegerField(_("after (days)"), default=0, validators=[MaxValueValidator(365)])
    working_days = models.BooleanField(_("working days"), default=False)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} → {self.get_kind_display()}"


class MessageTemplate(models.Model):
    """The words of one kind of message on one channel in one language, with placeholders
    ({name}, {customer_no}, {settlement}, {survey_link}, {unsubscribe_link}; followups/messages.py)."""

    kind = models.CharField(_("follow-up"), max_length=10, choices=[c for c in Kind.choices if c[0] != "callback"])
    channel = models.CharField(
        _("channel"), max_length=8, choices=[(Channel.EMAIL, Channel.EMAIL.label), (Channel.SMS, Channel.SMS.label)]
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=5000)
    # The SMS provider's template code (Chinese providers send only registered templates).
    provider_template = models.CharField(_("provider template code"), max_length=60, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["kind", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "channel", "language"], name="messagetemplate_kind_channel_lang")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.channel}, {self.language})"


class Followup(models.Model):
    """One thing to do after one closure: a message to send or a call to make."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NOT_REACHED = "not_reached", _("Not reached")
        COMES_BACK = "comes_back", _("Wants to come back")
        DO_NOT_CONTACT = "do_not_contact", _("Do not contact")
        # A Manager decided not to reinstate a customer who wanted to come back (with a note why).
        STAYS_CLOSED = "stays_closed", _("Wanted to come back, not reinstated")

    kind = models.CharField(_("follow-up"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="followups")
    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="followups")
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_id = models.BigIntegerField(null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Where the message went (kept for the record; wiped with the card's personal data on erasure).
    address = models.CharField(_("sent to"), max_length=254, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), max_length=2000, blank=True)
    # The survey link is single-use: set when it is answered.
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    won_back = models.BooleanField(_("won back"), default=False)
    # The random key the survey and unsubscribe links carry (signed: followups/links.py), never the id.
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at", "pk"]
        permissions = [
            ("manage_followups", _("Can see and reassign every follow-up")),
            ("change_followuppolicy", _("Can change the follow-up policy and message templates")),
        ]
        constraints = [
            # The planner is idempotent on the event: one follow-up per event and rule.
            models.UniqueConstraint(fields=["event_id", "rule"], name="followup_event_rule"),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="followup_state_due"),
            models.Index(fields=["assigned_to", "state", "due_at"], name="followup_assignee_state_due"),
            models.Index(fields=["closure", "kind"], name="followup_closure_kind"),
            models.Index(fields=["customer", "state"], name="followup_customer_state"),
            # The callbacks whose customer wants to come back, waiting for a Manager (the inbox counts them).
            models.Index(
                fields=["done_at"], name="followup_to_reinstate", condition=Q(outcome="comes_back", won_back=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Answer(models.Model):
    """What the customer said about leaving: through the exit survey or on a callback."""

    class Source(models.TextChoices):
        SURVEY = "survey", _("Exit survey")
        CALLBACK = "callback", _("Callback")

    followup = models.OneToOneField(Followup, on_delete=models.CASCADE, related_name="answer")
    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="answers")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reason = models.ForeignKey(
        ClosureReason, verbose_name=_("the customer's reason"), null=True, blank=True, on_delete=models.PROTECT
    )
    other_reason = models.CharField(_("other reason"), max_length=500, blank=True)
    csat = models.PositiveSmallIntegerField(
        _("satisfaction (1-5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        _("would recommend (0-10)"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    come_back = models.TextField(_("what would bring them back"), max_length=2000, blank=True)
    contact_again = models.BooleanField(_("may contact again"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [models.Index(fields=["closure"], name="answer_closure")]
        constraints = [
            models.CheckConstraint(condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="answer_csat"),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="answer_nps"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} #{self.pk}"


class Improvement(models.Model):
    """Something a Manager changed because of the closure reasons (a new service hotline, a price
    match), dated, naming the reason categories it targets; the dashboard compares the closure rate
    of those categories in equal windows before and after ``started_on``."""

    title = models.CharField(_("title"), max_length=200)
    started_on = models.DateField(_("date"))
    categories = models.JSONField(_("reason categories it targets"), default=list)
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["-started_on", "-pk"]

    def __str__(self) -> str:
        return self.title


class ClosureSummary(models.Model):
    """What the dashboard's follow-up panels read (analytics/followups.py): one row per closure that
    has follow-ups or answers or was reinstated, with the closure's columns the panels group and
    filter by and its follow-ups and answers counted. Derived data only, recomputed from the source
    rows by followups.summary.refresh (every write path calls it) and rebuild (everything).

    The callback states that depend on the time of reading (not done = pending past due; upcoming)
    are kept as the pending callbacks' count and their first and last due times; a closure whose
    pending callbacks straddle "now" is recounted from its follow-ups when read. The customer's
    reason and scores are those of the closure's answer when it has exactly one; the panels read
    closures with several from the answers themselves. The surveys and callbacks are also summed
    by month in ActivityTally (below), which the activity panel reads for whole months.
    """

    closure = models.OneToOneField(
        Closure, primary_key=True, on_delete=models.CASCADE, related_name="followup_summary", db_constraint=True
    )
    # Copied from the closure.
    performed_at = models.DateTimeField()
    month = models.IntegerField()  # closures.tally.month_key of performed_at (local month)
    action = models.CharField(max_length=10)
    reason_id = models.BigIntegerField()
    category = models.CharField(max_length=40)
    segment = models.CharField(max_length=16)
    owner_id = models.BigIntegerField(null=True)
    performed_by_id = models.BigIntegerField(null=True)
    reverted_at = models.DateTimeField(null=True)
    # Surveys and callbacks (the activity panels).
    activity = models.IntegerField(default=0)  # surveys + callbacks, sent or not
    sent = models.IntegerField(default=0)  # surveys sent
    answered = models.IntegerField(default=0)  # ... and answered
    on_time = models.IntegerField(default=0)  # callbacks done by their due time
    late = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)  # callbacks cancelled without a done time
    pending = models.IntegerField(default=0)  # callbacks pending without a done time
    pending_first_due = models.DateTimeField(null=True)
    pending_last_due = models.DateTimeField(null=True)
    # Answers.
    answers = models.IntegerField(default=0)
    own_reason_id = models.BigIntegerField(null=True)  # of the one answer (answers == 1)
    other_given = models.BooleanField(default=False)
    csat = models.SmallIntegerField(null=True)
    nps = models.SmallIntegerField(null=True)
    # Win-back: the kind of the last follow-up sent or done before the return (a won-back callback first).
    winback_kind = models.CharField(max_length=10, null=True)
    returned_after = models.DurationField(null=True)  # reverted_at - performed_at, when winback_kind is set

    class Meta:
        indexes = [
            models.Index(fields=["performed_at"], name="summary_performed_at"),
            # Win-back: the reinstatements of a period.
            models.Index(
                fields=["reverted_at"],
                name="summary_reverted_at",
                include=["reason_id", "winback_kind", "returned_after"],
                condition=Q(reverted_at__isnull=False),
            ),
            # The answers panels: closures with one answer (read from the index alone) ...
            models.Index(
                fields=["performed_at"],
                name="summary_one_answer",
                include=["reverted_at", "reason_id", "category", "own_reason_id", "other_given", "csat", "nps"],
                condition=Q(answers=1),
            ),
            # ... with several (read from their answers), and pending callbacks that may straddle now.
            models.Index(fields=["performed_at"], name="summary_several_answers", condition=Q(answers__gt=1)),
            models.Index(fields=["performed_at"], name="summary_several_pending", condition=Q(pending__gt=1)),
            # Pending callbacks, classed against now when read (so not in the activity tally:
            # ActivityTally), read from the index alone.
            models.Index(
                fields=["performed_at"],
                name="summary_pending",
                include=["reverted_at", "activity", "month", "owner_id", "reason_id", "pending", "pending_last_due"],
                condition=Q(pending__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"summary of closure {self.closure_id}"


class ActivityTally(models.Model):
    """The surveys and callbacks of ClosureSummary summed by local month and every dimension the
    dashboard filters the summary by but the closer: what the follow-up panels read for the whole
    months of a period (analytics/followup_activity.py) instead of the summary rows themselves
    (34,500 rows against 185,000 at a million cards). Only summary rows with activity count.

    Kept in step by followups.summary: ``refresh`` adds the difference its closures' rows made,
    ``rebuild`` and a category merge recount. Pending callbacks are not here: whether one is past
    due depends on the time of reading, so the panels read them from the summary rows (a few).
    """

    month = models.IntegerField()  # as ClosureSummary.month
    owner_id = models.BigIntegerField()  # 0: no owner (a key column is never NULL, for ON CONFLICT)
    reason_id = models.BigIntegerField()
    action = models.CharField(max_length=10)
    category = models.CharField(max_length=40)
    segment = models.CharField(max_length=16)
    reverted = models.BooleanField()
    closures = models.IntegerField(default=0)  # summary rows with activity (0: the group is gone)
    sent = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    late = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "owner_id", "reason_id", "action", "category", "segment", "reverted"],
                name="activitytally_key",
            ),
        ]

    def __str__(self) -> str:
        return f"activity {self.month} {self.owner_id} {self.reason_id}: {self.closures}"
