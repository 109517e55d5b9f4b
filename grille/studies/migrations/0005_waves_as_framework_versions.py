# Earlier waves become framework versions (issue 11). Each wave's items become the practices of
# a draft version of its campaign's own framework (one axis, one situation, no dimensions), as
# grille.studies.services.import_previous_wave now loads them; its correspondence table becomes a
# frameworks crosswalk from that version to the campaign's. Written against the models as they
# stand at this point, so that it keeps working whatever the services become.

import hashlib
import json

from django.db import migrations

CROSSWALK_NAME_MAX = 200


def _content_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _framework_data(wave, items):
    """As grille.studies.services._wave_framework_data, so that importing the same wave again finds this version."""
    practices = [{"code": item.code, "label": item.label} for item in items]
    data = {
        "framework": {"code": f"vagues-{wave.campaign.uuid.hex}", "name": wave.campaign.name, "publisher": ""},
        "version": {
            "code": "",
            "title": f"{wave.name} ({wave.year})",
            "source": "",
            "source_date": None,
            "status": "draft",
        },
        "dimensions": [],
        "axes": [
            {
                "code": "1",
                "label": wave.name,
                "description": "",
                "situations": [{"code": "1", "label": wave.name, "description": "", "practices": practices}],
            }
        ],
    }
    data["version"]["code"] = f"{wave.year}-{_content_hash(data)[:12]}"
    return data


def waves_to_versions(apps, schema_editor):
    PreviousWave = apps.get_model("studies", "PreviousWave")
    WaveItem = apps.get_model("studies", "WaveItem")
    CrosswalkLink = apps.get_model("studies", "CrosswalkLink")
    Framework = apps.get_model("frameworks", "Framework")
    FrameworkVersion = apps.get_model("frameworks", "FrameworkVersion")
    Axis = apps.get_model("frameworks", "Axis")
    Situation = apps.get_model("frameworks", "Situation")
    Practice = apps.get_model("frameworks", "Practice")
    Crosswalk = apps.get_model("frameworks", "Crosswalk")
    CrosswalkEntry = apps.get_model("frameworks", "CrosswalkEntry")

    for wave in PreviousWave.objects.select_related("campaign").order_by("pk"):
        items = list(WaveItem.objects.filter(wave=wave).order_by("pk"))
        data = _framework_data(wave, items)
        framework, _created = Framework.objects.get_or_create(
            code=data["framework"]["code"], defaults={"name": data["framework"]["name"], "publisher": ""}
        )
        code = data["version"]["code"]
        if FrameworkVersion.objects.filter(framework=framework, code=code).exists():
            # The same file imported twice: each wave keeps a version, and so its own table.
            code = f"{code}-{wave.pk}"
        version = FrameworkVersion.objects.create(
            framework=framework, code=code, title=data["version"]["title"], status="draft",
            content_hash=_content_hash(data),
        )
        axis = Axis.objects.create(version=version, code="1", label=wave.name, position=0)
        situation = Situation.objects.create(version=version, axis=axis, code="1", label=wave.name, position=0)
        Practice.objects.bulk_create(
            Practice(version=version, situation=situation, code=item.code, label=item.label, position=position)
            for position, item in enumerate(items)
        )
        practices = dict(Practice.objects.filter(version=version).values_list("code", "pk"))
        for item in items:
            item.practice_id = practices[item.code]
        WaveItem.objects.bulk_update(items, ["practice"])
        wave.version = version
        wave.save(update_fields=["version"])

        links = list(CrosswalkLink.objects.filter(wave=wave).select_related("item").order_by("pk"))
        if links:
            campaign = wave.campaign
            name = f"{wave.name} ({wave.year}) → {campaign.name} ({campaign.wave_year})"
            crosswalk = Crosswalk.objects.create(
                source=version, target_id=campaign.version_id, name=name[:CROSSWALK_NAME_MAX]
            )
            CrosswalkEntry.objects.bulk_create(
                CrosswalkEntry(
                    crosswalk=crosswalk,
                    source_practice_id=practices[link.item.code],
                    target_practice_id=link.practice_id,
                    weight=link.weight,
                )
                for link in links
            )


def _delete(schema_editor, model, column, ids):
    # Plain SQL: the ORM's deletion would follow every relation to the versions, through models
    # of other apps that the state of a backward migration may hold in an older form.
    if ids:
        placeholders = ", ".join(["%s"] * len(ids))
        table, column = schema_editor.quote_name(model._meta.db_table), schema_editor.quote_name(column)
        schema_editor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders})", sorted(ids))


def versions_to_waves(apps, schema_editor):
    PreviousWave = apps.get_model("studies", "PreviousWave")
    WaveItem = apps.get_model("studies", "WaveItem")
    CrosswalkLink = apps.get_model("studies", "CrosswalkLink")
    Framework = apps.get_model("frameworks", "Framework")
    FrameworkVersion = apps.get_model("frameworks", "FrameworkVersion")
    Crosswalk = apps.get_model("frameworks", "Crosswalk")
    CrosswalkEntry = apps.get_model("frameworks", "CrosswalkEntry")

    version_ids = set()
    for wave in PreviousWave.objects.select_related("campaign").exclude(version=None).order_by("pk"):
        version_ids.add(wave.version_id)
        items = list(WaveItem.objects.filter(wave=wave).select_related("practice"))
        for item in items:
            item.code, item.label = item.practice.code, item.practice.label
        WaveItem.objects.bulk_update(items, ["code", "label"])
        by_practice = {item.practice_id: item for item in items}
        entries = CrosswalkEntry.objects.filter(
            crosswalk__source_id=wave.version_id, crosswalk__target_id=wave.campaign.version_id
        ).order_by("pk")
        CrosswalkLink.objects.bulk_create(
            CrosswalkLink(wave=wave, item=by_practice[entry.source_practice_id], practice_id=entry.target_practice_id, weight=entry.weight)
            for entry in entries
        )
    framework_ids = set(FrameworkVersion.objects.filter(pk__in=version_ids).values_list("framework_id", flat=True))
    PreviousWave.objects.update(version=None)
    WaveItem.objects.update(practice=None)
    Crosswalk.objects.filter(source_id__in=version_ids).delete()
    for name in ("Practice", "Situation", "Axis"):
        _delete(schema_editor, apps.get_model("frameworks", name), "version_id", version_ids)
    _delete(schema_editor, FrameworkVersion, "id", version_ids)
    unused = set(Framework.objects.filter(pk__in=framework_ids, versions=None).values_list("pk", flat=True))
    _delete(schema_editor, Framework, "id", unused)


class Migration(migrations.Migration):

    dependencies = [
        ("frameworks", "0003_practice_code_60"),
        ("studies", "0004_wave_version_and_item_practice"),
    ]

    operations = [
        migrations.RunPython(waves_to_versions, versions_to_waves),
    ]
