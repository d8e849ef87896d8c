"""No role reaches the Django admin: it is a read-only window for superusers (crm/admin.py).

The Users page used to make every Admin ``is_staff``; that is taken back here for everyone who is
not a superuser. Admins do their work on the CRM's own pages, which check the role matrix and audit.
"""

from django.conf import settings
from django.db import migrations


def not_staff(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    User.objects.using(schema_editor.connection.alias).filter(is_staff=True, is_superuser=False).update(is_staff=False)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_auditentry_data"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(not_staff, migrations.RunPython.noop)]
