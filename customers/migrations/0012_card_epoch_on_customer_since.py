"""The card epoch token follows ``customer_since`` instead of ``created_at`` (PostgreSQL only).

customers/counts.py now counts the cards that were customers before a day (the churn rate's
population and the cohorts start at "customer since"), so the token must change whenever such a
count can: an insert holding a card that is a customer since more than three days before the
database's current date (an import of migrated customers, seeds, tests, the benchmark), an
update that changes ``customer_since``, a delete or a TRUNCATE (those two triggers are kept from
0007). See 0007 for why the token is random and why the update trigger is a row trigger with a
WHEN clause.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION customers_cardepoch_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM epoch_new_cards WHERE customer_since < current_date - 3) THEN
            UPDATE customers_cardepoch SET token = gen_random_uuid() WHERE id = 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS customers_cardepoch_update ON customers_customer",
    """
    CREATE TRIGGER customers_cardepoch_update
    AFTER UPDATE OF customer_since ON customers_customer
    FOR EACH ROW WHEN (OLD.customer_since IS DISTINCT FROM NEW.customer_since)
    EXECUTE FUNCTION customers_cardepoch_bump()
    """,
    "UPDATE customers_cardepoch SET token = gen_random_uuid() WHERE id = 1",
]

BACKWARD = [
    """
    CREATE OR REPLACE FUNCTION customers_cardepoch_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM epoch_new_cards WHERE created_at < now() - interval '1 hour') THEN
            UPDATE customers_cardepoch SET token = gen_random_uuid() WHERE id = 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS customers_cardepoch_update ON customers_customer",
    """
    CREATE TRIGGER customers_cardepoch_update
    AFTER UPDATE OF created_at ON customers_customer
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION customers_cardepoch_bump()
    """,
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0011_customer_since_source_import_batch")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
