"""Monthly rows of the service summary (service/tally.py), filled from the day rows already there."""

import django.db.models.deletion
from django.db import migrations, models

COUNTS = (
    "opened, backlog, resolved, cancelled, was_resolved, reopened, "
    "fr_met, fr_missed, res_met, res_missed, sla_met, sla_missed"
)
DIMENSIONS = "category_id, channel, team, priority"


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
    schema_editor.execute(
        f"INSERT INTO service_servicemonthtimetally (month, {DIMENSIONS}, measure, bucket, n) "
        f"SELECT {month}, {DIMENSIONS}, measure, bucket, SUM(n) FROM service_servicetimetally "
        f"GROUP BY {month}, {DIMENSIONS}, measure, bucket"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0004_summary"),
    ]

    operations = [
        migrations.CreateModel(
            name="ServiceMonthTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("phone", "Phone"),
                            ("email", "E-mail"),
                            ("wechat", "WeChat"),
                            ("store", "In store"),
                            ("web", "Web form"),
                        ],
                        max_length=10,
                    ),
                ),
                ("team", models.IntegerField(default=0)),
                (
                    "priority",
                    models.CharField(
                        choices=[("low", "Low"), ("normal", "Normal"), ("high", "High"), ("urgent", "Urgent")],
                        max_length=10,
                    ),
                ),
                ("opened", models.IntegerField(default=0)),
                ("backlog", models.IntegerField(default=0)),
                ("resolved", models.IntegerField(default=0)),
                ("cancelled", models.IntegerField(default=0)),
                ("was_resolved", models.IntegerField(default=0)),
                ("reopened", models.IntegerField(default=0)),
                ("fr_met", models.IntegerField(default=0)),
                ("fr_missed", models.IntegerField(default=0)),
                ("res_met", models.IntegerField(default=0)),
                ("res_missed", models.IntegerField(default=0)),
                ("sla_met", models.IntegerField(default=0)),
                ("sla_missed", models.IntegerField(default=0)),
                ("month", models.DateField()),
                (
                    "category",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="service.category",
                    ),
                ),
            ],
            options={
                "default_permissions": (),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "category", "channel", "team", "priority"), name="servicemonthtally_key"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ServiceMonthTimeTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("phone", "Phone"),
                            ("email", "E-mail"),
                            ("wechat", "WeChat"),
                            ("store", "In store"),
                            ("web", "Web form"),
                        ],
                        max_length=10,
                    ),
                ),
                ("team", models.IntegerField(default=0)),
                (
                    "priority",
                    models.CharField(
                        choices=[("low", "Low"), ("normal", "Normal"), ("high", "High"), ("urgent", "Urgent")],
                        max_length=10,
                    ),
                ),
                ("measure", models.CharField(choices=[("fr", "First response"), ("res", "Resolution")], max_length=3)),
                ("bucket", models.SmallIntegerField()),
                ("n", models.IntegerField(default=0)),
                ("month", models.DateField()),
                (
                    "category",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="service.category",
                    ),
                ),
            ],
            options={
                "default_permissions": (),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "category", "channel", "team", "priority", "measure", "bucket"),
                        name="servicemonthtimetally_key",
                    )
                ],
            },
        ),
        migrations.RunPython(fill_months, migrations.RunPython.noop, elidable=True),
    ]
