"""manage.py seed_demo. Seeding takes a while (it goes through the operations), so the module seeds
once, inside a transaction rolled back at its end, and each test reads that data set."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Sum
from django.test import override_settings
from django.utils import timezone

from analytics.management.commands.seed_demo import DEMO_PASSWORD, Command
from crm.roles import MANAGER, STAFF
from customers.models import Customer, Interaction, LedgerEntry, Purchase
from customers.phones import normalise_phone
from tests.module_data import kept_for_module

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("seed_demo")]
User = get_user_model()


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


# The default follow-up policy (followups migration 0004_default_policy), for a database without it.
DEFAULT_RULES = [
    ("close", "", "", "notice", "email", 0, False),
    ("close", "", "", "survey", "email", 1, False),
    ("close", "", "key", "callback", "phone", 3, True),
    ("close", "price", "", "winback", "email", 30, False),
    ("close", "competitor", "", "winback", "email", 30, False),
]


@pytest.fixture(scope="module")
def first_run(django_db_setup, django_db_blocker):
    """The output of the first seed_demo, on a database with the default follow-up policy; its data
    stays for the module's tests (tests/module_data.py)."""
    from followups.models import Rule

    with kept_for_module(django_db_blocker):
        if not Rule.objects.exists():  # flushed by a transactional test before this one
            for position, (action, category, segment, kind, channel, days, working) in enumerate(DEFAULT_RULES):
                Rule.objects.create(action=action, category=category, segment=segment, kind=kind,
                                    channel=channel, delay_days=days, working_days=working,
                                    position=position)  # fmt: skip
        with override_settings(DEBUG=True):
            yield seed()


def test_seed_demo_refuses_without_debug(settings):
    before = (User.objects.count(), Customer.objects.count())
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=1"):
        seed()
    assert (User.objects.count(), Customer.objects.count()) == before


def _state() -> tuple:
    return (
        User.objects.count(),
        Customer.objects.count(),
        Purchase.objects.count(),
        Interaction.objects.count(),
        list(Customer.objects.order_by("pk").values_list("updated_at", "name")[:100]),
    )


def test_seed_demo_creates_logins_and_2000_consistent_customers_once(first_run, settings, staff_client):
    settings.DEBUG = True
    output = first_run
    assert "Created 2,000 demo customers." in output
    assert "password demo-pass-2026" in output and "staff" in output and "manager" in output and "admin" in output

    for username, role in [("staff", "Staff"), ("manager", "Manager"), ("admin", "Admin")]:
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(DEMO_PASSWORD)

    customers = Customer.objects.all()
    assert customers.count() == 2000
    live = customers.not_erased()  # seed_closures erases two cards: no name, no phone
    assert live.count() == 1998
    chinese = sum(1 for name in live.values_list("name", flat=True) if "\u4e00" <= name[0] <= "\u9fff")
    assert 1200 <= chinese <= 1600  # about 70%
    for customer in live[:200]:
        assert customer.phone == normalise_phone(customer.phone)
        assert customer.phone_rev == "".join(reversed(customer.phone.lstrip("+")))
    assert live.values("phone").distinct().count() == 1998
    assert set(customers.exclude(owner=None).values_list("owner__username", flat=True)) == {"staff", "manager"}
    assert customers.filter(tags__isnull=False).distinct().count() > 500
    assert customers.filter(balance__gt=0).exists() and customers.filter(points__gt=0).exists()
    # Every card's balance and points are the sum of its ledger, closed ones settled to zero.
    totals = {
        row["customer"]: (row["amount"], row["points"])
        for row in LedgerEntry.objects.values("customer").annotate(amount=Sum("amount"), points=Sum("points"))
    }
    for customer in customers:
        assert totals.get(customer.pk, (Decimal("0.00"), 0)) == (customer.balance, customer.points)
    assert not customers.filter(status__in=["closed", "void"], balance__gt=0).exists()
    assert LedgerEntry.objects.filter(kind="refund").exists()
    # Where they came from: some migrated from an older system, customers for years before their card.
    sources = dict(customers.values("source").annotate(n=Count("id")).values_list("source", "n"))
    assert set(sources) == {"", "旧系统 Legacy CRM", "门店 Store"}
    assert 350 <= sources["旧系统 Legacy CRM"] <= 650 and 150 <= sources["门店 Store"] <= 450
    for customer in customers.filter(source="旧系统 Legacy CRM")[:100]:
        assert customer.customer_since < timezone.localtime(customer.created_at).date()
    for customer in customers.exclude(source="旧系统 Legacy CRM")[:100]:
        assert customer.customer_since == timezone.localtime(customer.created_at).date()
    years = {day.year for day in customers.values_list("customer_since", flat=True)}
    assert len(years) >= 8

    # Purchases and interactions over the last 18 months, and card figures that agree with them.
    assert Purchase.objects.count() > 2000 and Interaction.objects.count() > 2000
    assert not Purchase.objects.filter(purchased_on__lt=timezone.localdate() - dt.timedelta(days=550)).exists()
    sums = {
        row["customer"]: row
        for row in Purchase.objects.values("customer").annotate(
            n=Count("id"), total=Sum("amount"), last=Max("purchased_on")
        )
    }
    last_contact = dict(
        Interaction.objects.values("customer").annotate(last=Max("occurred_at")).values_list("customer", "last")
    )
    for customer in customers:
        row = sums.get(customer.pk, {"n": 0, "total": Decimal("0"), "last": None})
        assert (customer.purchase_count, customer.purchase_total) == (row["n"], row["total"])
        assert customer.last_purchase_on == row["last"]
        assert customer.last_interaction_at == last_contact.get(customer.pk)

    # The search finds demo customers by the last digits of their phone.
    someone = customers.get(customer_no="C000010")
    assert someone.customer_no in staff_client.get("/", {"q": someone.phone[-6:]}).content.decode()

    # Idempotent: a second run finds the data set and changes nothing.
    before = _state()
    assert "already present" in seed()
    assert _state() == before


def test_the_demo_data_is_the_same_on_every_run():
    users = {STAFF: User(username="staff"), MANAGER: User(username="manager")}
    now = timezone.now()
    first = [(c.customer.name, c.customer.phone, c.customer.purchase_total) for c in Command().generate(users, now)]
    second = [(c.customer.name, c.customer.phone, c.customer.purchase_total) for c in Command().generate(users, now)]
    assert first == second


def test_seed_demo_leaves_closure_history_made_by_the_operations(first_run):
    from closures.models import Closure, ClosureRequest
    from crm.models import AuditEntry

    closures = Closure.objects.all()
    assert 150 <= closures.count() <= 300
    assert {"close", "void", "archive", "erase"} <= set(closures.values_list("action", flat=True))
    assert closures.filter(reverted_at__isnull=False).exists()
    assert ClosureRequest.objects.filter(state="pending").count() == 3
    # Spread over the last 18 months, and every closure has its audit entry at the same moment.
    oldest = closures.order_by("performed_at").first()
    assert oldest.performed_at < timezone.now() - dt.timedelta(days=180)
    entry = AuditEntry.objects.get(action=f"closure.{oldest.action}", customer_id=oldest.customer_id)
    assert entry.at == oldest.performed_at
    # Tenure at closing counts from "customer since", never negative.
    for closure in closures.select_related("customer")[:50]:
        closed_on = timezone.localtime(closure.performed_at).date()
        assert closure.tenure_days == (closed_on - closure.customer.customer_since).days
    # Statuses agree with the open closures.
    for closure in closures.filter(reverted_at__isnull=True).select_related("customer")[:50]:
        expected = {"close": "closed", "void": "void", "archive": "archived", "erase": "erased"}[closure.action]
        assert closure.customer.status in {expected, "erased"}


def test_seed_demo_leaves_follow_ups_answers_and_consent_for_the_new_pages(first_run):
    from closures.models import Closure
    from crm import outbox
    from crm.models import AuditEntry
    from customers.models import ContactConsent
    from followups.models import Answer, Followup, Improvement

    output = first_run
    followups = Followup.objects.all()
    assert f"Follow-ups: {followups.count():,}" in output
    # Planned by the planner from the closures' events: none left unhandled, none on a void or archived card.
    assert not outbox.pending("followups").exists()
    assert not followups.exclude(closure__action="close").exists()
    assert followups.filter(kind="notice").count() == Closure.objects.filter(action="close").count()
    assert {"pending", "sent", "done", "skipped", "failed"} <= set(followups.values_list("state", flat=True))
    assert not followups.filter(state="sent", sent_at=None).exists()
    assert not followups.filter(state="pending", closure__reverted_at__isnull=False).exists()
    # Staff have callbacks to make, overdue and upcoming (and due today on a working day).
    now = timezone.now()
    mine = followups.filter(kind="callback", state="pending", assigned_to__username="staff")
    assert mine.filter(due_at__lt=now).exists() and mine.filter(due_at__gt=now).exists()
    if timezone.localdate().weekday() < 5:
        assert mine.filter(due_at__date=timezone.localdate()).exists()
    # Surveys and offers went only to customers who agreed; nothing to "do not contact".
    agreed = set(ContactConsent.objects.filter(marketing=True).values_list("customer_id", "channel"))
    for row in followups.filter(kind__in=["survey", "winback"], sent_at__isnull=False):
        withdrawn = Answer.objects.filter(customer_id=row.customer_id, contact_again=False)  # after it was sent
        assert (row.customer_id, row.channel) in agreed or withdrawn.filter(answered_at__gt=row.sent_at).exists()
    refused = ContactConsent.objects.filter(do_not_contact=True, channel="email").values("customer_id")
    assert refused.exists() and not followups.filter(customer_id__in=refused, sent_at__isnull=False).exists()
    # Answers: through surveys and callbacks, each on its follow-up's closure and on the card's timeline.
    answers = Answer.objects.select_related("followup")
    assert answers.filter(source="survey").exists() and answers.filter(source="callback").exists()
    for answer in answers:
        followup = answer.followup
        assert answer.closure_id == followup.closure_id and followup.answered_at == answer.answered_at
        assert (followup.kind, followup.state) in {("survey", "done"), ("callback", "done")}
        assert followup.kind == "callback" or followup.sent_at < answer.answered_at
    assert AuditEntry.objects.filter(action="followup.answer").count() == answers.count()
    won = followups.filter(won_back=True)
    assert won.exists() and not won.filter(closure__reverted_at=None).exists()
    assert Improvement.objects.exists()
    assert Customer.objects.filter(language="en").exists() and Customer.objects.filter(language="zh-hans").exists()


def test_seed_demo_scores_the_active_customers_for_the_card_and_the_at_risk_list(first_run):
    from insights import risk
    from insights.models import ClosureValue, RetentionAction, Score

    active = Customer.objects.filter(status=Customer.Status.ACTIVE)
    assert f"Scored: {active.count():,} active customers; retention actions: 12." in first_run
    assert Score.objects.filter(customer__status=Customer.Status.ACTIVE).count() == active.count()
    # Scored before their closures too: each closure keeps what it lost (the churn-warning dashboard).
    assert ClosureValue.objects.filter(scored=True, expected_value__gt=0).exists()
    assert RetentionAction.objects.count() == 12 and RetentionAction.objects.exclude(outcome="open").exists()
    assert Score.objects.filter(risk__gte=risk.lowest("medium")).exists()  # someone for "Customers at risk"
    assert Score.objects.exclude(expected_value=None).exists()  # enough repeat buyers for the model
