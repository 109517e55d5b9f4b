"""The English interface: pages switch language, and the catalogue is complete and compiled."""

import ast
import gettext
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from grille.assessments.models import Assessment

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.fixture(autouse=True)
def _reset_language():
    # LocaleMiddleware activates the request's language on this thread and leaves it active.
    yield
    translation.deactivate()


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr / msgstr[n], flags."""
    entries, entry, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            if entry is not None:
                entries.append(entry)
            entry, key = None, None
            continue
        if entry is None:
            entry = {"flags": set()}
        if line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return [e for e in entries if "msgid" in e]


def test_home_page_is_in_english_with_accept_language(client, version):
    response = client.get(reverse("pages:home"), HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "Start my self-assessment" in html
    assert "How it works" in html
    assert "Commencer mon positionnement" not in html


def test_home_page_stays_french_by_default(client, version):
    html = client.get(reverse("pages:home")).content.decode()

    assert '<html lang="fr">' in html
    assert "Commencer mon positionnement" in html


def test_questionnaire_step_is_in_english_after_choosing_english(client, version):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    client.post(reverse("assessments:start"))
    assessment = Assessment.objects.get()

    response = client.get(reverse("assessments:step", args=[assessment.uuid, 1]))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "Step 1 of" in html
    assert "Next step" in html
    assert "Your answers are saved automatically whenever you make a change." in html
    assert "My resume link" in html
    assert "Étape suivante" not in html
    # The grid's own labels come from its English translation, the French original at hand (issue 15).
    assert "Practice level" in html and "Niveau de pratique" not in html
    assert '<span lang="fr">Financer les projets</span>' in html


def test_english_catalogue_is_complete_and_placeholders_are_kept():
    entries = [e for e in read_po(PO_FILE) if e["msgid"]]  # the header has an empty msgid

    assert len(entries) > 200
    for e in entries:
        assert "fuzzy" not in e["flags"], e["msgid"]
        if "msgid_plural" in e:
            pairs = [(e["msgid"], e["msgstr[0]"]), (e["msgid_plural"], e["msgstr[1]"])]
        else:
            pairs = [(e["msgid"], e["msgstr"])]
        for source, target in pairs:
            assert target, f"untranslated: {source!r}"
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source


def test_compiled_catalogue_matches_the_po_file():
    with MO_FILE.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    for e in read_po(PO_FILE):
        if not e["msgid"]:
            continue
        if "msgid_plural" in e:
            assert catalogue.ngettext(e["msgid"], e["msgid_plural"], 1) == e["msgstr[0]"]
            assert catalogue.ngettext(e["msgid"], e["msgid_plural"], 2) == e["msgstr[1]"]
        elif "msgctxt" in e:
            assert catalogue.pgettext(e["msgctxt"], e["msgid"]) == e["msgstr"]
        else:
            assert catalogue.gettext(e["msgid"]) == e["msgstr"], "django.mo is stale: run `make messages`"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext tools are not installed")
def test_msgfmt_reports_no_fuzzy_or_untranslated_message():
    result = subprocess.run(
        [shutil.which("msgfmt"), "--statistics", "-c", "-o", os.devnull, str(PO_FILE)],
        capture_output=True, text=True, check=False, env={**os.environ, "LC_ALL": "C"},
    )

    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr


FR_PO_FILE = Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES" / "django.po"


def test_french_plurals_follow_the_french_rule(client, version):
    # « 0 pratique renseignée », as French writes it: 0 and 1 take the singular.
    with translation.override("fr"):
        assert translation.ngettext(
            ", dans %(s)d situation professionnelle sur %(total)d.",
            ", dans %(s)d situations professionnelles sur %(total)d.",
            0,
        ) == ", dans %(s)d situation professionnelle sur %(total)d."
    client.post(reverse("assessments:start"))
    assessment = Assessment.objects.get()

    html = client.get(reverse("assessments:profile", args=[assessment.uuid])).content.decode()

    assert "0 pratique renseignée sur 24." in html


def test_french_catalogue_repeats_the_source_and_covers_every_plural():
    # `make messages` builds it with msgen: each French message is its own source text.
    entries = [e for e in read_po(FR_PO_FILE) if e["msgid"]]
    plurals = [e for e in entries if "msgid_plural" in e]

    assert len(plurals) >= 20
    for e in entries:
        assert "fuzzy" not in e["flags"], e["msgid"]
        if "msgid_plural" in e:
            assert (e["msgstr[0]"], e["msgstr[1]"]) == (e["msgid"], e["msgid_plural"])
        else:
            assert e["msgstr"] == e["msgid"]
