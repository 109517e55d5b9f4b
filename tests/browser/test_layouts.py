"""Issue 15, part 2: every main page works on a phone (390 px), a laptop (1280 px) and a big screen
(1920 px). Nothing overflows the page sideways, a table that scrolls says so, and the radar's labels
can be read on a phone. Screenshots of every page at every width are kept to look at."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from grille.accounts.models import User
from grille.assessments.models import Assessment
from grille.assessments.services import start_assessment
from grille.frameworks.selectors import get_default_version, get_grid
from grille.organisations.enums import DecisionMode, PartnerType, ShareMode
from grille.organisations.models import Membership
from grille.organisations.services import (
    create_action,
    create_organisation,
    set_decision,
    share_assessment,
)
from grille.studies.synthetic import generate_synthetic_campaign
from tests.organisations.conftest import join, make_person, submitted_positioning

from .conftest import assert_accessible
from .test_workshop_removed_journey import signed_in_context

WIDTHS = {"telephone": (390, 844), "portable": (1280, 800), "grand-ecran": (1920, 1080)}
SCREENSHOTS = Path(os.environ.get("GRILLE_SCREENSHOTS", Path(tempfile.gettempdir()) / "grille-layouts"))

# Answers varied over the 24 practices, so that every column has something to show.
WISHES = ("non", "oui", "priorite")
CARRYING = ("interne", "partenariat", "les-deux", "a-definir")


def answers(codes: list[str], shift: int) -> dict[str, tuple[str, str, str]]:
    levels = ["3", "2", "1", "0", "nc"]
    return {
        code: (levels[(i + shift) % len(levels)], WISHES[(i + shift) % 3], CARRYING[(i + shift) % 4])
        for i, code in enumerate(codes)
    }


def build_world() -> tuple[User, dict[str, str]]:
    """Everything the main pages show, made through the services: Camille, and the paths she visits, by name.

    Camille has two submitted positionings (so her profile shows an evolution) and a draft; she runs
    a team of four who all share with their name, with a decision and an action; she is an analyst
    with a small synthetic study.
    """
    version = get_default_version()
    codes = [p.code for p in get_grid(version).practices]
    camille = make_person("camille.fontaine-delacroix@exemple.fr", "Camille Fontaine-Delacroix")
    camille.user_permissions.add(Permission.objects.get(codename="run_studies"))

    first = submitted_positioning(camille, version, answers(codes, 1))
    Assessment.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - timedelta(days=200))
    latest = submitted_positioning(camille, version, answers(codes, 0))
    draft, _raw = start_assessment(version=version, owner=camille)

    organisation = create_organisation(
        user=camille, name="Communauté de communes des Deux Rives et du Haut-Plateau", structure_type="epci",
        territory="Deux Rives",
    )
    facilitator = Membership.objects.get(organisation=organisation, user=camille)
    share_assessment(membership=facilitator, assessment=latest, mode=ShareMode.NAMED)
    people = [
        ("marie-helene.bernard-lefebvre@exemple.fr", "Marie-Hélène Bernard-Lefebvre"),
        ("jean-baptiste.durand@exemple.fr", "Jean-Baptiste Durand"),
        ("ines.moreau@exemple.fr", ""),  # no name given: shown as her address
    ]
    for shift, (email, name) in enumerate(people, start=2):
        member = join(facilitator, make_person(email, name))
        share_assessment(membership=member, assessment=submitted_positioning(member.user, version, answers(codes, shift)),
                         mode=ShareMode.NAMED)
    set_decision(
        membership=facilitator, practice_code=codes[2], mode=DecisionMode.PARTNERSHIP,
        partner_types=[PartnerType.ASSOCIATION, PartnerType.LOCAL_AUTHORITY],
        partners="Maison des associations du Haut-Plateau", note="Porter la recherche de financements avec le tissu associatif.",
    )
    create_action(
        membership=facilitator, title="Rencontrer les associations du territoire pour préparer l'appel à projets",
        practice_codes=codes[:3], owner_id=facilitator.pk, due_date=timezone.localdate() - timedelta(days=3),
    )

    campaign = generate_synthetic_campaign(respondents=40, seed=15, analyst=camille)

    org = [organisation.uuid]
    return camille, {
        "accueil": reverse("pages:home"),
        "grille": reverse("pages:framework"),
        "protection": reverse("pages:protection"),
        "questionnaire": reverse("assessments:step", args=[draft.uuid, 1]),
        "profil": reverse("assessments:profile", args=[latest.uuid]),
        "mes-positionnements": reverse("assessments:list"),
        "structure": reverse("organisations:home", args=org),
        "atelier": reverse("organisations:workshop", args=org),
        "arbitrages": reverse("organisations:decisions", args=org),
        "arbitrage": reverse("organisations:decision", args=[organisation.uuid, codes[2]]),
        "actions": reverse("organisations:actions", args=org),
        "membres": reverse("organisations:members", args=org),
        "etude": reverse("studies:home", args=[campaign.uuid]),
        "etude-resultats": reverse("studies:dashboard", args=[campaign.uuid]),
        "etude-suivi": reverse("studies:tracking", args=[campaign.uuid]),
        "pairs": reverse("assessments:peers", args=[latest.uuid]),
        "structures": reverse("organisations:list"),
        "partage": reverse("organisations:share", args=org),
        "etudes": reverse("studies:list"),
        "etude-repondants": reverse("studies:invitees", args=[campaign.uuid]),
        "etude-vagues": reverse("studies:waves", args=[campaign.uuid]),
        "etude-exports": reverse("studies:exports", args=[campaign.uuid]),
        "compte": reverse("accounts:account"),
        "jetons-api": reverse("accounts:api_tokens"),
    }


# What sticks out sideways: the page's own width, and the elements wider than the viewport
# (named, so that a failure says where to look).
OVERFLOW = """() => {
  const width = window.innerWidth;
  const culprits = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && !el.closest(".table-scroll")) {
      culprits.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "") + " → " + Math.round(box.right));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, culprits: culprits.slice(0, 5)};
}"""

# Every scrolling table region: whether it scrolls, and whether its cue is shown.
SCROLLERS = """() => Array.from(document.querySelectorAll(".table-scroll")).map(region => {
  const cue = region.querySelector(":scope > .scroll-cue");
  return {
    name: region.getAttribute("aria-labelledby"),
    scrolls: region.scrollWidth > region.clientWidth + 1,
    cue: cue !== null && cue.getBoundingClientRect().height > 0,
    cueText: cue ? cue.textContent.trim() : "",
  };
})"""

# The smallest text of each radar shown, in screen pixels (its font size in user units times
# the scale from user units to the screen, nested drawings included).
RADAR_TEXT_PX = """() => Array.from(document.querySelectorAll("figure.chart svg[role=img]")).filter(svg => svg.getBoundingClientRect().width > 0).map(svg =>
  Math.min(...Array.from(svg.querySelectorAll("text")).filter(t => t.getBoundingClientRect().width > 0)
    .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a))
)"""

# On a phone, answer details are cards: each value shows the name of its column above it.
DETAIL_LABELS = """() => Array.from(document.querySelectorAll(".detail-table tbody tr:not(.group-row)")).slice(0, 1).flatMap(row =>
  Array.from(row.querySelectorAll("td")).map(td => getComputedStyle(td, "::before").content)
)"""


def test_every_main_page_fits_a_phone_a_laptop_and_a_big_screen(site, new_context):
    camille, paths = build_world()
    page = signed_in_context(new_context, site, camille).new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    overflowing: list[str] = []
    scrolling: dict[str, bool] = {}  # "page à N px : region" → its cue is shown
    radar_text: dict[str, float] = {}
    for width, height in WIDTHS.values():
        page.set_viewport_size({"width": width, "height": height})
        for name, path in paths.items():
            response = page.goto(site + path)
            assert response is not None and response.status == 200, f"{name} : {response and response.status}"
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
            result = page.evaluate(OVERFLOW)
            if result["scrollWidth"] > result["width"]:
                overflowing.append(f"{name} à {width} px : {result['scrollWidth']} px ; {result['culprits']}")
            for region in page.evaluate(SCROLLERS):
                if region["scrolls"]:
                    scrolling[f"{name} à {width} px : {region['name']}"] = region["cue"]
                else:
                    assert not region["cue"], f"{name} à {width} px : {region['name']} dit défiler sans défiler"
                if region["cue"]:
                    assert region["cueText"] == "← faites défiler →"
            if width == 390 and name in {"profil", "structure", "atelier", "etude-resultats"}:
                sizes = page.evaluate(RADAR_TEXT_PX)
                assert len(sizes) == 1, f"{name} : {len(sizes)} radars"
                radar_text[name] = round(sizes[0], 1)
            if width == 390 and name in {"profil", "membres", "actions", "arbitrages", "mes-positionnements"}:
                assert_accessible(page)  # cards and scrolling regions keep their names and headers
            if width == 390 and name == "profil":
                assert page.evaluate(DETAIL_LABELS) == ['"Niveau de pratique"', '"Souhait de développement"', '"Portage"']

    assert overflowing == []
    # On a laptop and a big screen, every table fits; on a phone, those that scroll say so.
    assert [where for where in scrolling if " à 390 px" not in where] == []
    assert [where for where, cue in scrolling.items() if not cue] == []
    assert "structure à 390 px : matrix-caption" in scrolling  # the team map, one column per member
    assert {name: size for name, size in radar_text.items() if size < 11} == {}
