from django.db import migrations, models

from grille.core.migration_parking import keep_data


class Migration(migrations.Migration):

    dependencies = [
        ("organisations", "0004_workshop_session"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="reminded_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        # Going back parks these rows and values; coming forward puts them back (grille/core/migration_parking.py).
        keep_data('organisations', (), {'membership': ['reminded_at']}),
    ]
