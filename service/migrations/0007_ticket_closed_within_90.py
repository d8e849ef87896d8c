"""Whether the card was closed within 90 days after the ticket opened (filled by closures 0016)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0006_desk_card_and_overdue_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticket',
            name='closed_within_90',
            field=models.BooleanField(default=False),
        ),
    ]
