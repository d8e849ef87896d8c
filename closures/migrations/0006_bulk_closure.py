"""Bulk closures recorded with the nonce of their confirmation (unique), so a replay is refused as a whole.

Before this, a bulk confirmation carried no nonce: re-posting it within its lifetime closed again
the cards a Manager had reinstated in between.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('closures', '0005_closure_list_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BulkClosure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('nonce', models.CharField(blank=True, editable=False, max_length=64, null=True, unique=True)),
                ('action', models.CharField(choices=[('close', 'Close card'), ('void', 'Void record'), ('archive', 'Archive'), ('erase', 'Delete')], max_length=10, verbose_name='action')),
                ('performed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='performed at')),
                ('selected', models.PositiveIntegerField(default=0, verbose_name='cards selected')),
                ('done', models.PositiveIntegerField(default=0, verbose_name='cards done')),
                ('skipped', models.PositiveIntegerField(default=0, verbose_name='cards skipped')),
                ('performed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='performed by')),
                ('reason', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='closures.closurereason', verbose_name='reason')),
            ],
            options={
                'verbose_name': 'bulk closure',
                'verbose_name_plural': 'bulk closures',
                'ordering': ['-performed_at', '-id'],
                'default_permissions': (),
            },
        ),
    ]
