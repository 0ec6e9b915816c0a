"""The studio app lets go of Team, Membership, Invitation and AuditEntry, now the teams app's (its 0001):
its foreign keys point there, and the content types follow, keeping their ids (and so every permission and
every entry of the admin's history)."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ["team", "membership", "invitation", "auditentry"]


def relabel(apps, schema_editor, old, new):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    # A type made under the new label meanwhile (none is, but a half-run upgrade might have) gives way.
    content_type.objects.using(db).filter(app_label=new, model__in=MOVED).delete()
    content_type.objects.using(db).filter(app_label=old, model__in=MOVED).update(app_label=new)


def move_content_types(apps, schema_editor):
    relabel(apps, schema_editor, "studio", "teams")


def move_content_types_back(apps, schema_editor):
    relabel(apps, schema_editor, "teams", "studio")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ('studio', '0011_audit_trail'),
        ('teams', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are (db_table in the models): only Django's idea of their app changes.
            state_operations=[
                migrations.RemoveField(
                    model_name='invitation',
                    name='accepted_by',
                ),
                migrations.RemoveField(
                    model_name='invitation',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='invitation',
                    name='team',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='team',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='team',
                    name='personal_for',
                ),
                migrations.AlterField(
                    model_name='ledgerentry',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ledger', to='teams.team'),
                ),
                migrations.AlterField(
                    model_name='character',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='characters', to='teams.team'),
                ),
                migrations.AlterField(
                    model_name='quota',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='quotas', to='teams.team'),
                ),
                migrations.AlterField(
                    model_name='priceoverride',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='price_overrides', to='teams.team'),
                ),
                migrations.AlterField(
                    model_name='notification',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='teams.team'),
                ),
                migrations.AlterField(
                    model_name='generation',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='generations', to='teams.team'),
                ),
                migrations.DeleteModel(
                    name='AuditEntry',
                ),
                migrations.DeleteModel(
                    name='Invitation',
                ),
                migrations.DeleteModel(
                    name='Membership',
                ),
                migrations.DeleteModel(
                    name='Team',
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=False),
    ]
