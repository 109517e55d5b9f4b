from django.db import migrations
from django.db.models import Exists, OuterRef


def record_existing_study_consents(apps, schema_editor):
    # Consents given before the records existed get theirs, from the respondent that proves them
    # (once: applied again after a refused reversal, it adds nothing).
    ConsentRecord = apps.get_model("assessments", "ConsentRecord")
    proven = ConsentRecord.objects.filter(kind="etude", assessment_id=OuterRef("assessment_id"))
    respondents = (
        apps.get_model("studies", "Respondent").objects.filter(~Exists(proven))
        .select_related("campaign", "consent", "assessment")
    )
    ConsentRecord.objects.bulk_create(
        (
            ConsentRecord(
                kind="etude", assessment_id=r.assessment_id, user_id=r.assessment.owner_id, pseudonym=r.pseudonym,
                scope=str(r.campaign.uuid), text_version=str(r.consent.version), given_at=r.consented_at,
            )
            for r in respondents.iterator()
        ),
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("studies", "0007_alter_campaign_name"),
        ("assessments", "0006_consentrecord"),
    ]

    operations = [
        migrations.RunPython(record_existing_study_consents, migrations.RunPython.noop),
    ]
