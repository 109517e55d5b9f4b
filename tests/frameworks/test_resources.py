"""« Pour aller plus loin » : the resources named by the document, loaded from a data file,
attached to practices and shown under each practice to develop, on the page and in the PDF."""

from __future__ import annotations

import copy
import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from grille.accounts.models import User
from grille.assessments import services
from grille.frameworks.models import Resource
from grille.frameworks.resources import (
    default_resource_files,
    load_resources_file,
    resources_by_practice,
)
from grille.frameworks.services import DATA_DIR, FrameworkFileError
from tests.factories import answer, assessment_url, load_small_framework, start_positioning

SHIPPED_FILE = DATA_DIR / "resources-pratiques-ingenierie-territoriale.yaml"
FRAMEWORK = "pratiques-ingenierie-territoriale"

# Titles, publishers, kinds and addresses as the document (18 April 2024) gives them; where it
# gives no address, none: the resource is named, not linked (no address is guessed).
FICHES = "https://observatoire-des-partenariats.fr/la-collection-des-fiches-reperes"
ANPP = "https://www.anpp.fr/publications/contributions/"
SHIPPED = {
    "fiches-reperes-acteurs": ("Fiches Repères : les alliances selon les acteurs", "Observatoire des partenariats", "data", FICHES),
    "fiches-reperes-territoires": (
        "Fiches Repères : les alliances selon les territoires", "Observatoire des partenariats", "data", FICHES,
    ),
    "fiches-reperes-domaines": (
        "Fiches Repères : les alliances selon les domaines d'actions", "Observatoire des partenariats", "data", FICHES,
    ),
    "base-impact-alliances": ("Base IMPACT-Alliances", "", "example", ""),
    "note-trois-ingenieries": (
        "Trois natures d'ingénierie complémentaires", "Le RAMEAU", "method",
        "https://www.lerameau.fr/wp-content/uploads/2022/07/Fiche-Ingenieries-VF.pdf",
    ),
    "co-construction-territoriale": ("Référentiel « Co-construction territoriale »", "Le RAMEAU", "method", ""),
    "innovation-territoriale-en-actions": (
        "L'innovation territoriale en actions", "", "method", "https://innovationterritoriale.plateformecapitalisation.org/",
    ),
    "anpp-vademecum-projet-de-territoire": (
        "Vadémécum « Faire territoire » : le Projet de territoire (2021)", "ANPP-Territoires de projet", "method", ANPP,
    ),
    "anpp-vademecum-ingenierie-publique": (
        "Vadémécum « Faire territoire » : l'ingénierie publique de développement local (2022)",
        "ANPP-Territoires de projet", "method", ANPP,
    ),
    "anpp-vademecum-cooperations": (
        "Vadémécum « Faire territoire » : les coopérations (2023)", "ANPP-Territoires de projet", "method", ANPP,
    ),
    "rnma-referentiel-metier": (
        "Référentiel métier de l'Accompagnement à la Vie locale",
        "Réseau National des Maisons des Associations (RNMA)", "method", "",
    ),
    "expertises-territoires": ("Plateforme Expertises.Territoires", "CEREMA", "method", ""),
    "juris-association-dossiers": ("Dossiers annuels Juris association", "Juris association", "example", ""),
    "programme-chef-de-projet-innovation-territoriale": (
        "Programme « Chef de projet innovation territoriale »", "Le RAMEAU, Fondation des Territoires", "training",
        "https://www.lerameau.fr/wp-content/uploads/2023/09/LR-FdT-PresentationProgrammeCPIT-vf.pdf",
    ),
    "note-competences-des-territoires": ("Note « Compétences des Territoires ? »", "Fondation des Territoires", "method", ""),
}
# Every address a shipped resource may carry: the document's own footnotes 1 to 5.
DOCUMENT_ADDRESSES = {
    "https://www.lerameau.fr/wp-content/uploads/2022/07/Fiche-Ingenieries-VF.pdf",
    FICHES,
    "https://innovationterritoriale.plateformecapitalisation.org/",
    ANPP,
    "https://www.lerameau.fr/wp-content/uploads/2023/09/LR-FdT-PresentationProgrammeCPIT-vf.pdf",
}
FICHES_REPERES_URL = FICHES
HOSTILE_TITLE = '<script>alert("x")</script> Guide « A & B »'


def shipped_data() -> dict:
    return yaml.safe_load(SHIPPED_FILE.read_text(encoding="utf-8"))


def write_resources_file(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def one_resource(**fields) -> dict:
    return {
        "format": 1,
        "framework": FRAMEWORK,
        "resources": [
            {"code": "guide", "title": "Un guide", "kind": "method", "url": "https://exemple.fr/guide?a=1&b=2",
             "practices": ["1.1"], **fields},
        ],
    }


def resource_rows() -> list[tuple]:
    return list(Resource.objects.order_by("code").values_list(
        "pk", "code", "title", "kind", "publisher", "url", "description", "language",
        "practice_codes", "situation_codes", "axis_codes",
    ))


@pytest.fixture
def positioning(client, version):
    """A draft positioning started by the `client` browser, granted to its session only."""
    return start_positioning(client)


def squeeze(value: str) -> str:
    # PDF text extraction breaks lines anywhere, even inside words.
    return re.sub(r"\s+", "", value)


# --- The shipped file -------------------------------------------------------------------------


def test_shipped_resources_have_the_titles_and_addresses_of_the_document(version):
    rows = Resource.objects.filter(framework__code=FRAMEWORK).values_list("code", "title", "publisher", "kind", "url")

    assert {code: rest for code, *rest in rows} == {code: list(v) for code, v in SHIPPED.items()}


def test_shipped_resources_are_found_by_the_load_framework_command(db):
    out = io.StringIO()

    call_command("load_framework", stdout=out)

    assert default_resource_files() == [SHIPPED_FILE]
    assert out.getvalue().splitlines() == [
        "Grille des pratiques d'ingénierie territoriale — 2024 : chargée.",
        "resources-pratiques-ingenierie-territoriale.yaml : 15 ressource(s) créée(s) ou mise(s) à jour.",
    ]
    assert Resource.objects.count() == 15


def test_shipped_resources_are_attached_where_the_document_puts_them(version):
    attached = {r.code: (r.practice_codes, r.situation_codes, r.axis_codes) for r in Resource.objects.all()}

    # Practice by practice: nothing is spread over a whole situation or axis.
    assert all(not situations and not axes for _practices, situations, axes in attached.values())
    assert attached["fiches-reperes-domaines"] == (["2.2", "2.3", "6.2", "6.3"], [], [])
    assert attached["base-impact-alliances"] == (["6.1", "6.3", "7.3", "8.3"], [], [])
    assert attached["co-construction-territoriale"] == (["4.3", "7.1", "7.2"], [], [])
    assert attached["anpp-vademecum-projet-de-territoire"] == (["7.1", "8.1", "8.2"], [], [])


def test_reloading_the_shipped_resources_changes_nothing(version):
    before = resource_rows()

    changed = load_resources_file(path=SHIPPED_FILE)
    out = io.StringIO()
    call_command("load_framework", stdout=out)

    assert changed == 0
    assert resource_rows() == before
    assert "resources-pratiques-ingenierie-territoriale.yaml : ressources déjà chargées, inchangées." in out.getvalue()


def test_reloading_a_changed_file_updates_the_resource_with_the_same_code(version, tmp_path):
    data = shipped_data()
    data["resources"][0]["title"] = "Fiches Repères (nouvelle édition)"
    before = dict(Resource.objects.values_list("code", "pk"))

    changed = load_resources_file(path=write_resources_file(tmp_path / "ressources.yaml", data))

    assert changed == 1
    assert dict(Resource.objects.values_list("code", "pk")) == before
    assert Resource.objects.get(code="fiches-reperes-acteurs").title == "Fiches Repères (nouvelle édition)"


def test_a_resource_left_out_of_the_file_is_kept(version, tmp_path):
    changed = load_resources_file(path=write_resources_file(tmp_path / "ressources.yaml", one_resource()))

    assert changed == 1
    assert Resource.objects.count() == 16


# --- Broken files -----------------------------------------------------------------------------


def _missing_title(data):
    del data["resources"][1]["title"]


def _unknown_kind(data):
    data["resources"][0]["kind"] = "video"


def _unknown_practice(data):
    data["resources"][4]["practices"][1] = "9.9"


def _unknown_situation(data):
    data["resources"][0]["situations"] = ["12"]


def _unknown_axis(data):
    data["resources"][2]["axes"] = ["gestion", "inconnu"]


def _unquoted_practice_code(data):
    data["resources"][0]["practices"] = [4.3]


def _bad_url(data):
    data["resources"][3]["url"] = "innovationterritoriale.plateformecapitalisation"


def _duplicate_code(data):
    data["resources"][5]["code"] = "fiches-reperes-acteurs"


def _unknown_field(data):
    data["resources"][2]["lien"] = "https://www.lerameau.fr/"


def _nothing_attached(data):
    data["resources"][6]["practices"] = []


def _unknown_framework(data):
    data["framework"] = "grille-2018"


def _long_title(data):
    data["resources"][7]["title"] = "x" * 301


@pytest.mark.parametrize(
    ("breaking", "message"),
    [
        (_missing_title, "resources[1] : le champ « title » est obligatoire."),
        (_unknown_kind, "resources[0].kind : « video » inconnu (attendu : method, data, example, training)."),
        (_unknown_practice,
         "resources[4].practices[1] : pratique « 9.9 » inconnue dans le référentiel « pratiques-ingenierie-territoriale »."),
        (_unknown_situation,
         "resources[0].situations[0] : situation « 12 » inconnue dans le référentiel « pratiques-ingenierie-territoriale »."),
        (_unknown_axis,
         "resources[2].axes[1] : axe « inconnu » inconnu dans le référentiel « pratiques-ingenierie-territoriale »."),
        (_unquoted_practice_code, 'resources[0].practices[0] : code attendu, entre guillemets (par exemple "1.1").'),
        (_bad_url, "resources[3].url : Saisissez une URL valide."),
        (_duplicate_code, "resources[5].code : code « fiches-reperes-acteurs » en double."),
        (_unknown_field,
         "resources[2] : champ inconnu « lien » (champs possibles : axes, code, description, kind, language, "
         "practices, publisher, situations, title, translations, url)."),
        (_nothing_attached,
         "resources[6] : rattachez la ressource à au moins une pratique, une situation ou un axe."),
        (_unknown_framework, "framework : référentiel « grille-2018 » inconnu ; chargez d'abord sa grille."),
        (_long_title,
         "resources[7].title : Assurez-vous que cette valeur comporte au plus 300 caractères (actuellement 301)."),
    ],
)
def test_broken_file_is_refused_with_the_place_named_and_nothing_saved(db, tmp_path, breaking, message):
    call_command("load_framework", str(DATA_DIR / "grille-2024.yaml"), stdout=io.StringIO())
    data = shipped_data()
    breaking(data)
    path = write_resources_file(tmp_path / "ressources.yaml", data)

    with pytest.raises(FrameworkFileError) as excinfo:
        load_resources_file(path=path)

    assert str(excinfo.value) == message
    assert Resource.objects.count() == 0


def test_broken_file_keeps_the_resources_already_loaded(version, tmp_path):
    before = resource_rows()
    data = copy.deepcopy(shipped_data())
    data["resources"][0]["title"] = "Changé"
    _unknown_practice(data)

    with pytest.raises(FrameworkFileError):
        load_resources_file(path=write_resources_file(tmp_path / "ressources.yaml", data))

    assert resource_rows() == before


def test_file_of_another_format_is_refused(version, tmp_path):
    data = shipped_data()
    data["format"] = 2

    with pytest.raises(FrameworkFileError) as excinfo:
        load_resources_file(path=write_resources_file(tmp_path / "ressources.yaml", data))

    assert str(excinfo.value) == "format : la version de format 2 n'est pas prise en charge (attendu : 1)."


# --- The load_resources command ----------------------------------------------------------------


def test_load_resources_command_loads_a_file_and_says_how_many_changed(version, tmp_path):
    path = write_resources_file(tmp_path / "ressources.yaml", one_resource(publisher="Équipe"))
    out = io.StringIO()

    call_command("load_resources", str(path), stdout=out)
    call_command("load_resources", str(path), stdout=out)

    assert out.getvalue().splitlines() == [
        "ressources.yaml : 1 ressource(s) créée(s) ou mise(s) à jour.",
        "ressources.yaml : ressources déjà chargées, inchangées.",
    ]
    assert Resource.objects.get(code="guide").publisher == "Équipe"


def test_load_resources_command_fails_with_the_path_and_the_place(version, tmp_path):
    data = one_resource()
    del data["resources"][0]["title"]
    path = write_resources_file(tmp_path / "ressources.yaml", data)

    with pytest.raises(CommandError) as excinfo:
        call_command("load_resources", str(path), stdout=io.StringIO())

    assert str(excinfo.value) == f"{path} : resources[0] : le champ « title » est obligatoire."
    assert not Resource.objects.filter(code="guide").exists()


def test_load_resources_command_fails_on_a_missing_file(version, tmp_path):
    path = tmp_path / "absent.yaml"

    with pytest.raises(CommandError) as excinfo:
        call_command("load_resources", str(path), stdout=io.StringIO())

    assert str(excinfo.value) == f"{path} : Fichier illisible : {path} (No such file or directory)."


def test_load_resources_command_needs_a_file(db):
    with pytest.raises(CommandError, match="the following arguments are required: paths"):
        call_command("load_resources", stdout=io.StringIO())


def test_load_framework_with_explicit_files_loads_only_those(db, tmp_path):
    call_command("load_framework", str(DATA_DIR / "grille-2024.yaml"), stdout=io.StringIO())

    assert Resource.objects.count() == 0


# --- resources_by_practice ---------------------------------------------------------------------


def test_resources_by_practice_spreads_situations_and_axes_to_their_practices(version, grid, tmp_path):
    data = one_resource(code="sur-un-axe", title="Sur un axe", practices=[], axes=["relations"])
    write_resources_file(tmp_path / "ressources.yaml", data)
    load_resources_file(path=tmp_path / "ressources.yaml")

    by_practice = resources_by_practice(grid)

    assert list(by_practice) == [p.code for p in grid.practices]
    assert [r.title for r in by_practice["5.2"]] == [
        "Fiches Repères : les alliances selon les acteurs",  # the practice itself, by title
        "Référentiel métier de l'Accompagnement à la Vie locale",
        "Vadémécum « Faire territoire » : les coopérations (2023)",
        "Sur un axe",  # its axis
    ]
    assert [r.title for r in by_practice["1.2"]] == [
        "Trois natures d'ingénierie complémentaires",
        "Vadémécum « Faire territoire » : l'ingénierie publique de développement local (2022)",
    ]
    assert "Sur un axe" not in [r.title for r in by_practice["2.1"]]


def test_resources_by_practice_takes_one_query_for_a_grid(grid, django_assert_num_queries):
    with django_assert_num_queries(1):
        by_practice = resources_by_practice(grid)

    assert len(by_practice["7.1"]) == 3


def test_resources_by_practice_accepts_a_version(version, grid):
    assert resources_by_practice(version) == resources_by_practice(grid)


def test_resources_of_another_framework_are_not_shown(version, tmp_path):
    small = load_small_framework()
    data = one_resource(practices=["A.1"])
    data["framework"] = "petite-grille"
    load_resources_file(path=write_resources_file(tmp_path / "ressources.yaml", data))

    assert [r.code for r in resources_by_practice(small)["A.1"]] == ["guide"]
    assert "guide" not in {r.code for rs in resources_by_practice(version).values() for r in rs}


# --- On the profile page and in the PDF --------------------------------------------------------


def test_profile_shows_the_resources_of_each_practice_to_develop(client, positioning, tmp_path):
    load_resources_file(path=write_resources_file(tmp_path / "r.yaml", one_resource(title=HOSTILE_TITLE)))
    answer(positioning, "1.1", level="1", wish="priorite")
    answer(positioning, "5.3", level="0", wish="oui")
    answer(positioning, "2.1", level="0", wish="oui")
    answer(positioning, "8.2", level="3", wish="non")

    response = client.get(assessment_url("profile", positioning))

    page = response.content.decode()
    develop = page[page.index('id="develop-title"'):page.index('id="carrying-title"')]
    assert response.status_code == 200
    assert develop.count("Pour aller plus loin") == 3  # 1.1, 5.3 and 2.1; 8.2 is not to develop
    assert (
        '<a href="https://innovationterritoriale.plateformecapitalisation.org/" rel="noopener" hreflang="fr" '
        'lang="fr">L&#x27;innovation territoriale en actions</a> <span class="tag">Méthode</span>'
    ) in develop
    # A resource the document names without an address is named, not linked.
    assert '<li><span lang="fr">Plateforme Expertises.Territoires</span> — <span lang="fr">CEREMA</span>' in develop
    assert '<li><span lang="fr">Dossiers annuels Juris association</span>' in develop
    assert (
        '<a href="https://exemple.fr/guide?a=1&amp;b=2" rel="noopener" hreflang="fr" lang="fr">'
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Guide « A &amp; B »</a>"
    ) in develop
    assert "<script>alert" not in page
    assert "Projet de territoire (2021)" not in develop  # attached to 8.2, which is not to develop
    assert FICHES_REPERES_URL + "</span>" not in page  # the address is printed in the PDF only


def test_profile_without_practices_to_develop_shows_no_resources(client, positioning):
    answer(positioning, "5.1", level="3", wish="non")

    response = client.get(assessment_url("profile", positioning))

    assert response.status_code == 200
    assert "Pour aller plus loin" not in response.content.decode()


def test_profile_pdf_prints_the_resources_with_their_addresses(client, positioning):
    answer(positioning, "7.1", level="1", wish="priorite")
    services.submit_assessment(assessment=positioning)

    response = client.get(assessment_url("profile_pdf", positioning))

    reader = PdfReader(io.BytesIO(response.content))
    pdf_text = squeeze("".join(page.extract_text() for page in reader.pages))
    links = [a.get_object()["/A"]["/URI"] for page in reader.pages for a in page.get("/Annots", [])]
    assert response.status_code == 200
    for expected in (
        "Pour aller plus loin", "Vadémécum « Faire territoire » : le Projet de territoire (2021)",
        "ANPP-Territoires de projet", "https://www.anpp.fr/publications/contributions/",
        "Référentiel « Co-construction territoriale »", "Fiches Repères : les alliances selon les territoires",
        FICHES_REPERES_URL,
    ):
        assert squeeze(expected) in pdf_text, expected
    assert "https://www.anpp.fr/publications/contributions/" in links


def test_profile_pdf_keeps_every_resource_when_every_practice_is_to_develop(client, positioning, grid):
    for practice in grid.practices:
        answer(positioning, practice.code, level="0", wish="oui")

    response = client.get(assessment_url("profile_pdf", positioning))

    pdf_text = squeeze("".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages))
    by_practice = resources_by_practice(grid)
    shown = {r for rs in by_practice.values() for r in rs}
    assert all(by_practice.values()) and len(shown) == 15
    for resource in shown:
        assert squeeze(resource.title) in pdf_text, resource.title
        assert not resource.url or squeeze(resource.url) in pdf_text, resource.url


def test_profile_takes_the_same_queries_with_or_without_resources(client, positioning):
    answer(positioning, "5.2", level="1", wish="oui")
    answer(positioning, "7.1", level="1", wish="oui")
    url = assessment_url("profile", positioning)

    with CaptureQueriesContext(connection) as with_resources:
        assert client.get(url).status_code == 200
    Resource.objects.all().delete()
    with CaptureQueriesContext(connection) as without:
        assert client.get(url).status_code == 200

    assert len(with_resources) == len(without)


# --- Admin --------------------------------------------------------------------------------------


def test_admin_lists_searches_and_filters_resources(client, version):
    client.force_login(User.objects.create_superuser("admin@exemple.fr", "un-mot-de-passe-solide-42"))
    changelist = reverse("admin:frameworks_resource_changelist")

    searched = client.get(changelist, {"q": "RAMEAU"}).content.decode()
    filtered = client.get(changelist, {"kind__exact": "training"}).content.decode()

    assert "Référentiel « Co-construction territoriale »" in searched
    assert "Fiches Repères : les alliances selon les acteurs" not in searched
    assert "Programme « Chef de projet innovation territoriale »" in filtered
    assert "Base IMPACT-Alliances" not in filtered


def test_profile_in_english_translates_the_heading_and_the_kinds(client, positioning):
    answer(positioning, "4.3", level="1", wish="oui")

    page = client.get(assessment_url("profile", positioning), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Further reading" in page
    assert '>Fiches Repères : les alliances selon les acteurs</a> — <span lang="fr">Observatoire des partenariats' \
        '</span> <span class="tag">Data</span>' in page
