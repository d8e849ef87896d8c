"""Every code path that writes a customer card goes through the card gate or a closure operation.

A source scan finds each statement of the apps that writes a card's row (an ORM write on
``Customer``, a card's ``save()``, a change of its tags, raw SQL on its table) and fails on any
outside the modules allowed to: the gate, the closure writes and erasure, and the demo seeding of an
empty database. A new path that writes cards around the gate fails here; it must call the gate
(customers/gate.py) or an operation (closures/). The paths users reach are then each shown to
refuse a card that is not active.
"""

import ast
from pathlib import Path

import pytest
from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("crm", "customers", "closures", "analytics")
ALLOWED = {
    "customers/gate.py": "the card gate itself",
    "customers/batch.py": "the card gate's rules for many cards at once (an import's chunks)",
    "customers/ledger.py": "the balance ledger: balance and points move with their entries, under the gate's lock",
    "customers/merge.py": "the merge of a duplicate: tags and the recounted purchase figures, filled empty "
    "contact fields, on both cards locked by the closure operation, with the gate's rules and audit",
    "closures/writes.py": "the one place statuses and closures are written",
    "closures/erasure.py": "erasure blanks the personal fields under the closure operation's lock",
    "analytics/management/commands/seed_demo.py": "demo cards for `make run`, into an empty database only",
    "customers/management/commands/rotate_field_keys.py": "re-encrypts the ID numbers with a new key (and "
    "rehashes them), locked: no value changes, so nothing for the gate to check or audit",
}
WRITE_METHODS = {"update", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "delete"}
TAG_METHODS = {"set", "add", "remove", "clear"}
CARD_NAMES = {"customer", "customers", "locked", "card", "cards", "survivor", "existing"}


def _chain(node) -> list[str]:
    """The names along a chain: Customer.objects.filter(...).update -> [Customer, objects, filter, update]."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            if isinstance(node, ast.Name):
                names.append(node.id)
            return names[::-1]


def _writes_a_card(names: list[str]) -> bool:
    last = names[-1] if names else ""
    return (
        (names[:2] == ["Customer", "objects"] and last in WRITE_METHODS)
        or (names[:1] == ["Customer"] and "through" in names and last in WRITE_METHODS)
        or names == ["Customer"]
        or (len(names) >= 2 and last == "save" and names[-2] in CARD_NAMES)
        or (len(names) >= 3 and names[-2] == "tags" and last in TAG_METHODS)
    )


def card_writes(source: str) -> list[tuple[int, str]]:
    """(line, what) for every statement in ``source`` that writes a customer card."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _writes_a_card(names := _chain(node.func)):
            found.append((node.lineno, ".".join(names)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.upper()
            if "CUSTOMERS_CUSTOMER" in text and any(word in text for word in ("UPDATE ", "INSERT ", "DELETE ")):
                found.append((node.lineno, "SQL on customers_customer"))
    return found


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative:
                yield relative, path.read_text(encoding="utf-8")


def test_no_module_writes_a_card_around_the_gate():
    outside = [
        f"{module}:{line} {what}"
        for module, source in _sources()
        if module not in ALLOWED
        for line, what in card_writes(source)
    ]
    assert outside == [], "write cards through customers.gate or a closure operation"


def test_the_scan_finds_the_writes_of_the_modules_allowed_to_write():
    """Each allowed module really writes cards (else it should leave the list), so the scan sees writes."""
    sources = dict(_sources())
    assert all(card_writes(sources[module]) for module in ALLOWED), "a module in ALLOWED writes no card"


@pytest.mark.parametrize(
    "snippet",
    [
        "Customer.objects.filter(pk=1).update(name='x')",
        "Customer.objects.bulk_create(rows)",
        "Customer(name='x').save()",
        "customer.save(update_fields=['name'])",
        "locked.tags.set([])",
        "Customer.tags.through.objects.filter(customer_id=1).delete()",
        "cursor.execute('UPDATE customers_customer SET name = %s')",
    ],
)
def test_the_scan_recognises_each_kind_of_card_write(snippet):
    assert card_writes(snippet)


def test_reads_are_not_taken_for_writes():
    assert not card_writes("Customer.objects.filter(pk=1).values_list('pk', flat=True)")
    assert not card_writes("closure.save(update_fields=['reverted_at'])")


# --- and every path users reach refuses a card that is not active --------------------------------

CLOSED_CARD_POSTS = [
    ("customers:edit", {"name": "Renamed", "segment": "potential", "stage": "prospect"}),
    ("customers:add_purchase", {"product": "x", "quantity": "1", "amount": "1", "purchased_on": "2026-01-01"}),
    ("customers:add_interaction", {"kind": "call", "occurred_at": "2026-01-01T10:00", "summary": "x"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "data"), CLOSED_CARD_POSTS)
@pytest.mark.parametrize("status", ["closed", "void", "archived", "erased"])
def test_the_card_pages_refuse_to_change_a_card_that_is_not_active(admin_client, route, data, status):
    customer = CustomerFactory(status=status, name="原名")
    admin_client.post(reverse(route, kwargs={"pk": customer.pk}), data)
    customer.refresh_from_db()
    assert (customer.name, customer.purchase_count, customer.last_interaction_at) == ("原名", 0, None)
    assert customer.status == status
    assert Customer.objects.count() == 1
