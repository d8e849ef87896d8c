"""Reason categories become data (issue 17): the ReasonCategory table; reasons, closures and the
tallies keep the key, without a fixed list of choices; a reason may have a label in one language."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('closures', '0008_closure_customer_since_import_batch'),
    ]

    operations = [
        migrations.AlterField(
            model_name='closure',
            name='category',
            field=models.CharField(max_length=40, verbose_name='category'),
        ),
        migrations.AlterField(
            model_name='closurereason',
            name='category',
            field=models.CharField(max_length=40, verbose_name='category'),
        ),
        migrations.AlterField(
            model_name='closurereason',
            name='label_en',
            field=models.CharField(blank=True, max_length=120, verbose_name='label (English)'),
        ),
        migrations.AlterField(
            model_name='closurereason',
            name='label_zh',
            field=models.CharField(blank=True, max_length=120, verbose_name='label (Chinese)'),
        ),
        migrations.AlterField(
            model_name='closurestafftally',
            name='category',
            field=models.CharField(max_length=40),
        ),
        migrations.AlterField(
            model_name='closuretally',
            name='category',
            field=models.CharField(max_length=40),
        ),
        migrations.CreateModel(
            name='ReasonCategory',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.SlugField(max_length=40, unique=True, verbose_name='key')),
                ('label_en', models.CharField(blank=True, max_length=120, verbose_name='label (English)')),
                ('label_zh', models.CharField(blank=True, max_length=120, verbose_name='label (Chinese)')),
                ('display_order', models.PositiveIntegerField(default=100, verbose_name='display order')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('merged_into', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='closures.reasoncategory', verbose_name='merged into')),
            ],
            options={
                'verbose_name': 'reason category',
                'verbose_name_plural': 'reason categories',
                'ordering': ['display_order', 'id'],
                'default_permissions': (),
            },
        ),
    ]
