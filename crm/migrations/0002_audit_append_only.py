"""On PostgreSQL, refuse UPDATE and DELETE on the audit table at the database level.

The only exception is the erase operation, which sets ``crm.audit_redaction`` for its own
transaction to replace an erased customer's personal values with a marker.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION crm_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('crm.audit_redaction', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS crm_audit_append_only ON crm_auditentry;
CREATE TRIGGER crm_audit_append_only BEFORE UPDATE OR DELETE ON crm_auditentry
    FOR EACH ROW EXECUTE FUNCTION crm_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS crm_audit_append_only ON crm_auditentry;
DROP FUNCTION IF EXISTS crm_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
