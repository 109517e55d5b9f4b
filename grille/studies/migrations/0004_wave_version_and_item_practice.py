# Earlier waves become framework versions (issue 11): room for the new links, filled by 0005.

import django.db.models.deletion
from django.db import migrations, models

from grille.core.migration_parking import keep_data


class Migration(migrations.Migration):

    dependencies = [
        ("frameworks", "0003_practice_code_60"),
        ("studies", "0003_campaign_lead_microdatadownload"),
    ]

    operations = [
        migrations.AddField(
            model_name="previouswave",
            name="version",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="frameworks.frameworkversion"
            ),
        ),
        migrations.AddField(
            model_name="waveitem",
            name="practice",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="frameworks.practice"
            ),
        ),
        # Dropped here rather than with the codes in 0006, so that going back restores every
        # code (0005 backwards) before the constraint comes back.
        migrations.RemoveConstraint(model_name="waveitem", name="unique_wave_item"),
        migrations.AlterField(
            model_name="waveitem",
            name="code",
            field=models.CharField(blank=True, default="", max_length=60),
        ),
        # Going back parks these rows and values; coming forward puts them back (grille/core/migration_parking.py).
        keep_data('studies', (), {'previouswave': ['version'], 'waveitem': ['practice']}),
    ]
