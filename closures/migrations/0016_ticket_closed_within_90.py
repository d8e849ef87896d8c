"""Fill service.Ticket.closed_within_90 (closures/ticket_flags.py) from the closures already there:
one set-based UPDATE of the tickets whose card was closed ("close", not reverted) within 90 days
after they opened. Here, not in the service app, because closures decide it (service sits below)."""

from datetime import timedelta

from django.db import migrations
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Value


def fill(apps, schema_editor):
    db = schema_editor.connection.alias
    Ticket = apps.get_model("service", "Ticket")
    Closure = apps.get_model("closures", "Closure")
    until = ExpressionWrapper(OuterRef("created_at") + Value(timedelta(days=90)), output_field=DateTimeField())
    closed = Closure.objects.using(db).filter(
        customer=OuterRef("customer"),
        action="close",
        reverted_at__isnull=True,
        performed_at__gte=OuterRef("created_at"),
        performed_at__lt=until,
    )
    Ticket.objects.using(db).filter(Exists(closed)).update(closed_within_90=True)


class Migration(migrations.Migration):
    dependencies = [
        ("closures", "0015_closure_settlement"),
        ("service", "0007_ticket_closed_within_90"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
