"""Search structures for PostgreSQL (issue 6 §2); nothing on SQLite, which searches with LIKE.

- pg_trgm and a GIN trigram index on UPPER(name::text): exactly the expression Django's
  icontains compiles to on PostgreSQL (UPPER("name"::text) LIKE UPPER(%s)), for names of
  three or more characters.
- customers_namegram, every character and character pair of each lower-cased name, kept by
  a trigger on customers_customer (AFTER INSERT OR UPDATE OF name), so creates, edits,
  imports (bulk_create) and erasures all keep it right; 1- and 2-character searches go
  through its (gram, customer_id) primary key.
- Expression indexes for the case-insensitive exact matches (customer number, email, name).
- (status, column, id) indexes for the sortable columns of the search page, so a sorted page
  of active customers is read from an index instead of sorting the table.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm ON customers_customer USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_name_upper ON customers_customer ((UPPER(name::text)))",
    "CREATE INDEX IF NOT EXISTS customer_no_upper ON customers_customer ((UPPER(customer_no::text)))",
    "CREATE INDEX IF NOT EXISTS customer_email_upper ON customers_customer ((UPPER(email::text)))",
    "CREATE INDEX IF NOT EXISTS customer_status_interaction"
    " ON customers_customer (status, last_interaction_at NULLS FIRST, id)",
    "CREATE INDEX IF NOT EXISTS customer_status_total ON customers_customer (status, purchase_total, id)",
    "CREATE INDEX IF NOT EXISTS customer_status_segment ON customers_customer (status, segment, id)",
    "CREATE INDEX IF NOT EXISTS customer_status_city ON customers_customer (status, city, id)",
    r"""
    CREATE OR REPLACE FUNCTION customers_name_grams(name text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        WITH lowered AS (SELECT lower(coalesce(name, '')) AS s)
        SELECT DISTINCT gram FROM (
            SELECT substr(s, i, 1) AS gram FROM lowered, generate_series(1, char_length(s)) AS i
            UNION ALL
            SELECT substr(s, i, 2) FROM lowered, generate_series(1, char_length(s) - 1) AS i
        ) grams
        WHERE gram !~ '\s'
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION customers_namegram_sync() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.name IS NOT DISTINCT FROM OLD.name AND NEW.id = OLD.id THEN
                RETURN NULL;
            END IF;
            DELETE FROM customers_namegram WHERE customer_id = OLD.id;
        END IF;
        INSERT INTO customers_namegram (gram, customer_id)
            SELECT gram, NEW.id FROM customers_name_grams(NEW.name) AS gram
            ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS customers_namegram_sync ON customers_customer",
    """
    CREATE TRIGGER customers_namegram_sync
    AFTER INSERT OR UPDATE OF name ON customers_customer
    FOR EACH ROW EXECUTE FUNCTION customers_namegram_sync()
    """,
    # Cards that existed before this migration.
    """
    INSERT INTO customers_namegram (gram, customer_id)
    SELECT gram, c.id FROM customers_customer c, customers_name_grams(c.name) AS gram
    ON CONFLICT DO NOTHING
    """,
    "ANALYZE customers_namegram",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS customers_namegram_sync ON customers_customer",
    "DROP FUNCTION IF EXISTS customers_namegram_sync()",
    "DROP FUNCTION IF EXISTS customers_name_grams(text)",
    "DELETE FROM customers_namegram",
    "DROP INDEX IF EXISTS customer_status_city",
    "DROP INDEX IF EXISTS customer_status_segment",
    "DROP INDEX IF EXISTS customer_status_total",
    "DROP INDEX IF EXISTS customer_status_interaction",
    "DROP INDEX IF EXISTS customer_email_upper",
    "DROP INDEX IF EXISTS customer_no_upper",
    "DROP INDEX IF EXISTS customer_name_upper",
    "DROP INDEX IF EXISTS customer_name_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
