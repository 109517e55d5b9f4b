"""The grid in English as a translation held in the framework data, with the French original at
hand; a help per practice (Grille's own proposal, and said so); resources matched practice by
practice (issue 15, parts 1, 4 and 7)."""

from __future__ import annotations

import copy
import io
import re
from collections import Counter

import pytest
import yaml
from django.core.management import call_command
from django.utils import translation

from grille.frameworks.models import FrameworkVersion, Practice, Resource
from grille.frameworks.resources import load_resources_file, resources_by_practice
from grille.frameworks.schema import FrameworkFileError
from grille.frameworks.selectors import get_grid
from grille.frameworks.services import (
    DATA_DIR,
    content_hash,
    export_framework_version,
    load_framework_file,
    load_framework_version,
    read_framework_file,
    validate_framework_data,
)
from tests.factories import (
    answer,
    assessment_url,
    small_framework_data,
    start_positioning,
    write_framework_file,
)

GRID_FILE = DATA_DIR / "grille-2024.yaml"
RESOURCE_FILE = DATA_DIR / "resources-pratiques-ingenierie-territoriale.yaml"
# The hash of the 2024 grid as databases hold it since it was first loaded: translations and
# guides must not change it, or reloading the file on a production database would be refused.
HASH_2024 = "71b6d8445da09dae132dd8e43647bbb537c25005674826b994e72c280a498edf"
NOTE_FR = "Proposition de Grille, pas du texte original de la grille"
NOTE_EN = "Grille's own proposal, not text from the original grid"
# No resource comes back under more practices than this.
MAX_PRACTICES_PER_RESOURCE = 5


def shipped() -> dict:
    return yaml.safe_load(GRID_FILE.read_text(encoding="utf-8"))


def refused(data: dict) -> str:
    with pytest.raises(FrameworkFileError) as excinfo:
        validate_framework_data(data)
    return str(excinfo.value)


def translated_small() -> dict:
    """The small test framework with an English translation of every text."""
    data = small_framework_data()
    data["framework"]["translations"] = {"en": {"name": "Small grid"}}
    data["version"]["translations"] = {"en": {"title": "Small test grid", "source": "Test source"}}
    for dim in data["dimensions"]:
        dim["translations"] = {"en": {"label": "EN " + dim["label"]} | ({"help": "EN help"} if dim.get("help") else {})}
        for option in dim["options"]:
            option["translations"] = {"en": {"label": "EN " + option["label"]}}
    for axis in data["axes"]:
        axis["translations"] = {"en": {"label": "EN " + axis["label"]} | ({"description": "EN"} if axis.get("description") else {})}
        for situation in axis["situations"]:
            situation["translations"] = {
                "en": {"label": "EN " + situation["label"]} | ({"description": "EN"} if situation.get("description") else {})
            }
            for practice in situation["practices"]:
                practice["translations"] = {"en": {"label": "EN " + practice["label"]}}
    return data


# --- The shipped grid --------------------------------------------------------------------------


def test_every_label_option_and_question_of_the_2024_grid_has_its_english_translation(version):
    english, french = get_grid(version, "en"), get_grid(version, "fr")

    def texts(grid):
        yield grid.title, grid.framework_name, grid.source
        for dim in grid.dimensions.values():
            yield dim.label, dim.help_text, *(o.label for o in dim.options)
        for axis in grid.axes:
            yield axis.label, axis.description
            for situation in axis.situations:
                yield situation.label, situation.description, *(p.label for p in situation.practices)

    pairs = [(en, fr) for en_row, fr_row in zip(texts(english), texts(french), strict=True) for en, fr in zip(en_row, fr_row, strict=True)]
    assert len(pairs) == 3 + 3 * 2 + 12 + 3 * 2 + 8 * 2 + 24
    untranslated = [fr for en, fr in pairs if fr and en == fr]
    assert untranslated == []
    assert english.translated and not french.translated
    assert english.level.label == "Practice level"
    assert english.level.help_text == "Where do you stand today in this practice?"
    assert [o.label for o in english.level.options] == [
        "I do not practise it", "Occasionally", "Regularly", "It is the core of my work", "Not applicable",
    ]
    assert [o.label for o in english.carrying.options][:2] == ["In-house", "In partnership with other local actors"]


def test_the_english_grid_keeps_the_french_original_of_every_object(version):
    english = get_grid(version, "en")

    practice = english.practice("8.1")
    assert (practice.label, practice.original_label) == ("Facilitating political momentum", "Faciliter l'impulsion politique")
    assert (practice.language, practice.original_language) == ("en", "fr")
    assert english.situation("2").original_full_label == "Contractualiser (De la négociation à l'évaluation)"
    assert english.axes[0].original == "Expertises de Gestion"
    assert english.level.original == "Niveau de pratique"
    assert english.level.original_help_text == "Où en êtes-vous aujourd'hui dans cette pratique ?"
    assert english.level.option_by_code("1").original == "Ponctuellement"
    assert english.original_title == "Grille de qualification des pratiques d'ingénierie territoriale"
    # Read in French, nothing is a translation and the original is the label itself.
    assert get_grid(version, "fr").practice("8.1").original_label == ""
    assert get_grid(version, "fr").practice("8.1").original == "Faciliter l'impulsion politique"


def test_every_practice_has_a_guide_for_each_level_in_both_languages_said_to_be_grilles_proposal(version):
    for language, note, first_level in (("fr", NOTE_FR, "Ponctuellement"), ("en", NOTE_EN, "Occasionally")):
        grid = get_grid(version, language)
        assert len(grid.practices) == 24
        for practice in grid.practices:
            guide = practice.guide
            assert guide is not None, practice.code
            assert len(guide.summary) > 60, practice.code
            assert [level.code for level in guide.levels] == ["1", "2", "3"], practice.code
            assert guide.levels[0].label == first_level
            assert all(len(level.text) > 30 for level in guide.levels), practice.code
            assert guide.note.startswith(note)
    # The two languages say different things only in their words: no French left in the English guides.
    english = get_grid(version, "en")
    assert not [p.code for p in english.practices if re.search(r"\b(vous|les|des|une)\b", p.guide.summary)]


def test_guides_and_translations_leave_the_content_hash_of_the_2024_grid_unchanged(version):
    assert version.content_hash == HASH_2024
    assert content_hash(read_framework_file(GRID_FILE)) == HASH_2024


# --- Loading, reloading, exporting ------------------------------------------------------------


def test_a_published_version_takes_a_corrected_translation_without_becoming_another_version(version, tmp_path):
    assert get_grid(version, "en").practice("1.1").label == "Funding projects"
    data = shipped()
    data["axes"][0]["situations"][0]["practices"][0]["translations"]["en"]["label"] = "Financing projects"
    data["axes"][0]["situations"][0]["practices"][0]["guide"]["levels"]["1"] = "une autre lecture."

    result = load_framework_file(path=write_framework_file(tmp_path / "g.yaml", data))
    again = load_framework_file(path=write_framework_file(tmp_path / "g.yaml", data))

    assert (result.created, result.annotated, result.version.pk) == (False, True, version.pk)
    assert (again.created, again.annotated) == (False, False)
    assert FrameworkVersion.objects.count() == 1
    # The grid cache is cleared: the next read shows the correction.
    assert get_grid(version, "en").practice("1.1").label == "Financing projects"
    assert get_grid(version, "fr").practice("1.1").guide.levels[0].text == "une autre lecture."


def test_a_published_version_still_refuses_a_changed_original_label(version, tmp_path):
    data = shipped()
    data["axes"][0]["situations"][0]["practices"][0]["label"] = "Financer des projets"

    with pytest.raises(FrameworkFileError, match="est publiée"):
        load_framework_file(path=write_framework_file(tmp_path / "g.yaml", data))

    assert Practice.objects.get(code="1.1").label == "Financer les projets"


def test_export_round_trips_translations_and_guides_into_an_empty_database(version, tmp_path):
    exported = export_framework_version(version)
    practice = exported["axes"][2]["situations"][1]["practices"][0]
    assert practice["code"] == "8.1"
    assert practice["guide"]["levels"]["1"].startswith("vous préparez")
    assert practice["translations"]["en"]["label"] == "Facilitating political momentum"
    assert exported["version"]["guide_note"].startswith(NOTE_FR)
    assert exported["dimensions"][0]["options"][1]["translations"] == {"en": {"label": "Occasionally"}}
    before = get_grid(version, "en")

    out = io.StringIO()
    call_command("export_framework", "pratiques-ingenierie-territoriale", "2024", stdout=out)
    path = tmp_path / "export.yaml"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert validate_framework_data(yaml.safe_load(out.getvalue())) == read_framework_file(GRID_FILE)
    FrameworkVersion.objects.all().delete()
    reloaded = load_framework_file(path=path).version

    after = get_grid(reloaded, "en")
    assert reloaded.content_hash == HASH_2024
    assert [(p.code, p.label, p.original_label, p.guide.summary) for p in after.practices] == [
        (p.code, p.label, p.original_label, p.guide.summary) for p in before.practices
    ]


# --- The grid cache -----------------------------------------------------------------------------


def test_the_grid_follows_the_active_language_with_one_cached_grid_per_language(version, django_assert_num_queries):
    with translation.override("en"):
        english = get_grid(version)
    with translation.override("fr"):
        french = get_grid(version)
    with django_assert_num_queries(0), translation.override("en-gb"):
        assert get_grid(version) is english
    with django_assert_num_queries(0):
        assert get_grid(version.pk, "fr") is french

    assert english.practice("4.3").label == "Listening to the actors of my territory"
    assert french.practice("4.3").label == "Ecouter les acteurs de mon territoire"


def test_a_language_the_version_lacks_shows_the_original_and_says_it_is_not_a_translation(version):
    german = get_grid(version, "de")

    assert german.practice("1.1").label == "Financer les projets"
    assert (german.translated, german.language, german.practice("1.1").translated) == (False, "fr", False)


# --- Validation of translations and guides ------------------------------------------------------


def test_a_complete_translation_is_accepted_and_an_absent_one_too(db):
    version = load_framework_version(data=validate_framework_data(translated_small())).version

    assert get_grid(version, "en").practices[0].label.startswith("EN ")
    assert validate_framework_data(small_framework_data())["version"]["translations"] == {}


def _missing_practice_translation(data):
    del data["axes"][0]["situations"][1]["practices"][0]["translations"]


def _missing_option_translation(data):
    del data["dimensions"][1]["options"][0]["translations"]


def _missing_description(data):
    data["axes"][0]["situations"][1]["description"] = "Une précision"


def _translation_into_the_original_language(data):
    data["axes"][0]["translations"]["fr"] = {"label": "Axe"}


def _bad_language_code(data):
    data["axes"][0]["translations"]["EN"] = data["axes"][0]["translations"].pop("en")


def _guide_without_note(data):
    data["axes"][0]["situations"][0]["practices"][0]["guide"] = {"summary": "Ce que recouvre la pratique.", "levels": {"parfois": "un peu"}}
    data["axes"][0]["situations"][0]["practices"][0]["translations"]["en"]["guide"] = {"summary": "What.", "levels": {"parfois": "a bit"}}


def _guide_on_an_unknown_level(data):
    _guide_without_note(data)
    data["version"]["guide_note"] = "Proposition"
    data["version"]["translations"]["en"]["guide_note"] = "Proposal"
    data["axes"][0]["situations"][0]["practices"][0]["guide"]["levels"]["9"] = "beaucoup"
    data["axes"][0]["situations"][0]["practices"][0]["translations"]["en"]["guide"]["levels"]["9"] = "a lot"


def _translated_guide_missing(data):
    _guide_without_note(data)
    data["version"]["guide_note"] = "Proposition"
    data["version"]["translations"]["en"]["guide_note"] = "Proposal"
    del data["axes"][0]["situations"][0]["practices"][0]["translations"]["en"]["guide"]


def _translated_guide_with_other_levels(data):
    _guide_without_note(data)
    data["version"]["guide_note"] = "Proposition"
    data["version"]["translations"]["en"]["guide_note"] = "Proposal"
    data["axes"][0]["situations"][0]["practices"][0]["translations"]["en"]["guide"]["levels"] = {"souvent": "often"}


@pytest.mark.parametrize(
    ("breaking", "message"),
    [
        (_missing_practice_translation,
         "axes[0].situations[1].practices[0].translations : il manque la traduction « en » (une traduction est complète ou absente)."),
        (_missing_option_translation,
         "dimensions[1].options[0].translations : il manque la traduction « en » (une traduction est complète ou absente)."),
        (_missing_description, "axes[0].situations[1].translations.en : il manque « description », présent dans l'original."),
        (_translation_into_the_original_language,
         "version.translations : « fr » est la langue de l'original (version.language), pas une traduction."),
        (_bad_language_code, "axes[0].translations.EN : code de langue attendu, en minuscules (par exemple « en »)."),
        (_guide_without_note,
         "version : dites d'où viennent les aides des pratiques (« guide_note », obligatoire dès qu'une pratique en a une)."),
        (_guide_on_an_unknown_level,
         "axes[0].situations[0].practices[0].guide.levels : « 9 » n'est pas une modalité du niveau de pratique (attendu : jamais, parfois, souvent, nc)."),
        (_translated_guide_missing,
         "axes[0].situations[0].practices[0].translations.en : il manque « guide », présent dans l'original."),
        (_translated_guide_with_other_levels,
         "axes[0].situations[0].practices[0].translations.en.guide : la traduction doit décrire les mêmes niveaux que l'original (parfois)."),
    ],
)
def test_an_incomplete_or_wrong_translation_or_guide_is_refused_with_its_place(breaking, message):
    data = translated_small()
    breaking(data)

    assert refused(data) == message


def test_the_shipped_file_names_its_line_when_a_translation_is_missing(tmp_path):
    data = shipped()
    del data["dimensions"][2]["options"][1]["translations"]
    path = write_framework_file(tmp_path / "g.yaml", data)

    with pytest.raises(FrameworkFileError, match=r"^Ligne \d+ — dimensions\[2\]\.options\[1\]\.translations : il manque"):
        read_framework_file(path)


# --- Pages ----------------------------------------------------------------------------------------


def test_english_grid_page_shows_english_labels_with_the_french_original_at_hand(client, version):
    page = client.get("/grille/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="en">' in page
    assert "<h1>Grid for qualifying territorial engineering practices</h1>" in page
    assert '<span class="code">8.1</span> Facilitating political momentum' in page
    assert '<span lang="fr">Faciliter l&#x27;impulsion politique</span>' in page
    assert '<span lang="fr">Préparer une aide à la décision politique</span>' in page
    assert '<span lang="fr">Expertises de Gestion</span>' in page
    assert "I do not practise it · Occasionally · Regularly · It is the core of my work · Not applicable" in page
    assert '<span lang="fr">Niveau de pratique — Je ne pratique pas · Ponctuellement' in page
    # The help, on demand, and where it comes from.
    assert page.count('<details class="practice-help">') == 24
    assert "<strong>Occasionally</strong>" in page
    assert NOTE_EN in page.replace("&#x27;", "'")
    # French stays only where it is the original, marked as such, or a resource's own title.
    assert "Financer les projets</span>" in page and "<span class=\"code\">1.1</span> Financer" not in page


def test_french_grid_page_shows_the_help_and_resources_of_each_practice_without_originals(client, version):
    page = client.get("/grille/").content.decode()

    assert "<h1>Grille de qualification des pratiques d&#x27;ingénierie territoriale</h1>" in page
    assert page.count('<details class="practice-help">') == 24
    assert "<strong>Ponctuellement</strong> : vous préparez de temps en temps des éléments" in page
    assert NOTE_FR in page
    assert ">Base IMPACT-Alliances</a>" not in page  # no address: named, not linked
    assert '<span lang="fr">Base IMPACT-Alliances</span>' in page
    assert "Original :" not in page and "traduction" not in page


def test_questionnaire_step_offers_the_help_in_the_active_language(client, version):
    positioning = start_positioning(client)

    french = client.get(assessment_url("step", positioning, 1)).content.decode()
    english = client.get(assessment_url("step", positioning, 1), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert french.count('<details class="practice-help">') == 3
    assert "<strong>Régulièrement</strong> : vous cherchez des financements" in french
    assert english.count('<details class="practice-help">') == 3
    assert "<strong>Regularly</strong>: you look for funding" in english
    assert '<span lang="fr">Financer les projets</span>' in english
    level_question = english.split('class="dimension dimension-level"')[1].split("</fieldset>")[0]
    assert "Practice level" in level_question and "Where do you stand today in this practice?" in level_question
    assert "Occasionally" in level_question and "Ponctuellement" not in level_question


def test_profile_in_english_names_practices_and_levels_in_english(client, version):
    positioning = start_positioning(client)
    answer(positioning, "5.2", level="3", wish="non")

    page = client.get(assessment_url("profile", positioning), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Building links between actors of my territory" in page
    assert "It is the core of my work" in page
    assert "Créer des liens entre acteurs" not in page


# --- Resources, practice by practice ------------------------------------------------------------


def test_every_practice_has_a_resource_and_none_repeats_under_every_practice(grid):
    by_practice = resources_by_practice(grid)
    spread = Counter(r.code for resources in by_practice.values() for r in resources)

    assert [code for code, resources in by_practice.items() if not resources] == []
    assert max(spread.values()) <= MAX_PRACTICES_PER_RESOURCE
    assert len(spread) == Resource.objects.count() == 15
    # The practices the issue found empty.
    assert [r.code for r in by_practice["2.2"]] == ["fiches-reperes-domaines"]
    assert {r.code for r in by_practice["2.3"]} == {"fiches-reperes-domaines", "innovation-territoriale-en-actions"}


def test_shipped_resources_carry_only_addresses_the_document_gives(version):
    from tests.frameworks.test_resources import DOCUMENT_ADDRESSES

    urls = set(Resource.objects.exclude(url="").values_list("url", flat=True))
    unlinked = set(Resource.objects.filter(url="").values_list("code", flat=True))

    assert urls == DOCUMENT_ADDRESSES
    assert unlinked == {
        "base-impact-alliances", "co-construction-territoriale", "rnma-referentiel-metier",
        "expertises-territoires", "juris-association-dossiers", "note-competences-des-territoires",
    }


def test_every_shipped_resource_has_an_english_description(version):
    for resource in Resource.objects.all():
        with translation.override("en"):
            english = resource.shown_description
        with translation.override("fr"):
            french = resource.shown_description
        assert english != french and english.endswith("In French."), resource.code


def test_withdrawn_resources_are_deleted_when_the_file_is_loaded(version, tmp_path):
    Resource.objects.create(
        framework=Resource.objects.first().framework, code="fiches-reperes", title="La collection des Fiches Repères",
        kind="data", url="https://observatoire-des-partenariats.fr/la-collection-des-fiches-reperes",
        situation_codes=["5", "6", "7"],
    )

    changed = load_resources_file(path=RESOURCE_FILE)

    assert changed == 1
    assert not Resource.objects.filter(code="fiches-reperes").exists()
    assert Resource.objects.count() == 15


def test_a_withdrawn_code_still_in_the_list_is_refused(version, tmp_path):
    data = yaml.safe_load(RESOURCE_FILE.read_text(encoding="utf-8"))
    data["withdrawn"].append("base-impact-alliances")
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    with pytest.raises(FrameworkFileError) as excinfo:
        load_resources_file(path=path)

    assert str(excinfo.value) == "withdrawn[2] : « base-impact-alliances » est retirée mais encore dans la liste des ressources."
    assert Resource.objects.filter(code="base-impact-alliances").exists()


def test_translations_do_not_leak_between_copies_of_the_data(db):
    data = translated_small()
    first = validate_framework_data(copy.deepcopy(data))
    data["axes"][0]["translations"]["en"]["label"] = "Other"

    assert validate_framework_data(data) != first
    assert content_hash(validate_framework_data(data)) == content_hash(first)
