"""An index on (status, id), for counting the matches of a frequent one- or two-character name.

The search counts up to 1,001 matches by merging the name-gram index with the cards of the
chosen status in id order. Through the primary key that read every visited card from the
table (8,300 cards for 1,001 matches of 伟: 14 ms at a million cards); through this index it
is an index-only read (3 ms).
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_card_epoch"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["status", "id"], name="customer_status_id"),
        ),
    ]
