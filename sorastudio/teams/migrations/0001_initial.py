"""Team, Membership, Invitation and AuditEntry, moved here from the studio app with their tables
(studio_team, studio_membership, studio_invitation, studio_auditentry), which keep their names and rows."""

import django.db.models.deletion
import django.utils.timezone
import sorastudio.teams.models
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # The tables were made by the studio app's migrations, up to its audit trail.
        ("studio", "0011_audit_trail"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are (db_table in the models): only Django's idea of their app changes.
            state_operations=[
                migrations.CreateModel(
                    name='Team',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('name', models.CharField(max_length=100, unique=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('trash_days', models.PositiveSmallIntegerField(default=30)),
                        ('personal_for', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='personal_team', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'studio_team',
                    },
                ),
                migrations.CreateModel(
                    name='Invitation',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('role', models.CharField(choices=[('creator', 'Creator'), ('reviewer', 'Reviewer'), ('admin', 'Admin')], default='creator', max_length=10)),
                        ('token', models.CharField(default=sorastudio.teams.models._invitation_token, editable=False, max_length=64, unique=True)),
                        ('note', models.CharField(blank=True, max_length=200)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('expires_at', models.DateTimeField(default=sorastudio.teams.models._invitation_expiry)),
                        ('accepted_at', models.DateTimeField(blank=True, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('accepted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='invitations', to='teams.team')),
                    ],
                    options={
                        'db_table': 'studio_invitation',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('role', models.CharField(choices=[('creator', 'Creator'), ('reviewer', 'Reviewer'), ('admin', 'Admin')], default='creator', max_length=10)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='teams.team')),
                    ],
                    options={
                        'db_table': 'studio_membership',
                        'constraints': [models.UniqueConstraint(fields=('team', 'user'), name='one_membership_per_team')],
                    },
                ),
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('actor_name', models.CharField(blank=True, max_length=150)),
                        ('kind', models.CharField(choices=[('role_changed', 'Role changed'), ('member_removed', 'Member removed'), ('account_deactivated', 'Account deactivated'), ('account_created', 'Account made'), ('invitation_made', 'Invitation made'), ('invitation_revoked', 'Invitation revoked'), ('settings_changed', 'Team settings changed'), ('price_changed', 'Price changed'), ('limit_set', 'Limit set'), ('limit_removed', 'Limit removed'), ('credit_granted', 'Credit granted'), ('service_paused', 'Video service paused'), ('service_resumed', 'Video service resumed')], max_length=30)),
                        ('subject_name', models.CharField(blank=True, max_length=150)),
                        ('details', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('subject', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='audit_entries', to='teams.team')),
                    ],
                    options={
                        'verbose_name_plural': 'audit entries',
                        'db_table': 'studio_auditentry',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['team', '-created_at'], name='audit_by_team')],
                    },
                ),
            ],
        ),
    ]
