"""Fill the churn-after-service summary (service.ChurnLast and ChurnDay, service/churn_summary.py)
from the tickets and closures already there. Here, not in the service app, because the summary
keeps the cards' closures too (service sits below closures). It runs the current rebuild: if a
later migration changes the summary's columns, it rebuilds the summary itself."""

from django.db import migrations


def fill(apps, schema_editor):
    from service import churn_summary

    churn_summary.rebuild(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("closures", "0016_ticket_closed_within_90"),
        ("service", "0009_churn_after_service_summary"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
