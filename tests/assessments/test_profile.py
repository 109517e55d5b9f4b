"""The profile is computed by pure functions from a grid and answers: no database needed."""

from __future__ import annotations

import pytest

from grille.assessments.profile import AnswerData, compare_situations, compute_profile
from grille.frameworks import grid as g

LEVEL = g.Dimension(
    code="niveau", role="level", label="Niveau de pratique", help_text="",
    options=(
        g.Option(10, "0", "Je ne pratique pas", 0),
        g.Option(11, "1", "Ponctuellement", 1),
        g.Option(12, "2", "Régulièrement", 2),
        g.Option(13, "3", "C'est le cœur de mon activité", 3),
        g.Option(14, "nc", "Non concerné·e", None),
    ),
)
WISH = g.Dimension(
    code="souhait", role="wish", label="Souhait de développement", help_text="",
    options=(
        g.Option(20, "non", "Non", 0),
        g.Option(21, "oui", "Oui", 1),
        g.Option(22, "priorite", "Oui, en priorité", 2),
    ),
)
CARRYING = g.Dimension(
    code="portage", role="carrying", label="Portage", help_text="",
    options=(
        g.Option(30, "interne", "En interne", None),
        g.Option(31, "partenariat", "En partenariat avec d'autres acteurs locaux", None),
        g.Option(32, "les-deux", "Les deux", None),
    ),
)


def practice(code: str, label: str) -> g.Practice:
    return g.Practice(id=int(code.replace(".", "")), code=code, label=label, situation_code=code.split(".")[0])


def make_grid(*, version_id: int = 1, with_situation_3: bool = True) -> g.Grid:
    """Two axes, three situations, six practices, on the 2024 scales."""
    s1 = g.Situation("1", "Financer", "", "gestion", (
        practice("1.1", "Financer les projets"), practice("1.2", "Financer d'autres acteurs"),
    ))
    s2 = g.Situation("2", "Contractualiser", "", "gestion", (
        practice("2.1", "Gérer les contrats"), practice("2.2", "Mesurer les résultats"),
    ))
    s3 = g.Situation("3", "Créer des liens", "", "relations", (
        practice("3.1", "Créer des liens en interne"), practice("3.2", "Créer des liens entre territoires"),
    ))
    return g.Grid(
        version_id=version_id, framework_name="Grille", version_code="test", title="Grille de test",
        source="", source_date=None,
        axes=(
            g.Axis("gestion", "Expertises de Gestion", "", (s1, s2)),
            g.Axis("relations", "Relations et Interactions", "", (s3,) if with_situation_3 else ()),
        ),
        dimensions={"level": LEVEL, "wish": WISH, "carrying": CARRYING},
    )


GRID = make_grid()


def a(level: str = "", wish: str = "", carrying: str = "", comment: str = "") -> AnswerData:
    """An answer given by option codes, as a person picks them."""
    return AnswerData(
        level_id=LEVEL.option_by_code(level).id if level else None,
        wish_id=WISH.option_by_code(wish).id if wish else None,
        carrying_id=CARRYING.option_by_code(carrying).id if carrying else None,
        comment=comment,
    )


def codes(scores) -> list[str]:
    return [s.practice.code for s in scores]


def test_profile_of_no_answers_is_empty():
    profile = compute_profile(GRID, {})

    assert (profile.answered, profile.total, profile.overall.mean) == (0, 6, None)
    assert [(s.code, s.mean, s.answered, s.total) for s in profile.situations] == [
        ("1", None, 0, 2), ("2", None, 0, 2), ("3", None, 0, 2),
    ]
    assert [s.mean for s in profile.axes] == [None, None]
    assert (profile.strengths, profile.to_develop) == ((), ())
    assert [(o.code, n) for o, n in profile.carrying_summary] == [("interne", 0), ("partenariat", 0), ("les-deux", 0)]
    assert profile.scope_text == (
        "Aucune pratique n'est encore renseignée : votre périmètre d'actions apparaîtra ici.",
    )


def test_profile_keeps_each_answer_with_its_options_and_comment():
    profile = compute_profile(GRID, {"2.1": a("3", "priorite", "les-deux", "Avec la région")})

    score = next(s for s in profile.practices if s.practice.code == "2.1")
    assert (score.level.label, score.wish.label, score.carrying.label, score.comment) == (
        "C'est le cœur de mon activité", "Oui, en priorité", "Les deux", "Avec la région",
    )
    assert (score.answered, score.value) == (True, 3)
    assert codes(profile.practices) == ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2"]


def test_situation_mean_leaves_out_not_concerned_but_counts_it_as_answered():
    profile = compute_profile(GRID, {"1.1": a("3"), "1.2": a("nc")})

    situation = profile.situation_score("1")
    assert (situation.mean, situation.answered, situation.scored, situation.total) == (3.0, 2, 1, 2)
    assert profile.answered == 2


def test_situation_of_only_not_concerned_answers_has_no_mean():
    profile = compute_profile(GRID, {"3.1": a("nc"), "3.2": a("nc")})

    situation = profile.situation_score("3")
    assert (situation.mean, situation.answered, situation.scored) == (None, 2, 0)
    assert profile.axes[1].mean is None


def test_level_zero_counts_in_the_mean():
    profile = compute_profile(GRID, {"2.1": a("0"), "2.2": a("3")})

    assert profile.situation_score("2").mean == 1.5


def test_axis_mean_is_the_mean_of_its_practices_levels():
    answers = {"1.1": a("3"), "1.2": a("2"), "2.1": a("0"), "2.2": a("nc"), "3.1": a("1")}

    profile = compute_profile(GRID, answers)

    gestion, relations = profile.axes
    assert (gestion.code, gestion.mean, gestion.answered, gestion.scored, gestion.total) == (
        "gestion", pytest.approx(5 / 3), 4, 3, 4,
    )
    assert (relations.mean, relations.answered, relations.scored, relations.total) == (1.0, 1, 1, 2)
    assert (profile.overall.mean, profile.overall.answered, profile.overall.scored) == (1.5, 5, 4)


def test_wish_without_level_is_not_an_answered_practice():
    profile = compute_profile(GRID, {"1.1": a(wish="oui", carrying="interne")})

    assert (profile.answered, profile.situation_score("1").answered) == (0, 0)
    assert codes(profile.to_develop) == ["1.1"]


def test_answers_to_practices_outside_the_grid_are_ignored():
    profile = compute_profile(GRID, {"9.9": a("3"), "1.1": a("1")})

    assert (profile.answered, profile.overall.mean) == (1, 1.0)


def test_strengths_are_the_top_two_levels_highest_first_in_grid_order():
    answers = {"1.1": a("2"), "1.2": a("3"), "2.1": a("1"), "2.2": a("nc"), "3.1": a("3"), "3.2": a("2")}

    profile = compute_profile(GRID, answers)

    assert codes(profile.strengths) == ["1.2", "3.1", "1.1", "3.2"]


def test_to_develop_lists_priorities_first_and_leaves_out_no():
    answers = {
        "1.1": a("1", "oui"), "1.2": a("0", "non"), "2.1": a(wish="priorite"),
        "3.1": a("0", "priorite"), "3.2": a("2", "oui"),
    }

    profile = compute_profile(GRID, answers)

    assert codes(profile.to_develop) == ["2.1", "3.1", "1.1", "3.2"]


def test_carrying_summary_counts_practices_per_option_in_scale_order():
    answers = {"1.1": a("1", carrying="les-deux"), "1.2": a(carrying="interne"), "2.1": a("2", carrying="interne")}

    profile = compute_profile(GRID, answers)

    assert [(o.label, n) for o, n in profile.carrying_summary] == [
        ("En interne", 2), ("En partenariat avec d'autres acteurs locaux", 0), ("Les deux", 1),
    ]


def test_scope_text_names_the_top_axis_and_situation_and_counts():
    answers = {
        "1.1": a("1", "priorite", "interne"),
        "1.2": a("0", "oui"),
        "2.1": a("2", carrying="interne"),
        "3.1": a("3", "non", "les-deux"),
        "3.2": a("2"),
    }

    profile = compute_profile(GRID, answers)

    assert profile.scope_text == (
        "Votre pratique est la plus affirmée dans l'axe « Relations et Interactions » (moyenne 2,5 sur 3), "
        "en particulier dans la situation « Créer des liens ».",
        "Vous exercez 3 pratiques de façon régulière ou au cœur de votre activité, "
        "dans 2 situations professionnelles sur 3.",
        "Vous souhaitez développer 2 pratiques, dont 1 en priorité.",
        "Portage envisagé — en interne : 2 ; les deux : 1.",
    )


def test_scope_text_in_the_singular_without_wish_or_carrying():
    profile = compute_profile(GRID, {"2.2": a("3")})

    assert profile.scope_text == (
        "Votre pratique est la plus affirmée dans l'axe « Expertises de Gestion » (moyenne 3,0 sur 3), "
        "en particulier dans la situation « Contractualiser ».",
        "Vous exercez 1 pratique de façon régulière ou au cœur de votre activité, "
        "dans 1 situation professionnelle sur 3.",
        "Vous n'avez pas indiqué de pratique à développer.",
    )


def test_scope_text_of_only_not_concerned_answers_has_no_axis_sentence():
    profile = compute_profile(GRID, {"1.1": a("nc", "oui")})

    # Only the count sentences remain; the plural chosen for 0 depends on the French catalogue.
    assert len(profile.scope_text) == 2
    assert profile.scope_text[0].startswith("Vous exercez 0 pratique")
    assert profile.scope_text[1] == "Vous souhaitez développer 1 pratique."


def test_compare_situations_gives_the_change_per_situation():
    before = compute_profile(GRID, {"1.1": a("1"), "1.2": a("1"), "2.1": a("3"), "3.1": a("nc")})
    after = compute_profile(GRID, {"1.1": a("3"), "1.2": a("2"), "2.1": a("2"), "3.1": a("2")})

    deltas = compare_situations(before, after)

    assert [(d.situation.code, d.before, d.after, d.delta) for d in deltas] == [
        ("1", 1.0, 2.5, 1.5),
        ("2", 3.0, 2.0, -1.0),
        ("3", None, 2.0, None),
    ]


def test_compare_situations_matches_situations_by_code_across_versions():
    before = compute_profile(make_grid(version_id=1, with_situation_3=False), {"1.1": a("2")})
    after = compute_profile(make_grid(version_id=2), {"1.1": a("3"), "3.1": a("1")})

    deltas = compare_situations(before, after)

    assert [(d.situation.code, d.before, d.after, d.delta) for d in deltas] == [
        ("1", 2.0, 3.0, 1.0),
        ("2", None, None, None),
        ("3", None, 1.0, None),
    ]


def test_profile_of_the_2024_grid_answered_at_the_top_level(grid):
    level = grid.level.option_by_code("3").id
    answers = {p.code: AnswerData(level_id=level) for p in grid.practices}

    profile = compute_profile(grid, answers)

    assert (profile.answered, profile.total, profile.overall.mean, len(profile.strengths)) == (24, 24, 3.0, 24)
    assert [(s.code, s.mean, s.total) for s in profile.axes] == [
        ("gestion", 3.0, 9), ("relations", 3.0, 9), ("strategie", 3.0, 6),
    ]
    assert profile.scope_text[:2] == (
        "Votre pratique est la plus affirmée dans l'axe « Expertises de Gestion » (moyenne 3,0 sur 3), "
        "en particulier dans la situation « Trouver et diversifier des financements ».",
        "Vous exercez 24 pratiques de façon régulière ou au cœur de votre activité, "
        "dans 8 situations professionnelles sur 8.",
    )
