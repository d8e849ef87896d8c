"""Random and hostile input to the forms and the query strings: never a 500, never a half-written change (issue 7).

Hypothesis feeds HTML and script, SQL-looking strings, overlong strings, unicode, control
characters and empty values to the customer form, the search page's filters, the closure flow
and the analytics pages. Each example either saves something complete and valid or shows the
page again with errors and leaves the database as it was.
"""

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from closures.models import ACTION_STATUS, Action, Category, Closure, ClosureReason, ClosureRequest
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import ClosureFactory, CustomerFactory

pytestmark = pytest.mark.django_db

FAST = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE = [
    "",
    " ",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE customers_customer; --",
    "' OR '1'='1",
    "1 UNION SELECT password FROM auth_user",
    "%",
    "_",
    "\\",
    "%%' --",
    "=1+2",
    "@SUM(A1)",
    "\x00",
    "a\x00b",
    "\r\n\t",
    "\u202egnp.exe",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀",
    "张伟",
    "ﾃｽﾄ",
    "-1",
    "0",
    "1e999",
    "NaN",
    "9" * 40,
    "99999-99-99",
    "2024-02-30",
    "0000-01-01",
]

RAW_SCRIPT = b"<script>alert(1)</script>"
text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs"]), max_size=10),
    st.integers(min_value=200, max_value=5000).map(lambda n: "长" * n),
)


def values(*plausible):
    """A field's value: hostile or random text about a quarter of the time, else something that could pass."""
    if not plausible:
        return text
    return st.integers(0, 3).flatmap(lambda n: text if n == 0 else st.sampled_from(plausible))


def _no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:2000]


# --- The customer form ---------------------------------------------------------------------------

VALID_CUSTOMER = {
    "customer_no": "",
    "name": "王小明",
    "gender": "",
    "birth_date": "1985-03-21",
    "occupation": "销售经理",
    "company": "<b>上海某某</b>",
    "title": "",
    "phone": "",
    "email": "",
    "wechat": "",
    "city": "上海",
    "address": "",
    "segment": Customer.Segment.REGULAR,
    "stage": Customer.Stage.REPEAT,
    "owner": "",
    "tags": "VIP, 生日关怀",
    "preferences": "",
    "balance": "120.50",
    "points": "10",
    "save_anyway": "on",
}
ODD_CUSTOMER_VALUES = {
    "customer_no": ["vip-001", "A.B/C_1", "C 1"],
    "gender": ["f", "m", "x"],
    "birth_date": ["2999-01-01", "1850-01-01"],
    "phone": ["13812345678", "+86 138 1234 5678", "010-12345678", "12345"],
    "email": ["wang@example.cn", "not-an-email", "A@B.CN"],
    "owner": ["1", "999999", "abc"],
    "tags": [",,,", "x" * 41, ",".join(f"t{n}" for n in range(25))],
    "balance": ["0", "-1", "1e999", "12345678901234.99", "NaN", "0.001"],
    "points": ["0", "-5", "3.5", "99999999999999999999"],
    "save_anyway": [""],
}


@st.composite
def customer_posts(draw):
    """A valid card with up to four fields replaced by odd, hostile or random values."""
    data = dict(VALID_CUSTOMER)
    for name in draw(st.lists(st.sampled_from(sorted(data)), max_size=4, unique=True)):
        odd = ODD_CUSTOMER_VALUES.get(name, [])
        data[name] = draw(st.one_of(text, st.sampled_from(odd)) if odd else text)
    return data


@FAST
@given(data=customer_posts())
def test_random_customer_forms_save_a_valid_card_or_show_errors_and_save_nothing(manager_client, data):
    before = set(Customer.objects.values_list("pk", flat=True))
    audits = AuditEntry.objects.count()

    response = manager_client.post(reverse("customers:create"), data)

    _no_server_error(response)
    created = Customer.objects.exclude(pk__in=before)
    event(f"customer form: {response.status_code}")
    if response.status_code == 302:
        assert created.count() == 1
        customer = created.get()
        assert response["Location"] == reverse("customers:card", kwargs={"pk": customer.pk})
        customer.full_clean()
        assert customer.name.strip()
        assert customer.balance >= Decimal("0") and customer.points >= 0
        assert AuditEntry.objects.filter(action="customer.create", customer_id=customer.pk).count() == 1
        assert RAW_SCRIPT not in manager_client.get(response["Location"]).content  # escaped on the card
    else:
        assert response.status_code == 200
        assert response.context["form"].errors
        assert RAW_SCRIPT not in response.content  # the values shown again are escaped
        assert not created.exists()
        assert AuditEntry.objects.count() == audits


# --- The search page -------------------------------------------------------------------------------

SEARCH_PARAMS = [
    "q",
    "status",
    "segment",
    "stage",
    "owner",
    "city",
    "tag",
    "interaction_after",
    "interaction_before",
    "purchase_after",
    "purchase_before",
    "total_min",
    "total_max",
    "o",
    "page",
]
query_value = st.one_of(
    text,
    st.sampled_from(["active", "closed", "vip", "name", "-total", "-last_interaction", "2", "last", "2024-01-01"]),
)

# (customer number, status, segment, city): every status, segment and city the filters can ask for.
SEARCH_CARDS = [
    ("PS01", "active", "key", "上海"),
    ("PS02", "active", "regular", "北京"),
    ("PS03", "active", "potential", "Hong Kong"),
    ("PS04", "active", "key", ""),
    ("PS05", "closed", "key", "上海"),
    ("PS06", "void", "regular", "北京"),
    ("PS07", "archived", "potential", "上海"),
    ("PS08", "erased", "regular", ""),
]
CARD_NUMBER = re.compile(r'<td class="nowrap"[^>]*><a href="[^"]*">([^<]*)</a></td>')


@pytest.fixture
def some_customers(db):
    return [
        CustomerFactory(customer_no=number, status=status, segment=segment, city=city, name="王小明")
        for number, status, segment, city in SEARCH_CARDS
    ]


def query_strings(names):
    return st.dictionaries(st.sampled_from(names), st.lists(query_value, min_size=1, max_size=3), max_size=len(names))


@st.composite
def search_params(draw):
    """Random parameters, and in most examples a status, segment or city that could match a card."""
    params = draw(st.one_of(st.just({}), query_strings(SEARCH_PARAMS)))
    good = {
        "status": Customer.Status.values,
        "segment": Customer.Segment.values,
        "city": ["上海", "北京", " Hong   Kong ", "hong kong", ""],
    }
    for name, plausible in good.items():
        if draw(st.integers(0, 2)):
            params[name] = draw(st.lists(values(*plausible), min_size=1, max_size=3))
    return params


def search_allows(params: dict[str, list[str]]):
    """What the status, segment and city filters let through, worked out from the URL alone (a city
    by any part of its name, in any case).

    An invalid value is left out and shown next to its field, so it filters nothing; without a
    valid status only active cards are listed. A single-valued filter reads the URL's last value.
    """
    statuses = params.get("status") or []
    allowed_statuses = set(statuses) if statuses and set(statuses) <= set(Customer.Status.values) else {"active"}
    segment = (params.get("segment") or [""])[-1]
    city = (params.get("city") or [""])[-1].strip()
    city = " ".join(city.split()) if city and len(city) <= 60 and "\x00" not in city else ""

    def allows(card: Customer) -> bool:
        return (
            card.status in allowed_statuses
            and (segment not in Customer.Segment.values or card.segment == segment)
            and (not city or city.casefold() in card.city.casefold())  # any part of the name
        )

    return allows


@FAST
@given(params=search_params(), htmx=st.booleans())
def test_random_search_query_strings_never_fail_and_list_only_what_the_filters_allow(
    manager_client, some_customers, params, htmx
):
    headers = {"HX-Request": "true"} if htmx else {}
    response = manager_client.get(reverse("customers:search"), params, headers=headers)

    _no_server_error(response)
    assert response.status_code == 200
    listed = CARD_NUMBER.findall(response.content.decode())
    cards = {card.customer_no: card for card in Customer.objects.filter(customer_no__in=listed)}
    assert sorted(cards) == sorted(listed)  # every number on the page is a card, listed once
    allows = search_allows(params)
    assert not [number for number, card in cards.items() if not allows(card)], params
    event(f"search: {len(listed)} listed")
    if set(params) <= {"status", "segment", "city", "o"}:  # nothing else narrows the list: all of it
        assert sorted(listed) == sorted(c.customer_no for c in some_customers if allows(c)), params


# --- The analytics dashboard and the closure list ---------------------------------------------------

ANALYTICS_PARAMS = [
    "period",
    "start",
    "end",
    "action",
    "category",
    "reason",
    "segment",
    "owner",
    "by",
    "tenure",
    "reverted",
    "o",
    "page",
]
CLOSURE_CHOICES = {"action": Action.values, "category": Category.values, "segment": Customer.Segment.values}


@st.composite
def analytics_params(draw):
    """Random parameters, and in most examples an action, category or segment that could match."""
    params = draw(st.one_of(st.just({}), query_strings(ANALYTICS_PARAMS)))
    for name, plausible in CLOSURE_CHOICES.items():
        if draw(st.integers(0, 2)):
            params[name] = draw(st.lists(values(*plausible), min_size=1, max_size=2))
    return params


@pytest.fixture
def some_closures(db):
    """Recent closures (inside the default period) of every action, category and segment, some reverted."""
    now = timezone.now()
    closures = []
    for n, (action, category, segment) in enumerate(
        itertools.product(["close", "void", "archive"], ["price", "service"], ["key", "regular"])
    ):
        closures.append(
            ClosureFactory(
                customer=CustomerFactory(segment=segment, status=ACTION_STATUS[action]),
                action=action,
                category=category,
                segment=segment,
                performed_at=now - dt.timedelta(days=n + 1),
                reverted_at=now - dt.timedelta(hours=n) if n % 4 == 0 else None,
            )
        )
    return closures


@FAST
@given(params=analytics_params())
def test_random_analytics_query_strings_never_fail_and_list_only_what_the_filters_allow(
    manager_client, some_closures, params
):
    dashboard = manager_client.get(reverse("analytics:dashboard"), params)
    _no_server_error(dashboard)
    assert dashboard.status_code == 200

    response = manager_client.get(reverse("analytics:closure_list"), params)
    _no_server_error(response)
    assert response.status_code == 200
    listed = [Closure.objects.get(pk=closure.pk) for closure in response.context["closures"]]
    event(f"closure list: {len(listed)} listed")
    for name, choices in CLOSURE_CHOICES.items():
        value = (params.get(name) or [""])[-1]  # a valid value filters; an invalid one is shown and left out
        if value in choices:
            assert all(getattr(closure, name) == value for closure in listed), (name, params)
    if "reverted" not in params:
        assert all(closure.reverted_at is None for closure in listed), params


# --- The closure flow ------------------------------------------------------------------------------


def _closure_audits(customer) -> int:
    return AuditEntry.objects.filter(customer_id=customer.pk, action__startswith="closure.").count()


def _assert_nothing_changed(customer) -> None:
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert not Closure.objects.filter(customer=customer).exists()
    assert not ClosureRequest.objects.filter(customer=customer).exists()
    assert _closure_audits(customer) == 0


def _assert_complete_closure(customer, action: str) -> None:
    customer.refresh_from_db()
    assert customer.status == ACTION_STATUS[action]
    closure = Closure.objects.get(customer=customer)
    assert closure.action == action
    assert AuditEntry.objects.filter(customer_id=customer.pk, action=f"closure.{action}").count() == 1


@st.composite
def closure_attempts(draw):
    """A choice that could pass (a reason meant for the action, notes, a settlement) with some fields spoiled."""
    action = draw(st.sampled_from(["close", "void", "archive"]))
    reasons = ClosureReason.objects.active().for_action(action).exclude(category="duplicate")
    fields = {
        "reason": str(draw(st.sampled_from(list(reasons.values_list("pk", flat=True))))),
        "notes": "客户来电要求销卡 <script>alert(1)</script>",
        "duplicate_of": "",
        "settlement": "forfeit",
        "forfeit_reason": "余额已退还",
        "settlement_note": "",
        "confirmation": "",
    }
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
        fields[name] = draw(text)
    start_fields, confirm_fields = (
        ("reason", "notes", "duplicate_of"),
        ("settlement", "forfeit_reason", "settlement_note"),
    )
    return {
        "action": action,
        "money": draw(st.sampled_from([(Decimal("0"), 0), (Decimal("88.80"), 0), (Decimal("0"), 120)])),
        "start": {name: fields[name] for name in start_fields},
        "confirm": {name: fields[name] for name in (*confirm_fields, "confirmation")},
        "tamper": draw(st.one_of(st.none(), st.none(), st.none(), text)),
    }


@FAST
@given(attempt=closure_attempts())
def test_random_closure_input_closes_completely_or_changes_nothing(manager_client, attempt):
    balance, points = attempt["money"]
    customer = CustomerFactory(balance=balance, points=points)
    action = attempt["action"]

    page = manager_client.post(
        reverse("closures:start", kwargs={"pk": customer.pk, "action": action}), attempt["start"]
    )
    _no_server_error(page)
    _assert_nothing_changed(customer)  # "Continue" never changes anything
    if page.status_code != 200 or "token" not in page.context["form"].fields:
        event("start refused")
        return

    token = page.context["form"]["token"].value() if attempt["tamper"] is None else attempt["tamper"]
    response = manager_client.post(
        reverse("closures:confirm", kwargs={"pk": customer.pk, "action": action}),
        {"token": token, **attempt["confirm"]},
    )

    _no_server_error(response)
    event(f"confirm: closed={Closure.objects.filter(customer=customer).exists()}")
    if Closure.objects.filter(customer=customer).exists():
        assert response.status_code == 302
        _assert_complete_closure(customer, action)
    else:
        _assert_nothing_changed(customer)
