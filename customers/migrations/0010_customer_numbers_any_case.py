"""One card per customer number, whatever its case; generated numbers from a sequence.

1. Numbers stored in another form than the canonical one (customers.numbers: NFKC, trimmed, upper
   case; imports used to keep "case-0005" as typed) are rewritten in it, each with an audit entry on
   its card. Cards whose numbers differ only by case ("case-0005" and "CASE-0005") are NOT merged:
   the migration stops and lists them, so someone decides which card is the duplicate (void it as a
   duplicate of the other, after giving it another number on its card page) and migrates again.
2. A unique index on UPPER(customer_no) backs the rule up; on PostgreSQL it also serves the
   search's case-insensitive lookup, so the plain UPPER index of 0002 goes.
3. PostgreSQL: the sequence that customers.numbers.next_customer_no draws new numbers from, started
   after the highest generated number in use.
4. The permission to change a card's balance and points (Managers and Admins, crm/roles.py).
"""

import unicodedata

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

SEQUENCE = "customers_customer_no_seq"


def canonical(number: str) -> str:
    return unicodedata.normalize("NFKC", number).strip().upper()


def normalise_numbers(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    AuditEntry = apps.get_model("crm", "AuditEntry")
    db = schema_editor.connection.alias
    groups: dict[str, list[tuple[int, str]]] = {}
    rewrite = []
    for pk, number in Customer.objects.using(db).values_list("pk", "customer_no").iterator(chunk_size=5000):
        fixed = canonical(number)
        groups.setdefault(fixed, []).append((pk, number))
        if fixed != number:
            rewrite.append((pk, number, fixed))
    clashes = [cards for cards in groups.values() if len(cards) > 1]
    if clashes:
        lines = "\n".join(
            "  " + ", ".join(f"{number} (id {pk})" for pk, number in sorted(cards)) for cards in clashes[:50]
        )
        raise RuntimeError(
            f"Customer numbers used by more than one card when case is ignored ({len(clashes)}):\n{lines}\n"
            "Nothing was changed. Decide which card of each group is the duplicate: give it another number "
            "on its card page (reinstate it first if it is closed), void it as a duplicate of the other, "
            "then run migrate again."
        )
    for pk, number, fixed in rewrite:
        Customer.objects.using(db).filter(pk=pk).update(customer_no=fixed)
        AuditEntry.objects.using(db).create(
            action="customer.update",
            object_type="customer",
            object_id=str(pk),
            customer_id=pk,
            summary=fixed,
            changes={"customer_no": [number, fixed]},
            data={"source": {"kind": "migration"}},
        )


def start_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Customer = apps.get_model("customers", "Customer")
    highest = 0
    numbers = Customer.objects.using(schema_editor.connection.alias).filter(customer_no__regex=r"^C[0-9]{6,9}$")
    for number in numbers.values_list("customer_no", flat=True).iterator(chunk_size=5000):
        highest = max(highest, int(number[1:]))
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
    schema_editor.execute("SELECT setval(%s, %s, %s)", [SEQUENCE, max(highest, 1), highest > 0])


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


def drop_plain_upper_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_no_upper")


def restore_plain_upper_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_no_upper ON customers_customer ((UPPER(customer_no::text)))"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_phone_rev_covering_index"),
        ("crm", "0004_auditentry_data"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(normalise_numbers, migrations.RunPython.noop),
        migrations.AlterModelOptions(
            name="customer",
            options={
                "ordering": ["customer_no"],
                "permissions": [
                    ("import_customers", "Can import customers from files"),
                    ("export_customers", "Can export customers to files"),
                    ("view_unmasked_contacts", "Can see full phone numbers and emails in lists"),
                    ("change_balance", "Can change a card's balance and points"),
                ],
                "verbose_name": "customer",
                "verbose_name_plural": "customers",
            },
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Upper("customer_no"), name="customer_no_unique_any_case"
            ),
        ),
        migrations.RunPython(drop_plain_upper_index, restore_plain_upper_index),
        migrations.RunPython(start_sequence, drop_sequence),
    ]
