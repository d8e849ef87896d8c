"""The card epoch token changes when a card changes owner too (PostgreSQL only).

customers/owner_counts.py caches each owner's cards by "customer since" under the token (a data
scope's churn denominators and cohort sizes), so the token must change whenever a card leaves or
joins an owner: an update of ``owner_id``, whoever makes it (the card gate, an import, a deleted
user's cards set to no owner). A row trigger with a WHEN clause, as 0007 explains for the others.
"""

from django.db import migrations

FORWARD = """
    CREATE TRIGGER customers_cardepoch_owner
    AFTER UPDATE OF owner_id ON customers_customer
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION customers_cardepoch_bump()
"""
BACKWARD = "DROP TRIGGER IF EXISTS customers_cardepoch_owner ON customers_customer"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("customers", "0020_owner_since")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
