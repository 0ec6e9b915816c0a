"""PollLease and UpstreamCall, moved here from the studio app with their tables (studio_polllease,
studio_upstreamcall), which keep their names and rows; their content types follow, keeping their ids."""

import django.utils.timezone
from django.db import migrations, models


MOVED = ["polllease", "upstreamcall"]


def relabel(apps, schema_editor, old, new):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    # A type made under the new label meanwhile (none is, but a half-run upgrade might have) gives way.
    content_type.objects.using(db).filter(app_label=new, model__in=MOVED).delete()
    content_type.objects.using(db).filter(app_label=old, model__in=MOVED).update(app_label=new)


def move_content_types(apps, schema_editor):
    relabel(apps, schema_editor, "studio", "pipeline")


def move_content_types_back(apps, schema_editor):
    relabel(apps, schema_editor, "pipeline", "studio")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        # The tables were made by the studio app's migrations.
        ("studio", "0014_move_to_pipeline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are (db_table in the models): only Django's idea of their app changes.
            state_operations=[
                migrations.CreateModel(
                    name='PollLease',
                    fields=[
                        ('provider', models.CharField(max_length=20, primary_key=True, serialize=False)),
                        ('holder', models.CharField(blank=True, max_length=64)),
                        ('expires_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('last_poll_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error', models.TextField(blank=True)),
                    ],
                    options={
                        'db_table': 'studio_polllease',
                    },
                ),
                migrations.CreateModel(
                    name='UpstreamCall',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('provider', models.CharField(max_length=20)),
                        ('simulated', models.BooleanField(default=False)),
                        ('kind', models.CharField(choices=[('submit', 'Submit'), ('status', 'Status read'), ('retrieve', 'Single read'), ('download', 'Download')], max_length=10)),
                        ('http_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('error_code', models.CharField(blank=True, max_length=60)),
                        ('ok', models.BooleanField(default=True)),
                        ('rate_limited', models.BooleanField(default=False)),
                        ('duration_ms', models.PositiveIntegerField(default=0)),
                        ('jobs', models.PositiveIntegerField(default=1)),
                        ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'studio_upstreamcall',
                        'ordering': ['-at', '-id'],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=False),
    ]
