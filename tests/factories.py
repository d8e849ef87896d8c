"""Factories for every model the tests touch. Realistic enough to read, cheap to build."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from faker import Faker

from closures import tally
from customers import ledger
from customers.models import Customer, Interaction, LedgerEntry, Purchase, Tag

fake_zh = Faker("zh_CN")
fake_en = Faker("en_US")
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
    name = factory.LazyFunction(fake_zh.name)
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
    counted in the dashboard's tallies (as the operations count theirs), so the figures see it.
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
    tenure_days = 400
    customer_since = factory.LazyAttribute(lambda c: c.customer.customer_since)  # the card's, as the operations copy it
    performed_by = factory.SubFactory(UserFactory)
    performed_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        closure = super()._create(model_class, *args, **kwargs)
        tally.apply(new=[closure])
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
