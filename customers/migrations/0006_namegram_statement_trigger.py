"""Name grams of inserted cards written once per INSERT statement (PostgreSQL only).

The row-level trigger of 0002 ran a PL/pgSQL call and an INSERT per new card: about a fifth
of the time of an import of 100,000 customers. An import inserts its cards in batches
(bulk_create), so a statement-level trigger over the statement's transition table writes
the grams of a whole batch in one INSERT ... SELECT. Renames still go through the row-level
trigger, now for UPDATE OF name only (transition tables cannot be combined with a column
list, and a statement trigger on every UPDATE would cost each status change a join).
"""

from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION customers_namegram_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO customers_namegram (gram, customer_id)
            SELECT gram, n.id FROM new_cards n, customers_name_grams(n.name) AS gram
            ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS customers_namegram_sync ON customers_customer",
    """
    CREATE TRIGGER customers_namegram_sync
    AFTER UPDATE OF name ON customers_customer
    FOR EACH ROW EXECUTE FUNCTION customers_namegram_sync()
    """,
    "DROP TRIGGER IF EXISTS customers_namegram_insert ON customers_customer",
    """
    CREATE TRIGGER customers_namegram_insert
    AFTER INSERT ON customers_customer
    REFERENCING NEW TABLE AS new_cards
    FOR EACH STATEMENT EXECUTE FUNCTION customers_namegram_insert()
    """,
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS customers_namegram_insert ON customers_customer",
    "DROP FUNCTION IF EXISTS customers_namegram_insert()",
    "DROP TRIGGER IF EXISTS customers_namegram_sync ON customers_customer",
    """
    CREATE TRIGGER customers_namegram_sync
    AFTER INSERT OR UPDATE OF name ON customers_customer
    FOR EACH ROW EXECUTE FUNCTION customers_namegram_sync()
    """,
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_segment_city_owner_indexes")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
