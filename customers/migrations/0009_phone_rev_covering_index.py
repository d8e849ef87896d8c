"""The last-digits index of phones covers (status, id): a search by the last four digits reads
the ids of the active cards ending with them from the index alone, sorts and counts them there,
and reads only the page's rows from the table (about 100 matches at a million cards, each on its
own page of the table: 8 ms of reads when the table is not cached, against under 1 ms).

It replaces the plain index on phone_rev, whose every use it serves.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_status_id_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["phone_rev"],
                include=("status", "id"),
                name="customer_phone_rev_covering",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.RemoveIndex(model_name="customer", name="customer_phone_rev"),
    ]
