"""PriceOverride, Quota, LedgerEntry and ProviderPause, moved here from the studio app with their tables
(studio_priceoverride, studio_quota, studio_ledgerentry, studio_providerpause), which keep their names and
rows; their content types follow, keeping their ids (and so every permission and admin history entry)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MOVED = ["priceoverride", "quota", "ledgerentry", "providerpause"]


def relabel(apps, schema_editor, old, new):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    # A type made under the new label meanwhile (none is, but a half-run upgrade might have) gives way.
    content_type.objects.using(db).filter(app_label=new, model__in=MOVED).delete()
    content_type.objects.using(db).filter(app_label=old, model__in=MOVED).update(app_label=new)


def move_content_types(apps, schema_editor):
    relabel(apps, schema_editor, "studio", "billing")


def move_content_types_back(apps, schema_editor):
    relabel(apps, schema_editor, "billing", "studio")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ('studio', '0013_move_to_billing'),
        ('teams', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are (db_table in the models): only Django's idea of their app changes.
            state_operations=[
                migrations.CreateModel(
                    name='LedgerEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('reserve', 'Reserved'), ('charge', 'Charged'), ('release', 'Released'), ('grant', 'Granted')], max_length=10)),
                        ('credits', models.PositiveIntegerField()),
                        ('provider', models.CharField(blank=True, max_length=20)),
                        ('model', models.CharField(blank=True, max_length=40)),
                        ('counts_on', models.DateField()),
                        ('reason', models.CharField(blank=True, max_length=300)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('generation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='ledger', to='studio.generation')),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ledger', to='teams.team')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name_plural': 'ledger entries',
                        'db_table': 'studio_ledgerentry',
                        'ordering': ['created_at', 'id'],
                        'indexes': [models.Index(fields=['team', 'counts_on'], name='ledger_team_day'), models.Index(fields=['team', 'user', 'counts_on'], name='ledger_member_day')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('kind', 'reserve')), fields=('generation',), name='one_reservation_per_job'), models.UniqueConstraint(condition=models.Q(('kind__in', ['charge', 'release'])), fields=('generation',), name='one_outcome_per_job')],
                    },
                ),
                migrations.CreateModel(
                    name='PriceOverride',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('provider', models.CharField(max_length=20)),
                        ('version', models.CharField(blank=True, max_length=10)),
                        ('model', models.CharField(max_length=40)),
                        ('size', models.CharField(blank=True, max_length=20)),
                        ('quality', models.CharField(blank=True, max_length=10)),
                        ('duration', models.PositiveSmallIntegerField()),
                        ('credits', models.PositiveIntegerField()),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='price_overrides', to='teams.team')),
                        ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'studio_priceoverride',
                        'constraints': [models.UniqueConstraint(fields=('team', 'provider', 'version', 'model', 'size', 'quality', 'duration'), name='one_price_per_combination')],
                    },
                ),
                migrations.CreateModel(
                    name='ProviderPause',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('provider', models.CharField(max_length=20)),
                        ('reason', models.TextField(blank=True)),
                        ('paused_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('resumed_at', models.DateTimeField(blank=True, null=True)),
                        ('paused_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('resumed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'studio_providerpause',
                        'ordering': ['-paused_at'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('resumed_at__isnull', True)), fields=('provider',), name='one_open_pause_per_provider')],
                    },
                ),
                migrations.CreateModel(
                    name='Quota',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.CharField(choices=[('daily', 'Daily'), ('monthly', 'Monthly')], max_length=10)),
                        ('hard_cap', models.PositiveIntegerField(help_text='Credits: a submit that would go past it is refused.')),
                        ('soft_limit', models.PositiveIntegerField(blank=True, help_text='Credits: going past it shows a warning and tells the admins.', null=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='quotas', to='teams.team')),
                        ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='quotas', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'studio_quota',
                        'constraints': [models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('team', 'user', 'period'), name='one_member_quota_per_period'), models.UniqueConstraint(condition=models.Q(('user__isnull', True)), fields=('team', 'period'), name='one_team_quota_per_period'), models.CheckConstraint(condition=models.Q(('soft_limit__isnull', True), ('soft_limit__lte', models.F('hard_cap')), _connector='OR'), name='soft_limit_within_cap')],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=False),
    ]
