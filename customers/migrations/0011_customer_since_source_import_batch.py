"""Customer since (客户起始日期), source and import batches (issue 17)."""

import customers.models
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def fill_customer_since(apps, schema_editor):
    """Every existing card became a customer on the local date it was created."""
    Customer = apps.get_model("customers", "Customer")
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_customer SET customer_since = (created_at AT TIME ZONE %s)::date",
                [settings.TIME_ZONE],
            )
        return
    tz = timezone.get_default_timezone()
    batch = []
    for card in Customer.objects.only("id", "created_at").iterator(chunk_size=2000):
        card.customer_since = timezone.localtime(card.created_at, tz).date()
        batch.append(card)
        if len(batch) >= 2000:
            Customer.objects.bulk_update(batch, ["customer_since"])
            batch = []
    Customer.objects.bulk_update(batch, ["customer_since"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0010_customer_numbers_any_case"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="customer_since",
            field=models.DateField(null=True, verbose_name="customer since"),
        ),
        migrations.RunPython(fill_customer_since, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="customer",
            name="customer_since",
            field=models.DateField(default=customers.models.local_today, verbose_name="customer since"),
        ),
        migrations.AddField(
            model_name="customer",
            name="source",
            field=models.CharField(blank=True, max_length=60, verbose_name="source"),
        ),
        migrations.CreateModel(
            name="ImportBatch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("customers", "Customers"), ("closures", "Historical closures")],
                        default="customers",
                        max_length=10,
                        verbose_name="kind",
                    ),
                ),
                ("file_name", models.CharField(max_length=255, verbose_name="file name")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="imported at")),
                ("rows", models.PositiveIntegerField(default=0, verbose_name="rows")),
                ("created_count", models.PositiveIntegerField(default=0, verbose_name="created")),
                ("updated_count", models.PositiveIntegerField(default=0, verbose_name="updated")),
                ("closed_count", models.PositiveIntegerField(default=0, verbose_name="closures recorded")),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="imported by",
                    ),
                ),
            ],
            options={
                "verbose_name": "import batch",
                "verbose_name_plural": "import batches",
                "ordering": ["-created_at", "-id"],
                "default_permissions": ("view",),
            },
        ),
        migrations.AddField(
            model_name="customer",
            name="import_batch",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="customers",
                to="customers.importbatch",
                verbose_name="import batch",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["customer_since"], name="customer_since"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["segment", "customer_since"], name="customer_segment_since"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["source", "customer_since"], name="customer_source_since"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["import_batch", "customer_since"], name="customer_batch_since"),
        ),
    ]
