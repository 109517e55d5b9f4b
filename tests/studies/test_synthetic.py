"""Synthetic campaigns: « essayer sans données réelles », through the generator and the command."""

import io
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Answer, Assessment
from grille.studies import synthetic
from grille.studies.enums import DEFAULT_PROFILE_QUESTIONS, REGIONS
from grille.studies.management.commands.generate_demo_campaign import (
    Command as GenerateDemoCampaign,
)
from grille.studies.models import Campaign, ConsentText, ProfileAnswer, ProfileQuestion, Respondent
from grille.studies.services import NotAllowed
from grille.studies.synthetic import SyntheticDataError, generate_synthetic_campaign
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
OVERSEAS_REGIONS = {"gua", "guy", "mar", "may", "reu"}


def generate(**kwargs) -> Campaign:
    return generate_synthetic_campaign(**{"respondents": 120, "seed": 7, **kwargs})


def answers_of(campaign: Campaign):
    return Answer.objects.filter(assessment__study_respondent__campaign=campaign)


def fingerprint(campaign: Campaign) -> dict:
    """What two generations with the same seed must share (ids and uuids aside)."""
    answers = answers_of(campaign)
    counts = {
        dimension: {
            (practice, option): n
            for practice, option, n in answers.values("practice__code", f"{dimension}__code")
            .annotate(n=Count("id"))
            .values_list("practice__code", f"{dimension}__code", "n")
        }
        for dimension in ("level", "wish", "carrying")
    }
    respondents = Respondent.objects.filter(campaign=campaign)
    return {
        **counts,
        "profile": sorted(
            ProfileAnswer.objects.filter(respondent__campaign=campaign)
            .values("question__code", "option").annotate(n=Count("id"))
            .values_list("question__code", "option", "n")
        ),
        "per_respondent": sorted(
            ProfileAnswer.objects.filter(respondent__campaign=campaign)
            .values_list("respondent__pseudonym", "question__code", "option")
        ),
        "respondents": sorted(
            respondents.values_list("pseudonym", "link_key", "consented_at", "assessment__status", "assessment__submitted_at")
        ),
    }


# --- The generated campaign --------------------------------------------------------------------

def test_campaign_is_marked_synthetic_with_default_questions_and_consent(version):
    campaign = generate(name="Essai fictif")

    campaign.refresh_from_db()
    assert campaign.synthetic is True
    assert campaign.name == "Essai fictif"
    assert campaign.wave_year == 2024
    assert campaign.version == version
    assert campaign.threshold == 5
    assert list(campaign.analysts.all()) == []
    assert campaign.closes_at - campaign.opens_at == timedelta(days=30)
    assert campaign.opens_at.year == 2024
    assert campaign.closes_at < timezone.now()
    assert list(ProfileQuestion.objects.filter(campaign=campaign).order_by("position").values_list("code", flat=True)) == [
        q["code"] for q in DEFAULT_PROFILE_QUESTIONS
    ]
    consent = ConsentText.objects.get(campaign=campaign)
    assert consent.version == 1
    assert "fictives" in consent.text
    respondents = Respondent.objects.filter(campaign=campaign)
    assert respondents.count() == 120
    assert respondents.filter(synthetic=True).count() == 120
    assert respondents.filter(consent=consent).count() == 120


def test_default_name_says_the_data_are_fictitious(version):
    campaign = generate()

    assert campaign.name == "Démonstration 2024 (données fictives)"


def test_completion_rate_of_respondents_have_submitted(version):
    campaign = generate(respondents=200, completion_rate=0.85)

    assessments = Assessment.objects.filter(study_respondent__campaign=campaign)
    assert assessments.count() == 200
    assert assessments.filter(status=AssessmentStatus.SUBMITTED, submitted_at__isnull=False).count() == 170
    assert assessments.filter(status=AssessmentStatus.DRAFT, submitted_at__isnull=True).count() == 30
    assert assessments.filter(answers_until=campaign.closes_at).count() == 200


def test_completion_rate_is_a_parameter(version):
    campaign = generate(respondents=100, completion_rate=0.5)

    submitted = Respondent.objects.filter(campaign=campaign, assessment__status=AssessmentStatus.SUBMITTED)
    assert submitted.count() == 50


def test_same_seed_gives_identical_data(version):
    first = generate(seed=11)
    second = generate(seed=11)

    assert first.pk != second.pk
    assert fingerprint(first) == fingerprint(second)


def test_different_seeds_give_different_data(version):
    first = fingerprint(generate(seed=11))
    second = fingerprint(generate(seed=12))

    assert first["level"] != second["level"]
    assert first["profile"] != second["profile"]
    assert first["respondents"] != second["respondents"]


def test_batch_size_changes_neither_the_data_nor_the_progress_total(version, monkeypatch):
    calls = []
    whole = fingerprint(generate(respondents=100))
    monkeypatch.setattr(synthetic, "BATCH_SIZE", 40)

    batched = generate(respondents=100, progress=lambda done, total: calls.append((done, total)))

    assert fingerprint(batched) == whole
    assert calls == [(40, 100), (80, 100), (100, 100)]


def test_every_respondent_answers_every_profile_question(version):
    campaign = generate(respondents=150)

    questions = {q.pk: q for q in ProfileQuestion.objects.filter(campaign=campaign)}
    chosen = defaultdict(list)
    for respondent_id, question_id, option in ProfileAnswer.objects.filter(
        respondent__campaign=campaign
    ).values_list("respondent_id", "question_id", "option"):
        chosen[respondent_id, question_id].append(option)
    for respondent_id in Respondent.objects.filter(campaign=campaign).values_list("pk", flat=True):
        for question in questions.values():
            options = chosen[respondent_id, question.pk]
            valid = {code for code, _label in question.options}
            assert set(options) <= valid, (question.code, options)
            assert len(set(options)) == len(options)
            if question.kind == "single":
                assert len(options) == 1, (question.code, options)
            else:
                assert 1 <= len(options) <= 3, (question.code, options)


def test_profile_is_plausible(version):
    campaign = generate(respondents=300)

    answers = ProfileAnswer.objects.filter(respondent__campaign=campaign)
    structures = Counter(answers.filter(question__code="structure").values_list("option", flat=True))
    regions = Counter(answers.filter(question__code="region").values_list("option", flat=True))
    local = sum(structures[s] for s in ("commune", "epci", "departement", "region", "autre-collectivite"))
    assert structures.most_common(1)[0][0] == "association"
    assert local > 300 * 0.35
    assert set(regions) <= {code for code, _label in REGIONS}
    assert len(regions) >= 12
    assert regions["ara"] > regions["cor"]
    sizes = Counter(
        answers.filter(question__code="metiers").values("respondent").annotate(n=Count("id")).values_list("n", flat=True)
    )
    assert set(sizes) == {1, 2, 3}


def test_region_agrees_with_overseas_answer(version):
    campaign = generate(respondents=300)

    by_respondent = defaultdict(dict)
    for respondent_id, code, option in ProfileAnswer.objects.filter(
        respondent__campaign=campaign, question__code__in=["region", "outre-mer"]
    ).values_list("respondent_id", "question__code", "option"):
        by_respondent[respondent_id][code] = option
    assert any(a["outre-mer"] == "outre-mer" for a in by_respondent.values())
    for answer in by_respondent.values():
        assert (answer["region"] in OVERSEAS_REGIONS) == (answer["outre-mer"] == "outre-mer"), answer


def test_submitted_assessments_answer_every_practice_with_valid_options(version, grid):
    campaign = generate(respondents=150)

    valid = {role: {o.id for o in grid.dimensions[role].options} for role in ("level", "wish", "carrying")}
    practices = {p.id for p in grid.practices}
    submitted = answers_of(campaign).filter(assessment__status=AssessmentStatus.SUBMITTED)
    per_assessment = defaultdict(set)
    for assessment_id, practice_id, level_id, wish_id, carrying_id in submitted.values_list(
        "assessment_id", "practice_id", "level_id", "wish_id", "carrying_id"
    ):
        per_assessment[assessment_id].add(practice_id)
        assert level_id in valid["level"]
        assert wish_id is None or wish_id in valid["wish"]
        assert carrying_id is None or carrying_id in valid["carrying"]
    assert len(per_assessment) == Respondent.objects.filter(
        campaign=campaign, assessment__status=AssessmentStatus.SUBMITTED
    ).count()
    assert all(answered == practices for answered in per_assessment.values())


def test_drafts_have_partial_answers_in_questionnaire_order(version, grid):
    campaign = generate(respondents=200, completion_rate=0.5)

    order = [p.id for p in grid.practices]
    drafts = Assessment.objects.filter(study_respondent__campaign=campaign, status=AssessmentStatus.DRAFT)
    answered = defaultdict(set)
    for assessment_id, practice_id in Answer.objects.filter(assessment__in=drafts).values_list("assessment_id", "practice_id"):
        answered[assessment_id].add(practice_id)
    counts = [len(answered[pk]) for pk in drafts.values_list("pk", flat=True)]
    assert len(counts) == 100
    assert max(counts) < len(order)
    assert sum(1 for c in counts if c > 0) > 50
    for practices in answered.values():
        assert practices == set(order[: len(practices)])
    assert not Answer.objects.filter(assessment__in=drafts, level__isnull=True).exists()


def test_levels_follow_the_profile(version, grid):
    campaign = generate(respondents=300)

    value = {o.id: o.value for o in grid.level.options}
    situation = {p.id: p.situation_code for p in grid.practices}
    profile = defaultdict(set)
    for respondent_assessment, code, option in ProfileAnswer.objects.filter(
        respondent__campaign=campaign, question__code__in=["ingenieries", "anciennete"]
    ).values_list("respondent__assessment_id", "question__code", "option"):
        profile[respondent_assessment].add(f"{code}={option}")
    catalysis, others = [], []
    by_experience = defaultdict(list)
    for assessment_id, practice_id, level_id in answers_of(campaign).values_list("assessment_id", "practice_id", "level_id"):
        level = value[level_id]
        if level is None:
            continue
        if situation[practice_id] in {"4", "5", "6", "7"}:
            (catalysis if "ingenieries=catalyse" in profile[assessment_id] else others).append(level)
        for years in ("moins-2", "plus-10"):
            if f"anciennete={years}" in profile[assessment_id]:
                by_experience[years].append(level)

    def mean(values):
        return sum(values) / len(values)

    assert mean(catalysis) > mean(others) + 0.25
    assert mean(by_experience["plus-10"]) > mean(by_experience["moins-2"]) + 0.25


def test_some_practices_are_not_concerned_and_most_are_wished_and_carried(version, grid):
    campaign = generate(respondents=200)

    not_concerned = next(o.id for o in grid.level.options if o.value is None)
    answers = answers_of(campaign).filter(assessment__status=AssessmentStatus.SUBMITTED)
    concerned = answers.exclude(level_id=not_concerned)
    share_nc = answers.filter(level_id=not_concerned).count() / answers.count()
    assert 0.02 < share_nc < 0.15
    assert concerned.filter(wish__isnull=False).count() > 0.85 * concerned.count()
    assert concerned.filter(carrying__isnull=False).count() > 0.8 * concerned.count()
    levels = set(concerned.values_list("level__value", flat=True))
    assert levels == {0, 1, 2, 3}


def test_pseudonyms_and_link_keys_are_unique_and_come_from_the_seed(version):
    campaign = generate(respondents=150)

    pseudonyms = list(Respondent.objects.filter(campaign=campaign).order_by("pk").values_list("pseudonym", flat=True))
    keys = list(Respondent.objects.filter(campaign=campaign).values_list("link_key", flat=True))
    assert pseudonyms == [f"D-{i:06d}" for i in range(1, 151)]
    assert len(set(keys)) == 150
    assert all(len(key) == 64 and int(key, 16) >= 0 for key in keys)


def test_answers_arrive_over_the_first_weeks_mostly_at_the_start(version):
    campaign = generate(respondents=300)

    rows = list(
        Respondent.objects.filter(campaign=campaign).order_by("pk")
        .values_list("consented_at", "assessment__created_at", "assessment__submitted_at", "assessment__updated_at")
    )
    starts = [started for started, *_rest in rows]
    assert starts == sorted(starts)  # respondents are numbered in arrival order
    for started, created, submitted, updated in rows:
        assert campaign.opens_at <= started <= campaign.closes_at
        assert created == started
        if submitted is not None:
            assert started < submitted <= campaign.closes_at
            assert updated == submitted
        else:
            assert updated == started
    per_day = Counter((s - campaign.opens_at).days for *_rest, s, _updated in rows if s is not None)
    total = sum(per_day.values())
    first_week = sum(n for day, n in per_day.items() if day < 7)
    last_week = sum(n for day, n in per_day.items() if day >= 23)
    reminder = synthetic.REMINDER_DAYS[0]
    assert sum(per_day[d] for d in (0, 1, 2)) > sum(per_day[d] for d in (3, 4, 5))
    assert first_week > 0.4 * total
    assert first_week > 3 * last_week
    assert per_day[reminder] + per_day[reminder + 1] > per_day[reminder - 2] + per_day[reminder - 1]
    assert len(per_day) >= 15


def test_wave_not_yet_opened_opens_in_the_past_and_has_no_answer_in_the_future(version):
    now = timezone.now()

    campaign = generate(year=now.year + 1)

    assert campaign.opens_at < now < campaign.closes_at
    assert campaign.state == "open"
    latest = Respondent.objects.filter(campaign=campaign).order_by("-consented_at").first().consented_at
    assert latest <= now
    assert not Assessment.objects.filter(study_respondent__campaign=campaign, submitted_at__gt=now).exists()


def test_query_count_does_not_grow_with_respondents(version):
    generate(respondents=5)  # the grid is read once, then cached

    def statements(n: int) -> Counter:
        with CaptureQueriesContext(connection) as queries:
            generate(respondents=n)
        return Counter(q["sql"].split()[0] for q in queries if not q["sql"].startswith("INSERT"))

    assert statements(30) == statements(150)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"respondents": 0}, "entre 1 et 100000"),
        ({"respondents": 100_001}, "entre 1 et 100000"),
        ({"seed": -1}, "graine"),
        ({"completion_rate": 1.5}, "taux"),
        ({"name": "   "}, "nom de la campagne"),
        ({"year": 1999}, "année"),
    ],
)
def test_invalid_request_is_refused_with_nothing_saved(version, kwargs, message):
    with pytest.raises(SyntheticDataError, match=message):
        generate(**kwargs)

    assert Campaign.objects.count() == 0


def test_no_published_grid_is_refused(db):
    with pytest.raises(SyntheticDataError, match="Aucune grille publiée"):
        generate()

    assert Campaign.objects.count() == 0


def test_failure_half_way_leaves_nothing_behind(version, monkeypatch):
    monkeypatch.setattr(synthetic, "BATCH_SIZE", 20)

    def interrupted(done, total):
        if done == 40:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(respondents=100, progress=interrupted)

    assert Campaign.objects.count() == 0
    assert Respondent.objects.count() == 0
    assert Assessment.objects.count() == 0
    assert Answer.objects.count() == 0
    assert ProfileAnswer.objects.count() == 0


def test_analyst_who_runs_studies_sees_the_campaign(version):
    analyst = make_user("analyste@exemple.fr")
    analyst.user_permissions.add(Permission.objects.get(codename="run_studies"))

    campaign = generate(analyst=analyst)

    assert list(campaign.analysts.all()) == [analyst]


def test_person_who_does_not_run_studies_cannot_be_made_analyst(version):
    with pytest.raises(NotAllowed):
        generate(analyst=make_user("camille@exemple.fr"))

    assert Campaign.objects.count() == 0


# --- The command -----------------------------------------------------------------------------

def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("generate_demo_campaign", *args, stdout=out)
    return out.getvalue()


def test_command_generates_the_campaign_and_prints_progress(version, monkeypatch):
    monkeypatch.setattr(synthetic, "BATCH_SIZE", 20)

    output = run_command("--respondents", "50", "--seed", "3", "--name", "Essai en direct")

    campaign = Campaign.objects.get()
    assert campaign.name == "Essai en direct"
    assert campaign.synthetic is True
    assert campaign.respondents.count() == 50
    lines = output.splitlines()
    assert lines[:3] == [
        "[############..................]  40 % (20/50 répondants)",
        "[########################......]  80 % (40/50 répondants)",
        "[##############################] 100 % (50/50 répondants)",
    ]
    assert "Campagne « Essai en direct » créée (données fictives, graine 3) : 50 répondants" in lines[3]
    assert lines[4] == f"Identifiant de la campagne : {campaign.uuid}"


def test_command_defaults_to_500_respondents_and_seed_2024():
    parser = GenerateDemoCampaign().create_parser("manage.py", "generate_demo_campaign")

    options = parser.parse_args([])

    assert (options.respondents, options.seed, options.name, options.analyst) == (500, 2024, None, None)


def test_command_gives_the_same_data_as_the_function_for_the_same_seed(version):
    output = run_command("--respondents", "60", "--seed", "42")

    campaign = Campaign.objects.get()
    assert "graine 42" in output
    assert fingerprint(campaign) == fingerprint(generate_synthetic_campaign(respondents=60, seed=42))


@pytest.mark.parametrize("count", ["0", "-5", "100001"])
def test_command_refuses_a_count_out_of_range(version, count):
    with pytest.raises(CommandError, match="Le nombre de répondants doit être compris entre 1 et 100000") as error:
        run_command("--respondents", count)

    assert error.value.returncode == 1
    assert Campaign.objects.count() == 0


def test_command_refuses_when_no_grid_is_loaded(db):
    with pytest.raises(CommandError, match="Aucune grille publiée n'est chargée") as error:
        run_command("--respondents", "10")

    assert error.value.returncode == 1
    assert Campaign.objects.count() == 0


def test_command_refuses_an_unknown_analyst(version):
    with pytest.raises(CommandError, match="Aucune personne n'a l'adresse personne@exemple.fr"):
        run_command("--respondents", "10", "--analyst", "personne@exemple.fr")

    assert Campaign.objects.count() == 0


def test_command_exits_non_zero_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "manage.py", "generate_demo_campaign", "--respondents", "0"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )

    assert result.returncode == 1
    assert "Le nombre de répondants doit être compris entre 1 et 100000" in result.stderr
    assert result.stdout == ""
