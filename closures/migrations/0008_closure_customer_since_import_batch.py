"""A closure's cohort and historical imports (issue 17)."""

import django.db.models.deletion
from django.db import migrations, models


def fill_customer_since(apps, schema_editor):
    """A closure's cohort: the card's "customer since" (its creation date until now)."""
    Closure = apps.get_model("closures", "Closure")
    Customer = apps.get_model("customers", "Customer")
    Closure.objects.update(
        customer_since=models.Subquery(
            Customer.objects.filter(pk=models.OuterRef("customer_id")).values("customer_since")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("closures", "0007_audit_entries_as_data"),
        ("customers", "0011_customer_since_source_import_batch"),
    ]

    operations = [
        migrations.AddField(
            model_name="closure",
            name="customer_since",
            field=models.DateField(blank=True, null=True, verbose_name="customer since"),
        ),
        migrations.AddField(
            model_name="closure",
            name="import_batch",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="closures",
                to="customers.importbatch",
                verbose_name="import batch",
            ),
        ),
        migrations.AddField(
            model_name="closure",
            name="performed_by_name",
            field=models.CharField(blank=True, max_length=150, verbose_name="performed by (as imported)"),
        ),
        migrations.RunPython(fill_customer_since, migrations.RunPython.noop, elidable=False),
    ]
