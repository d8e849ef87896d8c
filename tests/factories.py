"""Factories for every model the tests touch. Realistic enough to read, cheap to build."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from faker import Faker

from closures import tally, ticket_flags
from customers import ledger
from customers.models import Customer, Interaction, LedgerEntry, Purchase, Tag
from service import churn_flag

fake_zh = Faker("zh_CN")
fake_en = Faker("en_US")
# The names tests spell out for the cards they look for. Faker draws the commonest Chinese names
# often, so a random card could be another "张伟" (or a "张伟华") and a search would find two.
NAMES_TESTS_USE = ("张伟", "李娜", "王芳", "王小明", "王秀英", "陈静", "赵敏", "李伟", "周杰", "刘洋", "赵伟", "王伟")


def chinese_name() -> str:
    """A realistic Chinese name that never contains one of the names tests spell out."""
    while any(taken in (name := fake_zh.name()) for taken in NAMES_TESTS_USE):
        pass
    return name


TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.LazyFunction(fake_en.first_name)
    last_name = factory.LazyFunction(fake_en.last_name)
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """UserFactory(role="Staff") puts the user in that group (created by the roles sync)."""
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.ImportBatch"

    file_name = factory.Sequence(lambda n: f"migration-{n}.xlsx")
    created_by = factory.SubFactory(UserFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    customer_no = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.LazyFunction(chinese_name)
    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.cn")
    city = "上海"
    segment = Customer.Segment.REGULAR
    stage = Customer.Stage.REPEAT
    balance = Decimal("0.00")
    points = 0
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=400))
    # A customer since the day the card was created, unless a test says otherwise.
    customer_since = factory.LazyAttribute(lambda card: timezone.localtime(card.created_at).date())

    @factory.post_generation
    def opening_entry(card, create, extracted, **kwargs):
        """A card made with a balance or points has its ledger's opening entry, as the gate writes it."""
        if create and (card.balance or card.points):
            LedgerEntry.objects.bulk_create(ledger.opening_entries([card], by=None, note=""))


class PurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchase

    customer = factory.SubFactory(CustomerFactory)
    product = "会员年卡"
    quantity = 1
    amount = Decimal("199.00")
    purchased_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    kind = Interaction.Kind.CALL
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    summary = "回访客户，确认满意度"
    outcome = "满意"


class ClosureReasonFactory(factory.django.DjangoModelFactory):
    """Most tests use the reasons the migration seeds; this makes extra ones."""

    class Meta:
        model = "closures.ClosureReason"

    code = factory.Sequence(lambda n: f"test-reason-{n}")
    label_en = factory.Sequence(lambda n: f"Test reason {n}")
    label_zh = factory.Sequence(lambda n: f"测试原因{n}")
    category = "service"
    for_close = True
    for_void = False
    for_archive = False
    for_erase = False


class ClosureFactory(factory.django.DjangoModelFactory):
    """A raw closure row, for analytics tests that need history in bulk.

    It does NOT change the customer's status: tests of the workflow go through the closure
    operations (closures.operations, erasure, bulk), the only code that may change a status. It is
    counted in the dashboard's tallies and its card's tickets get their closed-within-90-days flag
    (as the closure writes do theirs), so the figures see it.
    """

    class Meta:
        model = "closures.Closure"

    customer = factory.SubFactory(CustomerFactory)
    action = "close"
    reason = factory.SubFactory(ClosureReasonFactory)
    category = factory.LazyAttribute(lambda c: c.reason.category)
    previous_status = "active"
    segment = factory.LazyAttribute(lambda c: c.customer.segment)
    owner = factory.LazyAttribute(lambda c: c.customer.owner)
    card_owner = factory.LazyAttribute(lambda c: c.customer.owner)  # the card's owner now, as writes.py sets it
    tenure_days = 400
    customer_since = factory.LazyAttribute(lambda c: c.customer.customer_since)  # the card's, as the operations copy it
    performed_by = factory.SubFactory(UserFactory)
    performed_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        closure = super()._create(model_class, *args, **kwargs)
        tally.apply(new=[closure])
        ticket_flags.refresh_closures([closure])
        return closure


class FollowupFactory(factory.django.DjangoModelFactory):
    """A follow-up of a closed card: by default a pending callback, due now, assigned to nobody.

    The closure is a raw row (ClosureFactory) and the card is given status "closed" to match, as
    the planner would have found it; tests of the planner itself go through the closure operations.
    """

    class Meta:
        model = "followups.Followup"

    customer = factory.SubFactory(CustomerFactory, status="closed")
    closure = factory.SubFactory(ClosureFactory, customer=factory.SelfAttribute("..customer"))
    kind = "callback"
    channel = "phone"
    language = factory.LazyAttribute(lambda f: f.customer.language)
    due_at = factory.LazyFunction(timezone.now)
    state = "pending"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Team"
        skip_postgeneration_save = True

    name_en = factory.Sequence(lambda n: f"Team {n}")
    name_zh = factory.Sequence(lambda n: f"小组{n}")

    @factory.post_generation
    def members(team, create, extracted, **kwargs):
        if create and extracted:
            team.members.add(*extracted)


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket as a raw row (new, unassigned, opened now, no SLA, its closed-within-90-days flag
    set as the ticket writes set it); tests of what the ticket operations decide go through
    service.operations.open_ticket instead."""

    class Meta:
        model = "service.Ticket"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        ticket = super()._create(model_class, *args, **kwargs)
        churn_flag.refresh([ticket.customer_id])  # its flag, and its card's churn-after-service rows
        ticket.refresh_from_db(fields=["closed_within_90"])
        return ticket

    number = factory.Sequence(lambda n: f"S2026-{n + 900000:06d}")
    customer = factory.SubFactory(CustomerFactory)
    category = factory.LazyFunction(lambda: _service_category("complaint"))
    channel = "phone"
    priority = "normal"
    subject = factory.Sequence(lambda n: f"Ticket {n}")
    need = "The customer's words"
    status = "new"


def _service_category(key: str):
    from service.models import Category

    return Category.objects.get_or_create(key=key, defaults={"label_en": key.title(), "label_zh": key})[0]
