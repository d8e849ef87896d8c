"""Closures learn their card's current owner (``card_owner``), which data scopes select by."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    """Every closure takes its card's owner as it is now; statistics for the new column at once
    (without them PostgreSQL would guess how many closures a scope's owners hold)."""
    Closure = apps.get_model("closures", "Closure")
    Customer = apps.get_model("customers", "Customer")
    db = schema_editor.connection.alias
    owner = Customer.objects.using(db).filter(pk=OuterRef("customer_id")).values("owner_id")[:1]
    Closure.objects.using(db).update(card_owner_id=Subquery(owner))
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE closures_closure (card_owner_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("closures", "0017_churn_after_service_summary"),
        ("customers", "0019_id_number"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="closure",
            name="card_owner",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="closure",
            index=models.Index(fields=["card_owner", "performed_at"], name="closure_card_owner_at"),
        ),
    ]
