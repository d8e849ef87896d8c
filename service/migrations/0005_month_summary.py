"""Monthly rows of the service summary (service/tally.py), filled from the day rows already there."""

import django.db.models.deletion
from django.db import migrations, models

COUNTS = (
    "opened, backlog, resolved, cancelled, was_resolved, reopened, "
    "fr_met, fr_missed, res_met, res_missed, sla_met, sla_missed"
)
DIMENSIONS = "category_id, channel, team, priority"
BUCKETS = 60


def fill_months(apps, schema_editor):
    """Sum the existing day rows by local month, set-based (one INSERT ... SELECT per table)."""
    if schema_editor.connection.vendor == "postgresql":
        month = "CAST(date_trunc('month', day) AS date)"
    else:
        month = "date(day, 'start of month')"
    sums = ", ".join(f"SUM({c.strip()})" for c in COUNTS.split(","))
    schema_editor.execute(
        f"INSERT INTO service_servicemonthtally (month, {DIMENSIONS}, {COUNTS}) "
        f"SELECT {month}, {DIMENSIONS}, {sums} FROM service_servicetally GROUP BY {month}, {DIMENSIONS}"
    )
    columns = ", ".join(f"b{k}" for k in range(BUCKETS))
    buckets = ", ".join(f"SUM(CASE WHEN bucket = {k} THEN n ELSE 0 END)" for k in range(BUCKETS))
    schema_editor.execute(
        f"INSERT INTO service_servicemonthtimetally (month, {DIMENSIONS}, measure, {columns}) "
        f"SELECT {month}, {DIMENSIONS}, measure, {buckets} FROM service_servicetimetally "
        f"GROUP BY {month}, {DIMENSIONS}, measure"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('service', '0004_summary'),
    ]

    operations = [
        migrations.CreateModel(
            name='ServiceMonthTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(choices=[('phone', 'Phone'), ('email', 'E-mail'), ('wechat', 'WeChat'), ('store', 'In store'), ('web', 'Web form')], max_length=10)),
                ('team', models.IntegerField(default=0)),
                ('priority', models.CharField(choices=[('low', 'Low'), ('normal', 'Normal'), ('high', 'High'), ('urgent', 'Urgent')], max_length=10)),
                ('opened', models.IntegerField(default=0)),
                ('backlog', models.IntegerField(default=0)),
                ('resolved', models.IntegerField(default=0)),
                ('cancelled', models.IntegerField(default=0)),
                ('was_resolved', models.IntegerField(default=0)),
                ('reopened', models.IntegerField(default=0)),
                ('fr_met', models.IntegerField(default=0)),
                ('fr_missed', models.IntegerField(default=0)),
                ('res_met', models.IntegerField(default=0)),
                ('res_missed', models.IntegerField(default=0)),
                ('sla_met', models.IntegerField(default=0)),
                ('sla_missed', models.IntegerField(default=0)),
                ('month', models.DateField()),
                ('category', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='service.category')),
            ],
            options={
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('month', 'category', 'channel', 'team', 'priority'), name='servicemonthtally_key')],
            },
        ),
        migrations.CreateModel(
            name='ServiceMonthTimeTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('channel', models.CharField(choices=[('phone', 'Phone'), ('email', 'E-mail'), ('wechat', 'WeChat'), ('store', 'In store'), ('web', 'Web form')], max_length=10)),
                ('team', models.IntegerField(default=0)),
                ('priority', models.CharField(choices=[('low', 'Low'), ('normal', 'Normal'), ('high', 'High'), ('urgent', 'Urgent')], max_length=10)),
                ('measure', models.CharField(choices=[('fr', 'First response'), ('res', 'Resolution')], max_length=3)),
                ('b0', models.IntegerField(default=0)),
                ('b1', models.IntegerField(default=0)),
                ('b2', models.IntegerField(default=0)),
                ('b3', models.IntegerField(default=0)),
                ('b4', models.IntegerField(default=0)),
                ('b5', models.IntegerField(default=0)),
                ('b6', models.IntegerField(default=0)),
                ('b7', models.IntegerField(default=0)),
                ('b8', models.IntegerField(default=0)),
                ('b9', models.IntegerField(default=0)),
                ('b10', models.IntegerField(default=0)),
                ('b11', models.IntegerField(default=0)),
                ('b12', models.IntegerField(default=0)),
                ('b13', models.IntegerField(default=0)),
                ('b14', models.IntegerField(default=0)),
                ('b15', models.IntegerField(default=0)),
                ('b16', models.IntegerField(default=0)),
                ('b17', models.IntegerField(default=0)),
                ('b18', models.IntegerField(default=0)),
                ('b19', models.IntegerField(default=0)),
                ('b20', models.IntegerField(default=0)),
                ('b21', models.IntegerField(default=0)),
                ('b22', models.IntegerField(default=0)),
                ('b23', models.IntegerField(default=0)),
                ('b24', models.IntegerField(default=0)),
                ('b25', models.IntegerField(default=0)),
                ('b26', models.IntegerField(default=0)),
                ('b27', models.IntegerField(default=0)),
                ('b28', models.IntegerField(default=0)),
                ('b29', models.IntegerField(default=0)),
                ('b30', models.IntegerField(default=0)),
                ('b31', models.IntegerField(default=0)),
                ('b32', models.IntegerField(default=0)),
                ('b33', models.IntegerField(default=0)),
                ('b34', models.IntegerField(default=0)),
                ('b35', models.IntegerField(default=0)),
                ('b36', models.IntegerField(default=0)),
                ('b37', models.IntegerField(default=0)),
                ('b38', models.IntegerField(default=0)),
                ('b39', models.IntegerField(default=0)),
                ('b40', models.IntegerField(default=0)),
                ('b41', models.IntegerField(default=0)),
                ('b42', models.IntegerField(default=0)),
                ('b43', models.IntegerField(default=0)),
                ('b44', models.IntegerField(default=0)),
                ('b45', models.IntegerField(default=0)),
                ('b46', models.IntegerField(default=0)),
                ('b47', models.IntegerField(default=0)),
                ('b48', models.IntegerField(default=0)),
                ('b49', models.IntegerField(default=0)),
                ('b50', models.IntegerField(default=0)),
                ('b51', models.IntegerField(default=0)),
                ('b52', models.IntegerField(default=0)),
                ('b53', models.IntegerField(default=0)),
                ('b54', models.IntegerField(default=0)),
                ('b55', models.IntegerField(default=0)),
                ('b56', models.IntegerField(default=0)),
                ('b57', models.IntegerField(default=0)),
                ('b58', models.IntegerField(default=0)),
                ('b59', models.IntegerField(default=0)),
                ('category', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='service.category')),
            ],
            options={
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('month', 'category', 'channel', 'team', 'priority', 'measure'), name='servicemonthtimetally_key')],
            },
        ),
        migrations.RunPython(fill_months, migrations.RunPython.noop, elidable=True),
    ]
