"""Random and hostile input to the forms and the query strings: never a 500, never a half-written change (issue 7).

Hypothesis feeds HTML and script, SQL-looking strings, overlong strings, unicode, control
characters and empty values to the customer form, the search page's filters, the closure flow
and the analytics pages. Each example either saves something complete and valid or shows the
page again with errors and leaves the database as it was.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from closures.models import ACTION_STATUS, Closure, ClosureReason, ClosureRequest
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory

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


@pytest.fixture
def some_customers(db):
    return CustomerFactory.create_batch(3, name="王小明")


def query_strings(names):
    return st.dictionaries(st.sampled_from(names), st.lists(query_value, min_size=1, max_size=3), max_size=len(names))


@FAST
@given(params=query_strings(SEARCH_PARAMS), htmx=st.booleans())
def test_random_search_query_strings_never_fail(manager_client, some_customers, params, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = manager_client.get(reverse("customers:search"), params, headers=headers)

    _no_server_error(response)
    assert response.status_code == 200


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


@FAST
@given(params=query_strings(ANALYTICS_PARAMS), page=st.sampled_from(["analytics:dashboard", "analytics:closure_list"]))
def test_random_analytics_query_strings_never_fail(manager_client, params, page):
    response = manager_client.get(reverse(page), params)

    _no_server_error(response)
    assert response.status_code == 200


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
        "acknowledge_balance": "on",
        "settlement_note": "余额已退还",
        "confirmation": "",
    }
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
        fields[name] = draw(text)
    start_fields, confirm_fields = ("reason", "notes", "duplicate_of"), ("acknowledge_balance", "settlement_note")
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
