"""The studio app lets go of PriceOverride, Quota, LedgerEntry and ProviderPause, now the billing app's (its
0001, which also moves their content types, keeping their ids)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('studio', '0012_move_to_teams'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are (db_table in the models): only Django's idea of their app changes.
            state_operations=[
                migrations.RemoveField(
                    model_name='priceoverride',
                    name='team',
                ),
                migrations.RemoveField(
                    model_name='priceoverride',
                    name='updated_by',
                ),
                migrations.RemoveField(
                    model_name='providerpause',
                    name='paused_by',
                ),
                migrations.RemoveField(
                    model_name='providerpause',
                    name='resumed_by',
                ),
                migrations.RemoveField(
                    model_name='quota',
                    name='team',
                ),
                migrations.RemoveField(
                    model_name='quota',
                    name='updated_by',
                ),
                migrations.RemoveField(
                    model_name='quota',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='LedgerEntry',
                ),
                migrations.DeleteModel(
                    name='PriceOverride',
                ),
                migrations.DeleteModel(
                    name='ProviderPause',
                ),
                migrations.DeleteModel(
                    name='Quota',
                ),
            ],
        ),
    ]
