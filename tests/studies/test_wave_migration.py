"""The migration that makes earlier waves framework versions (studies 0004–0006), run forth and
back on waves of the old form: counts, items and tables come through with the same values."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from grille.frameworks.models import Crosswalk, CrosswalkEntry, Framework, FrameworkVersion
from grille.frameworks.selectors import get_grid
from grille.studies.comparison import compare_waves
from grille.studies.models import Campaign, PreviousWave, WaveItem

BEFORE = ("studies", "0003_campaign_lead_microdatadownload")
AFTER = ("studies", "0006_remove_crosswalklink_and_item_codes")


def migrate(target: tuple[str, str]):
    """Migrate studies to ``target`` and return the models as they stand there."""
    call_command("migrate", *target, verbosity=0, stdout=io.StringIO())
    return MigrationExecutor(connection).loader.project_state(target).apps


def old_wave(apps, campaign_pk: int, grid, *, name: str = "Étude 2018") -> int:
    """A wave as the old code imported it: items with codes and labels, links to practices."""
    wave = apps.get_model("studies", "PreviousWave").objects.create(
        campaign_id=campaign_pk, name=name, year=2018, source_format="aggregates", respondents=None
    )
    WaveItem = apps.get_model("studies", "WaveItem")
    q1 = WaveItem.objects.create(wave=wave, code="Q1", label="Financer des projets", counts={"0": 12, "1": 30, "2": 41, "3": 17})
    q2 = WaveItem.objects.create(wave=wave, code="Q2", label="", counts={"0": 5, "3": 5})
    WaveItem.objects.create(wave=wave, code="Q9", label="Item disparu", counts={"1": 50})
    CrosswalkLink = apps.get_model("studies", "CrosswalkLink")
    CrosswalkLink.objects.create(wave=wave, item=q1, practice_id=grid.practice("1.1").id, weight=Decimal(1))
    CrosswalkLink.objects.create(wave=wave, item=q2, practice_id=grid.practice("1.1").id, weight=Decimal("0.5"))
    CrosswalkLink.objects.create(wave=wave, item=q2, practice_id=grid.practice("2.1").id, weight=Decimal(1))
    return wave.pk


def old_form(apps) -> list[tuple]:
    links = apps.get_model("studies", "CrosswalkLink").objects.order_by("pk")
    return [
        *apps.get_model("studies", "WaveItem").objects.order_by("pk").values_list("wave_id", "code", "label", "counts"),
        *links.values_list("wave_id", "item__code", "practice_id", "weight"),
    ]


@pytest.mark.django_db(transaction=True)
def test_waves_become_versions_and_tables_crosswalks_and_back(campaign, grid):
    try:
        apps = migrate(BEFORE)
        first = old_wave(apps, campaign.pk, grid)
        twice = old_wave(apps, campaign.pk, grid)  # the same file imported twice
        before = old_form(apps)

        migrate(AFTER)

        wave = PreviousWave.objects.get(pk=first)
        assert wave.version.framework.code == f"vagues-{campaign.uuid.hex}"
        assert [(p.code, p.label) for p in get_grid(wave.version).practices] == [
            ("Q1", "Financer des projets"), ("Q2", ""), ("Q9", "Item disparu"),
        ]
        assert {i.practice.code: i.counts for i in WaveItem.objects.filter(wave=wave).select_related("practice")} == {
            "Q1": {"0": 12, "1": 30, "2": 41, "3": 17}, "Q2": {"0": 5, "3": 5}, "Q9": {"1": 50},
        }
        crosswalk = Crosswalk.objects.get(source=wave.version)
        assert (crosswalk.target_id, crosswalk.name) == (campaign.version_id, "Étude 2018 (2018) → Étude des catalyseurs (2024)")
        assert list(
            CrosswalkEntry.objects.filter(crosswalk=crosswalk).order_by("pk")
            .values_list("source_practice__code", "target_practice__code", "weight")
        ) == [("Q1", "1.1", Decimal(1)), ("Q2", "1.1", Decimal("0.5")), ("Q2", "2.1", Decimal(1))]
        rows, unmapped = compare_waves(Campaign.objects.get(pk=campaign.pk), wave)
        by_code = {row.practice.code: row.items for row in rows if row.items}
        assert by_code == {"1.1": ["Q1", "Q2"], "2.1": ["Q2"]}
        assert [p.code for p in unmapped] == ["Q9"]
        assert PreviousWave.objects.get(pk=twice).version != wave.version
        assert Crosswalk.objects.filter(source=PreviousWave.objects.get(pk=twice).version).count() == 1

        apps = migrate(BEFORE)

        assert old_form(apps) == before
        assert not Framework.objects.filter(code__startswith="vagues-").exists()
        assert (FrameworkVersion.objects.count(), Crosswalk.objects.count()) == (1, 0)  # the 2024 grid alone
    finally:
        call_command("migrate", verbosity=0, stdout=io.StringIO())
