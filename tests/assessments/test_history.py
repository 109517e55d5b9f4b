"""Issue 15, parts 5 and 6: evolution per practice and per axis with the dates, a new positioning
that starts from the previous answers when the person chooses it, « Mes positionnements » with
the time of day, the version and a comparison of any two, and plurals that follow French."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from grille.assessments import history
from grille.assessments.models import Answer, Assessment
from grille.assessments.services import (
    AnswerInput,
    save_answers,
    start_assessment,
    submit_assessment,
)
from grille.frameworks.services import load_framework_version, validate_framework_data
from grille.organisations.services import create_organisation
from tests.factories import (
    answer_all,
    assessment_url,
    load_small_framework,
    make_user,
    small_framework_data,
    stored_answers,
)

EARLY = datetime(2025, 3, 4, 9, 15, tzinfo=UTC)  # 4 mars 2025 10:15, heure de Paris
LATE = datetime(2026, 6, 20, 14, 40, tzinfo=UTC)  # 20 juin 2026 16:40, heure de Paris


def text(response) -> str:
    return html.unescape(response.content.decode())


def sent(user, version, levels: dict[str, str], *, at: datetime, wish: str = "") -> Assessment:
    """A positioning of ``user`` with these levels, sent at ``at``."""
    assessment, _raw = start_assessment(version=version, owner=user)
    save_answers(assessment=assessment, items=[
        AnswerInput(practice_code=code, level=level, wish=wish) for code, level in levels.items()
    ])
    submit_assessment(assessment=assessment)
    Assessment.objects.filter(pk=assessment.pk).update(submitted_at=at, created_at=at - timedelta(minutes=30))
    return Assessment.objects.select_related("version").get(pk=assessment.pk)


@pytest.fixture
def camille(db):
    return make_user("camille@exemple.fr")


@pytest.fixture
def signed_in(client, camille) -> Client:
    client.force_login(camille)
    return client


@pytest.fixture
def two_sent(version, camille) -> tuple[Assessment, Assessment]:
    """Camille's two positionings: 1.1 goes 1 → 3, 1.2 stays at 2, 2.1 goes 2 → 0, 7.1 only later."""
    before = sent(camille, version, {"1.1": "1", "1.2": "2", "2.1": "2"}, at=EARLY)
    after = sent(camille, version, {"1.1": "3", "1.2": "2", "2.1": "0", "7.1": "3"}, at=LATE)
    return before, after


# Evolution per practice and per axis, with the dates -------------------------------------------

def test_evolution_gives_each_practice_and_axis_with_the_two_dates(two_sent):
    before, after = two_sent

    evolution = history.evolution(before, after)

    by_code = {c.practice.code: c for c in evolution.practices}
    assert (evolution.before_at, evolution.after_at) == (EARLY, LATE)
    assert [(by_code[c].delta, by_code[c].delta_text) for c in ("1.1", "1.2", "2.1", "7.1", "3.1")] == [
        (2, "+2"), (0, "0"), (-2, "−2"), (None, "—"), (None, "—"),
    ]
    assert by_code["1.1"].before.level.label == "Ponctuellement"
    assert by_code["1.1"].after.level.label == "C'est le cœur de mon activité"
    assert (evolution.raised, evolution.lowered, evolution.steady) == (1, 1, 1)
    axes = {a.code: a for a in evolution.axes}
    # Axis « gestion »: before 1.1=1, 1.2=2, 2.1=2 → 5/3; after 3, 2, 0 → 5/3.
    assert axes["gestion"].before == pytest.approx(5 / 3)
    assert axes["gestion"].delta == pytest.approx(0)
    strategy = next(a for a in evolution.axes if any(s.situation.code == "7" for s in evolution.situations
                                                      if s.situation.axis_code == a.code))
    assert (strategy.before, strategy.after, strategy.delta) == (None, 3, None)
    assert evolution.overall.before == pytest.approx(5 / 3)
    assert evolution.overall.after == pytest.approx(2)


def test_profile_page_shows_the_evolution_per_axis_and_practice_with_dates(signed_in, two_sent):
    _before, after = two_sent

    page = text(signed_in.get(assessment_url("profile", after)))

    section = page.split('id="evolution"', 1)[1].split("</section>", 1)[0]
    assert "4 mars 2025 10:15" in section and "20 juin 2026 16:40" in section
    assert "Évolution de la moyenne des niveaux par axe" in section
    row = re.search(r"<span class=\"code\">1\.1</span>.*?</tr>", section, re.S).group(0)
    assert "Ponctuellement" in row and "C'est le cœur de mon activité" in row and "+2" in row
    row = re.search(r"<span class=\"code\">2\.1</span>.*?</tr>", section, re.S).group(0)
    assert "−2" in row
    assert "1 pratique a progressé, 1 a reculé, 1 est restée au même niveau." in section
    # The first positioning has nothing to compare with.
    first = text(signed_in.get(assessment_url("profile", _before)))
    assert 'id="evolution"' not in first


# Comparing any two ------------------------------------------------------------------------------

def test_compare_any_two_in_either_order(signed_in, two_sent, version, camille):
    before, after = two_sent
    draft, _raw = start_assessment(version=version, owner=camille)
    url = reverse("assessments:compare")

    forward = signed_in.get(url, {"avant": before.uuid, "apres": after.uuid})
    backward = signed_in.get(url, {"avant": after.uuid, "apres": before.uuid})
    with_draft = signed_in.get(url, {"avant": draft.uuid, "apres": before.uuid})

    assert forward.status_code == backward.status_code == with_draft.status_code == 200
    for response in (forward, backward):
        page = text(response)
        assert "Le plus ancien :" in page
        assert page.index("Envoyé le 4 mars 2025 10:15") < page.index("Envoyé le 20 juin 2026 16:40")
        assert "Évolution de la moyenne des niveaux par situation" in page
        assert re.search(r"1\.1</span>.*?\+2</td>", page, re.S)
    assert "En cours, commencé le" in text(with_draft)


def test_compare_is_scoped_to_the_owner(signed_in, two_sent, version):
    before, _after = two_sent
    someone = make_user("dominique@exemple.fr")
    theirs = sent(someone, version, {"1.1": "2"}, at=LATE)
    url = reverse("assessments:compare")

    response = signed_in.get(url, {"avant": before.uuid, "apres": theirs.uuid})
    stranger = Client()
    stranger.force_login(someone)
    mine_seen_by_them = stranger.get(url, {"avant": theirs.uuid, "apres": before.uuid})

    assert response.status_code == 404
    assert mine_seen_by_them.status_code == 404


def test_compare_refuses_bad_choices_with_a_message(signed_in, two_sent, camille):
    before, _after = two_sent
    small = load_small_framework()
    other_grid = sent(camille, small, {"A.1": "souvent"}, at=LATE)
    url = reverse("assessments:compare")

    same = signed_in.get(url, {"avant": before.uuid, "apres": before.uuid})
    garbage = signed_in.get(url, {"avant": "pas-un-identifiant", "apres": before.uuid})
    half = signed_in.get(url, {"avant": before.uuid})
    other = signed_in.get(url, {"avant": before.uuid, "apres": other_grid.uuid})
    blank = signed_in.get(url)

    assert (same.status_code, garbage.status_code, half.status_code, other.status_code) == (400, 400, 400, 400)
    assert "Choisissez deux positionnements différents." in text(same)
    assert "Choisissez deux positionnements à comparer." in text(garbage)
    assert "portent sur des grilles différentes" in text(other)
    assert blank.status_code == 200 and "Premier positionnement" in text(blank)


def test_anonymous_browser_compares_only_what_it_opened(client, version):
    first = Client()
    mine = [start_positioning_in(client) for _ in range(2)]
    theirs = start_positioning_in(first)
    url = reverse("assessments:compare")

    assert client.get(url, {"avant": mine[0].uuid, "apres": mine[1].uuid}).status_code == 200
    assert client.get(url, {"avant": mine[0].uuid, "apres": theirs.uuid}).status_code == 404


def start_positioning_in(browser: Client) -> Assessment:
    response = browser.post(reverse("assessments:start"))
    return Assessment.objects.get(uuid=response.url.split("/")[-3])


# « Mes positionnements » ----------------------------------------------------------------------

def test_list_shows_time_of_day_version_and_a_comparison_form(signed_in, two_sent):
    page = text(signed_in.get(reverse("assessments:list")))

    assert "Envoyé le 4 mars 2025 10:15" in page and "Envoyé le 20 juin 2026 16:40" in page
    assert "4 mars 2025 09:45" in page  # started half an hour before sending
    assert "version 2024" in page
    form = page.split('action="/mes-positionnements/comparer/"', 1)[1].split("</form>", 1)[0]
    assert 'name="avant"' in form and 'name="apres"' in form
    # The options are told apart by date, time, version and count, with French plurals.
    assert "Envoyé le 20 juin 2026 16:40, grille version 2024 (4 pratiques renseignées)" in form
    assert "Envoyé le 4 mars 2025 10:15, grille version 2024 (3 pratiques renseignées)" in form


def test_list_counts_one_practice_in_the_singular(signed_in, version, camille):
    sent(camille, version, {"1.1": "2"}, at=EARLY)
    sent(camille, version, {"1.1": "2", "1.2": "1"}, at=LATE)

    page = text(signed_in.get(reverse("assessments:list")))

    assert "(1 pratique renseignée)" in page
    assert "(2 pratiques renseignées)" in page


# Starting from the previous answers --------------------------------------------------------------

def test_new_positioning_starts_blank_unless_the_person_chooses(signed_in, two_sent, camille):
    _before, after = two_sent
    Answer.objects.filter(assessment=after, practice__code="1.1").update(comment="Avec la région")

    blank = signed_in.post(reverse("assessments:start"))
    copied = signed_in.post(reverse("assessments:start"), {"depuis": str(after.uuid)})

    new_blank, new_copy = Assessment.objects.filter(owner=camille).order_by("-created_at", "-pk")[:2][::-1]
    assert blank.status_code == copied.status_code == 302
    assert stored_answers(new_blank) == {}
    assert stored_answers(new_copy) == stored_answers(after)
    assert stored_answers(new_copy)["1.1"][3] == "Avec la région"
    assert not new_copy.is_submitted and new_copy.pk != after.pk
    # Copied answers carry no edit stamp: any later change wins, whatever the browser's clock.
    assert set(Answer.objects.filter(assessment=new_copy).values_list("edited_at_client", flat=True)) == {None}
    follow = signed_in.get(copied.url)
    assert "4 réponses de votre positionnement du 20 juin 2026 16:40 ont été reprises" in text(follow)


def test_a_copied_answer_is_changed_by_autosave_even_with_an_old_clock(signed_in, two_sent, camille):
    _before, after = two_sent
    signed_in.post(reverse("assessments:start"), {"depuis": str(after.uuid)})
    new = Assessment.objects.filter(owner=camille, status="draft").get()

    response = signed_in.post(assessment_url("autosave", new, "1.1"), {"1.1-niveau": "0", "edited_at": "1000"})

    assert response.status_code == 200 and response.json()["ok"] is True
    assert stored_answers(new)["1.1"][0] == "0"
    assert stored_answers(after)["1.1"][0] == "3"  # the source never changes


def test_start_from_refuses_someone_elses_or_a_garbled_choice_and_creates_nothing(signed_in, version, two_sent):
    someone = make_user("dominique@exemple.fr")
    theirs = sent(someone, version, {"1.1": "2"}, at=LATE)
    count = Assessment.objects.count()

    other = signed_in.post(reverse("assessments:start"), {"depuis": str(theirs.uuid)})
    garbled = signed_in.post(reverse("assessments:start"), {"depuis": "n'importe quoi"})

    assert other.status_code == 404
    assert garbled.status_code == 400
    assert "Le positionnement de départ choisi n'existe pas" in text(garbled)
    assert Assessment.objects.count() == count


def test_start_form_offers_blank_first_and_each_sent_positioning(signed_in, two_sent):
    page = text(signed_in.get(reverse("assessments:list")))

    form = page.split('action="/positionnements/nouveau/"', 1)[1].split("</form>", 1)[0]
    assert re.search(r'value="" checked[^>]*> Partir d\'une page blanche', form)
    assert "Reprendre mes réponses du positionnement envoyé le 20 juin 2026 16:40 (grille version 2024)" in form
    assert "Reprendre mes réponses du positionnement envoyé le 4 mars 2025 10:15 (grille version 2024)" in form


def test_profile_offers_to_start_from_this_positioning(signed_in, two_sent):
    _before, after = two_sent

    page = text(signed_in.get(assessment_url("profile", after)))

    assert f'<input type="hidden" name="depuis" value="{after.uuid}">' in page
    assert "Nouveau positionnement à partir de celui-ci" in page


def test_copy_across_versions_keeps_the_practices_and_options_the_new_version_has(db, camille):
    v1 = load_small_framework()
    data = small_framework_data()
    data["version"]["code"] = "v2"
    situation_c = data["axes"][1]["situations"][0]
    situation_c["practices"] = [p for p in situation_c["practices"] if p["code"] != "C.2"]
    data["dimensions"][0]["options"] = [o for o in data["dimensions"][0]["options"] if o["code"] != "parfois"]
    v2 = load_framework_version(data=validate_framework_data(data)).version
    source = sent(camille, v1, {"A.1": "souvent", "B.1": "parfois", "C.2": "jamais"}, at=EARLY, wish="oui")

    new, _raw, copied = history.start_from(version=v2, owner=camille, source=source)

    assert copied == 2
    assert stored_answers(new) == {
        "A.1": ("souvent", "oui", None, ""),
        "B.1": (None, "oui", None, ""),  # « parfois » is no longer an option: the level is left blank
    }
    evolution = history.evolution(source, new)
    assert evolution.dropped == ("C.2",)
    assert not evolution.same_version
    assert [(c.practice.code, c.delta) for c in evolution.practices] == [("A.1", 0), ("A.2", None), ("B.1", None), ("C.1", None)]


def test_compare_page_across_versions_names_the_practices_left_out(signed_in, camille):
    v1 = load_small_framework()
    data = small_framework_data()
    data["version"]["code"] = "v2"
    situation_c = data["axes"][1]["situations"][0]
    situation_c["practices"] = [p for p in situation_c["practices"] if p["code"] != "C.2"]
    v2 = load_framework_version(data=validate_framework_data(data)).version
    old = sent(camille, v1, {"A.1": "parfois", "C.2": "jamais"}, at=EARLY)
    new = sent(camille, v2, {"A.1": "souvent"}, at=LATE)

    page = text(signed_in.get(reverse("assessments:compare"), {"avant": new.uuid, "apres": old.uuid}))

    assert "(grille version v1) à celui du 20 juin 2026 16:40 (grille version v2)" in page
    assert "Pratique de la version la plus ancienne absente de la plus récente : C.2." in page
    assert re.search(r"A\.1</span>.*?\+1</td>", page, re.S)


# Plurals ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "sentence"), [
    (0, "0 pratique renseignée sur 24."),
    (1, "1 pratique renseignée sur 24."),
    (2, "2 pratiques renseignées sur 24."),
])
def test_step_progress_follows_the_french_plural(client, positioning, count, sentence):
    codes = ["1.1", "1.2", "1.3"][:count]
    if codes:
        answer_all(positioning, codes)

    page = client.get(assessment_url("step", positioning, 1)).content.decode()

    paragraph = re.search(r'<p id="progress-text"[^>]*data-progress-texts="([^"]*)"[^>]*>([^<]*)</p>', page)
    assert html.unescape(paragraph.group(2)) == sentence
    # The sentence for every count, for autosave.js: the server's plural rule, in French.
    texts = json.loads(html.unescape(paragraph.group(1)))
    assert len(texts) == 25
    assert texts[:3] == ["0 pratique renseignée sur 24.", "1 pratique renseignée sur 24.",
                         "2 pratiques renseignées sur 24."]


def test_step_progress_texts_follow_the_english_plural(client, positioning):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    page = client.get(assessment_url("step", positioning, 1)).content.decode()

    texts = json.loads(html.unescape(re.search(r'data-progress-texts="([^"]*)"', page).group(1)))
    with translation.override("en"):
        expected = [translation.ngettext("%(n)s pratique renseignée sur %(total)s.",
                                         "%(n)s pratiques renseignées sur %(total)s.", n) % {"n": n, "total": 24}
                    for n in (0, 1, 2)]
    assert texts[:3] == expected
    assert expected[0] != expected[1]  # 0 is plural in English


def test_share_form_tells_positionings_apart_by_time_and_version(client, version, camille):
    create_organisation(user=camille, name="Pays du Val", structure_type="epci")
    sent(camille, version, {"1.1": "2"}, at=EARLY)
    sent(camille, version, {"1.1": "3"}, at=EARLY + timedelta(hours=3))
    client.force_login(camille)
    organisation = camille.memberships.get().organisation

    page = text(client.get(reverse("organisations:share", args=[organisation.uuid])))

    labels = re.findall(r'name="assessment"[^>]*> ([^<]*)</label>', page)
    assert labels == [
        "Positionnement envoyé le 4 mars 2025 13:15, grille version 2024 (le plus récent)",
        "Positionnement envoyé le 4 mars 2025 10:15, grille version 2024",
    ]
