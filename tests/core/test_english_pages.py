"""No French reaches an English page (issue 15): every page a person, a facilitator and an analyst
see, read in English, is checked for French text.

Two nets, so that a string left out of the catalogue is caught as well as one translated but
not applied (gettext run at import time, say):
- every French message of the catalogue whose English differs, found in the page's text;
- any run of text with two or more French function words ("les", "vous", "pour"…).
Text inside an element marked `lang="fr"` is left out: the grid's original labels, shown beside
their translation, a study's own questions (written in its language) and the name of the
language itself; so is a French title cited between « ».
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from grille.accounts.models import User
from grille.assessments import services as positionings
from grille.assessments.models import Assessment
from grille.organisations import services as teams
from grille.studies import services as studies
from tests.core.test_i18n import FR_PO_FILE, PO_FILE, read_po
from tests.studies.conftest import make_respondent

FRENCH_WORDS = {
    "les", "des", "une", "pour", "vous", "votre", "vos", "avec", "dans", "sur", "est", "pas", "aux",
    "du", "cette", "ces", "qui", "sont", "leur", "nous", "mes", "mon", "aucun", "aucune", "être",
}
WORD = re.compile(r"[a-zàâçéèêëîïôûùüÿœ']+")


class VisibleText(HTMLParser):
    """The text a reader sees, leaving out scripts, styles and anything marked lang="fr"."""

    SKIP = {"script", "style", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # True where this element or an ancestor is skipped
        self.runs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            for name, value in attrs:
                if name in {"placeholder", "aria-label", "title", "alt"} and value and not self.skipping:
                    self.runs.append(value)
            return
        skip = self.skipping or tag in self.SKIP or any(n == "lang" and (v or "").startswith("fr") for n, v in attrs)
        self.stack.append(skip)
        if not skip:
            self.runs.extend(v for n, v in attrs if n in {"aria-label", "title", "alt"} and v)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.runs.append(" ".join(data.split()))

    @property
    def skipping(self) -> bool:
        return bool(self.stack and self.stack[-1])


def visible_runs(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.runs


def french_messages() -> list[str]:
    """French catalogue messages whose English differs: long enough fragments to be told apart."""
    english = {e["msgid"]: e.get("msgstr") or e.get("msgstr[0]", "") for e in read_po(PO_FILE)}
    fragments = []
    for entry in read_po(FR_PO_FILE):
        source = entry["msgid"]
        if not source or english.get(source, "") == source:
            continue
        for fragment in re.split(r"%\(\w+\)[sd]|%[sd]|\{\{.*?\}\}|\n", source):
            fragment = " ".join(fragment.split())
            if len(fragment) >= 18 and " " in fragment:
                fragments.append(fragment)
    return fragments


CITED = re.compile(r"«[^»]*»")


def french_in(html: str, messages: list[str], *, words: bool = True) -> list[str]:
    # A French title cited between « » (the original document's, say) is a citation.
    runs = [CITED.sub("«»", run) for run in visible_runs(html)]
    text = " ".join(runs)
    found = [m for m in messages if m in text]
    for run in runs if words else ():
        words = WORD.findall(run.lower())
        french = {w for w in words if w in FRENCH_WORDS}
        if len(words) >= 3 and len(french) >= 2:
            found.append(run)
    return found


@pytest.fixture
def world(version, grid, django_capture_on_commit_callbacks):
    """A person with two submitted positionings, a team of two sharing, and a study with results."""
    sam = User.objects.create_user("sam@example.org", display_name="Sam Taylor", job_title="Project lead", affiliation="Combes Network")
    sam.user_permissions.add(Permission.objects.get(codename="run_studies"))
    sam = User.objects.get(pk=sam.pk)
    kim = User.objects.create_user("kim@example.org", display_name="Kim Lee")
    codes = [p.code for p in grid.practices]
    owned = []
    for owner, level in ((sam, "1"), (sam, "2"), (kim, "3")):
        assessment = Assessment.objects.create(version=version, owner=owner)
        positionings.save_answers(
            assessment=assessment,
            items=[positionings.AnswerInput(practice_code=c, level=level, wish="oui" if n % 3 == 0 else "", carrying="interne")
                   for n, c in enumerate(codes)],
        )
        owned.append(positionings.submit_assessment(assessment=assessment))
    organisation = teams.create_organisation(user=sam, name="Combes Network", structure_type="association")
    lead = organisation.memberships.get(user=sam)
    _invitation, raw = teams.create_invitation(membership=lead, email="kim@example.org")
    member = teams.accept_invitation(raw=raw, user=kim)
    teams.share_assessment(membership=lead, assessment=owned[1], mode="named")
    teams.share_assessment(membership=member, assessment=owned[2], mode="named")
    teams.set_decision(membership=lead, practice_code=codes[0], mode="partnership", partner_types=["association"], note="Ask the county")
    teams.create_action(membership=lead, title="Train the team", practice_codes=codes[:2])
    now = timezone.now()
    campaign = studies.create_campaign(
        user=sam, name="Catalysts 2026", wave_year=2026, version=version, opens_at=now - timedelta(days=2),
        closes_at=now + timedelta(days=20), consent_text="I agree.", threshold=5,
    )
    for n in range(12):
        make_respondent(campaign, profile={"structure": ["association"], "territoire": ["rural"]},
                        levels={c: str((n + i) % 4) for i, c in enumerate(codes)})
    return {"sam": sam, "positionings": owned, "organisation": organisation, "campaign": campaign, "codes": codes}


def english_client(user: User | None = None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    if user is not None:
        client.force_login(user)
    return client


def pages(world: dict) -> list[str]:
    first, second, _kim = world["positionings"]
    uuid, org, campaign = second.uuid, world["organisation"].uuid, world["campaign"].uuid
    return [
        reverse("pages:home"), reverse("pages:framework"), reverse("pages:protection"),
        reverse("assessments:list"), reverse("assessments:profile", args=[uuid]),
        reverse("assessments:peers", args=[uuid]),
        reverse("accounts:account"), reverse("accounts:api_tokens"),
        reverse("organisations:list"), reverse("organisations:home", args=[org]), reverse("organisations:members", args=[org]),
        reverse("organisations:share", args=[org]), reverse("organisations:decisions", args=[org]),
        reverse("organisations:decision", args=[org, world["codes"][0]]), reverse("organisations:actions", args=[org]),
        reverse("organisations:workshop", args=[org]),
        reverse("studies:list"), reverse("studies:home", args=[campaign]), reverse("studies:dashboard", args=[campaign]),
        reverse("studies:tracking", args=[campaign]), reverse("studies:questions", args=[campaign]),
        reverse("studies:invitees", args=[campaign]), reverse("studies:exports", args=[campaign]),
    ]


@pytest.fixture(autouse=True)
def _english_off_after():
    yield
    translation.deactivate()


def test_no_french_reaches_an_english_page(world):
    client = english_client(world["sam"])
    messages = french_messages()
    problems = {}
    for url in pages(world):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="en"' in html, url
        found = french_in(html, messages)
        if found:
            problems[url] = found[:8]
    assert not problems, problems


def test_no_french_reaches_the_english_questionnaire(world, version):
    client = english_client()
    client.post(reverse("assessments:start"))
    assessment = Assessment.objects.filter(owner__isnull=True).latest("pk")
    messages = french_messages()
    problems = {}
    for number in range(1, len(world["codes"]) + 2):
        url = reverse("assessments:step", args=[assessment.uuid, number])
        response = client.get(url)
        if response.status_code == 404:
            break
        found = french_in(response.content.decode(), messages)
        if found:
            problems[url] = found[:8]
    assert number > 2
    assert not problems, problems


def test_the_net_catches_french(world):
    """The check itself: a French page, or one French sentence in an English page, is caught."""
    messages = french_messages()
    client = Client()
    french = client.get(reverse("pages:home")).content.decode().replace('<html lang="fr">', '<html lang="en">')

    assert french_in(french, messages)
    assert french_in("<p>Your profile. Vous pouvez le partager avec les autres.</p>", messages)
    assert not french_in('<p>Your profile.</p><p lang="fr">Vous pouvez le partager avec les autres.</p>', messages)


def test_the_team_workbook_and_the_fiche_follow_the_english_reader(world):
    """Files too: the team XLSX (headers, grid labels) and the PDF fiche, read back."""
    import io

    from openpyxl import load_workbook
    from pypdf import PdfReader

    client = english_client(world["sam"])
    messages = french_messages()
    workbook = load_workbook(io.BytesIO(client.get(reverse("organisations:team_xlsx", args=[world["organisation"].uuid])).content))
    cells = [
        str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
        if isinstance(cell, str) and cell not in {"Combes Network", "Ask the county", "Train the team"}
    ]
    assert "Practice" in cells
    assert not french_in("".join(f"<p>{c}</p>" for c in cells), messages)

    pdf = client.get(reverse("assessments:profile_pdf", args=[world["positionings"][1].uuid])).content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Sam Taylor" in text and "Project lead" in text
    # A PDF's text keeps no language marks, and its reading list cites French titles: only the
    # interface's own messages are looked for there.
    assert "Profile by professional situation" in text
    assert not french_in(f"<p>{' '.join(text.split())}</p>", messages, words=False)
