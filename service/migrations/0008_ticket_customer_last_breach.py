"""The card's tickets index, newest first, carries the breach flags: the closure dashboard's
"last ticket before the closure missed its SLA" becomes an index-only probe (analytics/service_closures.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0007_ticket_closed_within_90'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_customer_created',
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['customer', '-created_at', '-id'], include=('first_response_breached', 'resolution_breached'), name='ticket_customer_created'),
        ),
    ]
