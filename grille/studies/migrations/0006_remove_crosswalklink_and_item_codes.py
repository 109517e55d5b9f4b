# Earlier waves are framework versions (issue 11): their items' codes and labels are the
# practices', their correspondence tables the frameworks' crosswalks (moved there by 0005).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("frameworks", "0003_practice_code_60"),
        ("studies", "0005_waves_as_framework_versions"),
    ]

    operations = [
        migrations.DeleteModel(name="CrosswalkLink"),
        migrations.RemoveField(model_name="waveitem", name="code"),
        migrations.RemoveField(model_name="waveitem", name="label"),
        migrations.AlterField(
            model_name="previouswave",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="frameworks.frameworkversion"
            ),
        ),
        migrations.AlterField(
            model_name="waveitem",
            name="practice",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="frameworks.practice"),
        ),
        migrations.AddConstraint(
            model_name="waveitem",
            constraint=models.UniqueConstraint(fields=("wave", "practice"), name="unique_wave_practice"),
        ),
    ]
