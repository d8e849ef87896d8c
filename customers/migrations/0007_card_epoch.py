"""An epoch token that changes whenever a count of cards created before a past moment can (PostgreSQL only).

The dashboard's churn denominator counts the cards created before the period's start: about
650,000 index entries for the last twelve months. For a moment safely in the past that count
changes only when a card stamped before it appears (a backdated insert: seeds, tests, the
benchmark; the app stamps ``created_at`` with the time of the insert and imports never set it),
when a card is deleted (the app never deletes one; erasure blanks it), when ``created_at`` is
changed, or when the table is truncated. customers/counts.py caches the count under this token.

The token is a fresh random UUID rather than a counter, so a value cached under a token written
by a transaction that later rolled back can never be found again.

- INSERT (statement level, over the transition table): bumps only when some new card is stamped
  more than an hour before the transaction started. Ordinary creates and long imports never bump,
  so they never wait on the epoch row's lock.
- DELETE and TRUNCATE (statement level): always bump.
- UPDATE OF created_at: row level with a WHEN clause comparing the old and new values. Django's
  ``save()`` writes every column, so "UPDATE OF created_at" matches every card edit; a statement
  trigger would bump (and lock the epoch row) on each of them, and transition tables cannot be
  combined with a column list. The WHEN clause is evaluated without calling the function, so an
  edit that leaves ``created_at`` alone costs one comparison.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE TABLE IF NOT EXISTS customers_cardepoch (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        token uuid NOT NULL DEFAULT gen_random_uuid()
    )
    """,
    "INSERT INTO customers_cardepoch (id) VALUES (1) ON CONFLICT (id) DO NOTHING",
    """
    CREATE OR REPLACE FUNCTION customers_cardepoch_bump() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE customers_cardepoch SET token = gen_random_uuid() WHERE id = 1;
        RETURN NULL;
    END
    $$
    """,
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
    "DROP TRIGGER IF EXISTS customers_cardepoch_insert ON customers_customer",
    """
    CREATE TRIGGER customers_cardepoch_insert
    AFTER INSERT ON customers_customer
    REFERENCING NEW TABLE AS epoch_new_cards
    FOR EACH STATEMENT EXECUTE FUNCTION customers_cardepoch_insert()
    """,
    "DROP TRIGGER IF EXISTS customers_cardepoch_delete ON customers_customer",
    """
    CREATE TRIGGER customers_cardepoch_delete
    AFTER DELETE ON customers_customer
    FOR EACH STATEMENT EXECUTE FUNCTION customers_cardepoch_bump()
    """,
    "DROP TRIGGER IF EXISTS customers_cardepoch_truncate ON customers_customer",
    """
    CREATE TRIGGER customers_cardepoch_truncate
    AFTER TRUNCATE ON customers_customer
    FOR EACH STATEMENT EXECUTE FUNCTION customers_cardepoch_bump()
    """,
    "DROP TRIGGER IF EXISTS customers_cardepoch_update ON customers_customer",
    """
    CREATE TRIGGER customers_cardepoch_update
    AFTER UPDATE OF created_at ON customers_customer
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION customers_cardepoch_bump()
    """,
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS customers_cardepoch_update ON customers_customer",
    "DROP TRIGGER IF EXISTS customers_cardepoch_truncate ON customers_customer",
    "DROP TRIGGER IF EXISTS customers_cardepoch_delete ON customers_customer",
    "DROP TRIGGER IF EXISTS customers_cardepoch_insert ON customers_customer",
    "DROP FUNCTION IF EXISTS customers_cardepoch_insert()",
    "DROP FUNCTION IF EXISTS customers_cardepoch_bump()",
    "DROP TABLE IF EXISTS customers_cardepoch",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_namegram_statement_trigger")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
