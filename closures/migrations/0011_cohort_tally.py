"""The cohort tally (issue 17: the cohort table), counted from the closures already recorded."""

from django.db import migrations, models


def count_existing_closures(apps, schema_editor):
    from closures.tally import rebuild_cohorts

    rebuild_cohorts(
        using=schema_editor.connection.alias,
        closure_model=apps.get_model("closures", "Closure"),
        tally_model=apps.get_model("closures", "CohortTally"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('closures', '0010_default_categories'),
    ]

    operations = [
        migrations.CreateModel(
            name='CohortTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('cohort', models.IntegerField()),
                ('months', models.IntegerField()),
                ('action', models.CharField(choices=[('close', 'Close card'), ('void', 'Void record'), ('archive', 'Archive'), ('erase', 'Delete')], max_length=10)),
                ('segment', models.CharField(choices=[('potential', 'Potential'), ('regular', 'Regular'), ('key', 'Key account')], max_length=16)),
                ('n', models.IntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('cohort', 'months', 'action', 'segment'), name='cohorttally_key')],
            },
        ),
        migrations.RunPython(count_existing_closures, migrations.RunPython.noop, elidable=False),
    ]
