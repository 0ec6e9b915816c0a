"""The studio app lets go of PollLease and UpstreamCall, now the pipeline app's (its 0001, which also moves
their content types, keeping their ids)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('studio', '0013_move_to_billing'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are (db_table in the models): only Django's idea of their app changes.
            state_operations=[
                migrations.DeleteModel(
                    name='PollLease',
                ),
                migrations.DeleteModel(
                    name='UpstreamCall',
                ),
            ],
        ),
    ]
