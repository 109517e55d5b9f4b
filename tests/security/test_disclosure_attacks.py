"""The attacks of issue 10, written as the attacker would run them.

Each attacker has only what their role reaches over HTTP (a Django test client signed in as
them): the analyst of a campaign reads the results through the API (`filtre`, `comparer`), the
aggregates XLSX and the tracking page; a facilitator or member reads the team page, XLSX and
API; a peer reads the peer comparison page. The attacker's arithmetic turns what they read into
guesses of hidden values; the truth, read from the database, only scores the guesses.

What "no better than chance" means here, per attack:
- a hidden count (a cell, a segment size, a group of people still answering): chance is the hit
  rate of the best constant guess on the very same cells (the most frequent true value among
  them), which needs no attack at all;
- a person's level on a practice: chance is guessing the most frequent level of the population
  on that practice (always at least 1/5, one of the five options).
An attack passes when its exact-recovery rate is at most chance + TOLERANCE. TOLERANCE is 0.10:
the seeds are fixed (record keys included), so each rate is the same on every run, but a rate
over the 120–200 trials of a person's levels has a binomial spread of ~0.035–0.045 around what
the method gives, and a small group published as a whole legitimately tells a little about each
of its members: more so to someone who controls several of them (4 sybils among 10 peers read
the target about 0.04–0.09 above chance over 480 trials, one account alone about 0.03). An
attack that works, as they did before issue 10, recovers 80–100 % of the cells, far above
chance + 0.10; reading 4 accounts' comparisons when each had its own noise gave 0.10–0.14
above chance.

Where a view is refused or shows nothing (batches, a pool withheld after a departure until a
batch of brand-new contributions, the bounded query space), the attack simply gets nothing:
the tests assert that too. The study attacks share one synthetic campaign (module fixture, in a
transaction rolled back at the end; each test in a savepoint of it), to keep the module near a
minute and a half on SQLite.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections import Counter

import openpyxl
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from grille.accounts.services import create_api_token
from grille.assessments import peers
from grille.assessments.models import PeerShare
from grille.assessments.services import AnswerInput, save_answers, submit_assessment
from grille.disclosure.models import PoolRelease
from grille.disclosure.policy import ANONYMOUS_BATCH, ANONYMOUS_MIN
from grille.disclosure.ptable import default_ptable
from grille.organisations import services as org_services
from grille.organisations.models import Membership
from grille.studies import services as study_services
from grille.studies.models import ProfileQuestion, Respondent
from tests.organisations.conftest import join, make_person, submitted_positioning

from . import attack_data
from .attack_data import (
    Score,
    Study,
    View,
    cell_likelihood,
    draw_answers,
    level_guess,
    level_modes,
    make_study,
    practice_priors,
    prior_mode,
)

TOLERANCE = 0.10
K = 5  # the demo campaign's threshold
RESPONDENTS = 300
SINGLE = ("structure", "territoire", "outre-mer", "region", "anciennete", "role")
MULTIPLE = ("ingenieries", "ecosystemes", "metiers")


def _no_better_than_chance(score: Score, chance: float, *, minimum_trials: int) -> None:
    print(score)
    assert score.trials >= minimum_trials, f"{score.name}: too few cells to judge ({score.trials})"
    assert score.rate <= chance + TOLERANCE, f"{score}: the attack beats chance ({chance:.3f}) + {TOLERANCE}"


@pytest.fixture(scope="module")
def _shared_study(django_db_setup, django_db_blocker):
    """One synthetic campaign for every study attack of the module (it takes seconds to make),
    inside a transaction rolled back at the end of the module: each test runs in a savepoint
    of it (the `db` fixture), so what a test changes (answers, withdrawals) is gone after it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("load_framework", verbosity=0, stdout=io.StringIO())
            yield make_study(respondents=RESPONDENTS, seed=2024)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def study(_shared_study, db, grid) -> Study:
    attack_data.LEVEL_BY_LABEL.update({o.label: o.code for o in grid.level.options})
    # What an earlier test changed was rolled back with its savepoint.
    assert Respondent.objects.filter(campaign=_shared_study.campaign).count() == RESPONDENTS
    return _shared_study


def _options(study: Study, code: str) -> list[str]:
    return [c for c, _label in ProfileQuestion.objects.get(campaign=study.campaign, code=code).options]


def _true_counts(levels: dict[int, dict[str, str]], people: set[int]) -> dict[str, Counter]:
    counts: dict[str, Counter] = {}
    for person in people:
        for practice, level in levels.get(person, {}).items():
            counts.setdefault(practice, Counter())[level] += 1
    return counts


# -- (a) one row is enough -------------------------------------------------------------------


@pytest.mark.django_db
def test_one_row_subtraction_does_not_give_back_hidden_cells(study):
    """API row: the group's size, « Réponses » and the mean's n, minus the shown level cells."""
    levels = study.levels()
    views = [()] + [(f"{q}:{o}",) for q in ("structure", "region", "role", "anciennete") for o in _options(study, q)]
    score = Score("one row: hidden level counts")
    refused = 0
    for filters in views:
        view = study.results(filters)
        if not view.shown:
            refused += 1
            assert not view.shows_anything()
            continue
        truth = _true_counts(levels, study.members(filters))
        for practice, row in view.practices.items():
            hidden = [level for level, value in row.levels.items() if value is None]
            if not hidden:
                continue
            shown = {level: value for level, value in row.levels.items() if value is not None}
            shown_valued = sum(v for level, v in shown.items() if level != "nc")
            # Nothing published beside a count gives it back: the only exact-looking figures a
            # row has are sums of its shown cells.
            assert row.total in (None, sum(shown.values()))
            assert row.mean_n in (None, shown_valued)
            remainder = view.size - sum(shown.values())
            for level in hidden:
                guess = max(0, round(remainder / len(hidden)))
                score.add(guess, truth.get(practice, Counter())[level])
    _no_better_than_chance(score, score.best_constant_rate(), minimum_trials=200)
    assert refused < len(views)


@pytest.mark.django_db
def test_aggregates_xlsx_shows_the_same_protected_figures_as_the_api(study):
    for filters in [(), ("structure:association",), ("region:bre",), ("region:cor",)]:
        api, xlsx = study.results(filters), study.xlsx(filters)
        assert xlsx.status == 200
        assert xlsx.size == api.size
        for practice, row in api.practices.items():
            assert xlsx.practices[practice].levels == row.levels
            assert xlsx.practices[practice].total == row.total
            assert xlsx.practices[practice].mean_n == row.mean_n


# -- (b) two overlapping filters ---------------------------------------------------------------


def _overlapping_pairs(study: Study, limit: int) -> list[tuple[str, str, set[int]]]:
    """(A, B, people of A but not B) where 1 to 4 people are in A but not in B: the attacker
    gets them by trying filters; the test picks them from the truth to spare the search."""
    profiles, released = study.profiles(), study.released_ids()
    filters = [
        (q, o) for q in (*SINGLE, *MULTIPLE) for o in {o for p in profiles.values() for o in p.get(q, set())}
    ]
    members = {
        f: {r for r in released if f[1] in profiles.get(r, {}).get(f[0], set())} for f in filters
    }
    pairs = []
    for a, b in itertools.permutations(sorted(filters), 2):
        if a[0] == b[0]:
            continue
        only_a = members[a] - members[b]
        if 1 <= len(only_a) <= 4 and len(members[a] & members[b]) >= K:
            pairs.append((f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}", only_a))
    generator = attack_data.seeded(7)
    generator.shuffle(pairs)
    # Prefer pairs that isolate one person: the attack of the issue.
    pairs.sort(key=lambda p: len(p[2]))
    return pairs[:limit]


@pytest.mark.django_db
def test_two_overlapping_filters_do_not_give_back_the_people_in_between(study):
    levels = study.levels()
    modes = level_modes(levels, study.released_ids())
    pairs = _overlapping_pairs(study, 30)
    assert len(pairs) >= 20
    person = Score("A minus A∧B: one person's levels")
    cells = Score("A minus A∧B: level counts of the 1–4 people")
    nothing = 0
    for a, b, only_a in pairs:
        wide, narrow = study.results([a]), study.results([a, b])
        if not (wide.shown and narrow.shown):
            nothing += 1
            assert not narrow.shows_anything() or not wide.shows_anything()
            continue
        truth = _true_counts(levels, only_a)
        for practice in wide.practices:
            w, n = wide.practices[practice], narrow.practices[practice]
            for level in w.levels:
                if w.levels[level] is not None and n.levels[level] is not None:
                    cells.add(w.levels[level] - n.levels[level], truth.get(practice, Counter())[level])
            if len(only_a) == 1:
                (target,) = only_a
                estimate = None
                if w.mean is not None and n.mean is not None:
                    estimate = w.mean_n * w.mean - n.mean_n * n.mean
                real = levels[target][practice]
                person.add(level_guess(estimate, modes[practice]), real, chance_hit=modes[practice] == real)
    print(f"two filters: {nothing} of {len(pairs)} narrower views showed nothing")
    if person.trials:
        _no_better_than_chance(person, person.chance_rate(), minimum_trials=24)
    if cells.trials:
        _no_better_than_chance(cells, cells.best_constant_rate(), minimum_trials=24)
    assert nothing + (person.trials > 0) + (cells.trials > 0) > 0


@pytest.mark.django_db
def test_a_third_profile_question_is_refused(study):
    response = study.api(["structure:association", "territoire:rural", "anciennete:2-5"])
    assert response.status_code == 400
    response = study.api(["structure:association", "territoire:rural"], compare="role")
    assert response.status_code == 400


# -- (c) a comparison with and without a filter ------------------------------------------------


@pytest.mark.django_db
def test_comparison_with_and_without_filter_does_not_give_back_hidden_segments(study):
    levels = study.levels()
    modes = level_modes(levels, study.released_ids())
    sizes = Score("hidden segment sizes")
    person = Score("one-person hidden segment: levels")
    profiles = study.profiles()
    groups = [(), ("structure:association",), ("structure:commune",), ("anciennete:5-10",)]
    for filters in groups:
        whole = study.results(filters)
        if not whole.shown:
            continue
        people = study.members(filters, profiles=profiles)
        for question in ("territoire", "anciennete", "role", "region"):
            if filters and filters[0].startswith(question + ":"):
                continue
            compared = study.results(filters, compare=question)
            assert compared.status == 200
            segments = compared.segments
            hidden = [code for code, (size, _means) in segments.items() if size is None]
            if not hidden:
                continue
            remainder = whole.size - sum(size for size, _means in segments.values() if size is not None)
            members = {code: study.members([f"{question}:{code}"], people, profiles) for code in segments}
            for code in hidden:
                sizes.add(max(0, round(remainder / len(hidden))), len(members[code]))
            if len(hidden) == 1 and len(members[hidden[0]]) == 1:
                (target,) = members[hidden[0]]
                for practice, row in whole.practices.items():
                    shown_sums = [means[practice] for size, means in segments.values() if size is not None]
                    estimate = None
                    if row.mean is not None and all(m is not None for m in shown_sums):
                        estimate = (row.mean_n * row.mean - sum(n * m for n, m in shown_sums)) / max(1, remainder)
                    real = levels[target][practice]
                    person.add(level_guess(estimate, modes[practice]), real, chance_hit=modes[practice] == real)
    _no_better_than_chance(sizes, sizes.best_constant_rate(), minimum_trials=30)
    if person.trials:
        _no_better_than_chance(person, person.chance_rate(), minimum_trials=24)


# -- (d) tracking against results --------------------------------------------------------------


@pytest.mark.django_db
def test_tracking_minus_results_does_not_give_back_small_counts(study):
    profiles = study.profiles()
    released = study.released_ids()
    submitted = set(
        Respondent.objects.filter(campaign=study.campaign, assessment__status="submitted").values_list("pk", flat=True)
    )
    drafts = Score("started minus completed per segment (people still answering)")
    for question in (*SINGLE, *MULTIPLE):
        labels = dict(ProfileQuestion.objects.get(campaign=study.campaign, code=question).options)
        tracked = study.tracking(question)
        compared = study.results(compare=question)
        for code, label in labels.items():
            started_true = {r for r, p in profiles.items() if code in p.get(question, set())}
            still = len(started_true - submitted)
            if still >= 2 * K:
                continue  # a large count: the tracking page may show it
            started, completed = tracked.get(label, (None, None))
            size = compared.segments.get(code, (None, {}))[0]
            if started is None:
                guess = 0
            elif size is not None:
                guess = max(0, started - size - len((started_true & submitted) - released))
            elif completed is not None:
                guess = max(0, started - completed)
            else:
                guess = 0
            drafts.add(guess, still)
    _no_better_than_chance(drafts, drafts.best_constant_rate(), minimum_trials=30)


# -- (e) before and after one respondent answers ----------------------------------------------


def _answer_like(study: Study, model: int, levels: dict[int, dict[str, str]], profiles, generator) -> Respondent:
    """A new respondent answers with the profile and levels of an existing one (realistic data)."""
    respondent = study_services.start_response(
        campaign=study.campaign, link_key=study_services.open_link_key(), consent_version=1
    )
    attack_data.seed_record_key(respondent.assessment, generator)
    study_services.save_profile_answers(
        respondent=respondent, answers={q: sorted(o) for q, o in profiles[model].items()}
    )
    save_answers(
        assessment=respondent.assessment,
        items=[AnswerInput(practice_code=p, level=level) for p, level in levels[model].items()],
    )
    submit_assessment(assessment=respondent.assessment)
    return respondent


def _guess_from_change(before: View, after: View, practice: str, prior: str, *, sign: int) -> str:
    """The level whose published count moved most in the expected direction (the person's level if
    they were alone in the change); the prior when nothing moved."""
    moves = {}
    for level in before.practices[practice].levels:
        b, a = before.practices[practice].levels[level], after.practices[practice].levels[level]
        if a is not None and b is not None:
            moves[level] = sign * (a - b)
    if not moves or max(moves.values()) <= 0:
        return prior
    best = max(moves.values())
    tied = [level for level, move in moves.items() if move == best]
    return prior if prior in tied else tied[0]


def _figures(view: View) -> tuple:
    return (view.size, {p: (r.levels, r.total, r.mean_n, r.mean) for p, r in view.practices.items()})


@pytest.mark.django_db
def test_results_before_and_after_one_respondent_answers(study):
    levels, profiles = study.levels(), study.profiles()
    released = sorted(study.released_ids())
    modes = level_modes(levels, released)
    generator = attack_data.seeded(11)
    person = Score("before/after answering: the newcomer's levels")
    for _target in range(5):
        models = generator.sample(released, K)
        before = study.results()
        target = _answer_like(study, models[0], levels, profiles, generator)
        alone = study.results()
        # Fewer than a batch: the published results have not moved at all.
        assert _figures(alone) == _figures(before)
        for model in models[1:]:
            _answer_like(study, model, levels, profiles, generator)
        after = study.results()
        assert _figures(after) != _figures(before)
        assert target.pk in study.released_ids()
        for practice in before.practices:
            real = levels[models[0]][practice]
            guess = _guess_from_change(before, after, practice, modes[practice], sign=+1)
            person.add(guess, real, chance_hit=modes[practice] == real)
    _no_better_than_chance(person, person.chance_rate(), minimum_trials=100)


@pytest.mark.django_db
def test_results_before_and_after_one_respondent_withdraws(study):
    """A withdrawal hides the results until a batch of K brand-new respondents is released: the
    attacker compares the last results before it with the first after it."""
    levels, profiles = study.levels(), study.profiles()
    released = sorted(study.released_ids())
    modes = level_modes(levels, released)
    generator = attack_data.seeded(12)
    person = Score("before/after withdrawing: the leaver's levels")
    models = list(released)  # the respondents of the campaign: the newcomers answer like them
    for target in generator.sample(models, 5):
        before = study.results()
        study_services.withdraw_response(respondent=Respondent.objects.get(pk=target))
        withheld = study.results()
        # Never the results minus one person: nothing at all.
        assert not withheld.shows_anything()
        newcomers = [
            _answer_like(study, model, levels, profiles, generator) for model in generator.sample([m for m in models if m != target], K)
        ]
        after = study.results()
        assert after.shown
        now = study.released_ids()
        assert set(released) - now == {target}
        assert now - set(released) == {r.pk for r in newcomers}
        for practice in before.practices:
            real = levels[target][practice]
            person.add(
                _guess_from_change(before, after, practice, modes[practice], sign=-1), real,
                chance_hit=modes[practice] == real,
            )
        released = sorted(now)
    _no_better_than_chance(person, person.chance_rate(), minimum_trials=100)


# -- teams ---------------------------------------------------------------------------------------


class Team:
    """An organisation whose facilitator is the attacker (API, XLSX, page), and its members."""

    def __init__(self, version, grid, priors, generator, name: str):
        self.version, self.grid, self.priors, self.generator = version, grid, priors, generator
        self.facilitator_user = make_person(f"anim-{name}@exemple.fr", "Anim")
        self.organisation = org_services.create_organisation(user=self.facilitator_user, name=f"Équipe {name}", structure_type="epci")
        self.facilitator = Membership.objects.get(organisation=self.organisation, user=self.facilitator_user)
        self.client = Client()
        self.client.force_login(self.facilitator_user)
        self.token = create_api_token(user=self.facilitator_user, name="Attaque")[1]
        self.answers: dict[int, dict[str, str]] = {}  # membership id -> practice -> level
        self._count = 0
        self.name = name

    def member(self, answers: dict[str, str] | None = None, *, mode: str | None = "anonymous") -> Membership:
        self._count += 1
        user = make_person(f"m{self._count}-{self.name}@exemple.fr", f"Membre {self._count}")
        membership = join(self.facilitator, user)
        answers = answers or draw_answers(self.priors, self.generator)
        self.answers[membership.pk] = answers
        if mode:
            self.share(membership, mode)
        return membership

    def share(self, membership: Membership, mode: str = "anonymous") -> None:
        assessment = submitted_positioning(membership.user, self.version, self.answers[membership.pk])
        attack_data.seed_record_key(assessment, self.generator)
        org_services.share_assessment(membership=membership, assessment=assessment, mode=mode)

    def read(self) -> dict[str, dict[str, int]] | None:
        """practice -> level -> the team's published count, from the API (None: nothing shown)."""
        response = self.client.get(
            f"{attack_data.API}/structures/{self.organisation.uuid}/equipe", HTTP_AUTHORIZATION=f"Bearer {self.token}"
        )
        assert response.status_code == 200
        data = response.json()
        return {row["practice"]: {cell["level"]: cell["count"] for cell in row["levels"]} for row in data["practices"]}, data

    def exact(self, members: list[Membership]) -> dict[str, dict[str, int]]:
        """practice -> level -> the exact count of these members' answers (truth side), in the
        shape of `read`: what the team shows when only its named members count."""
        levels = [o.code for o in self.grid.level.options]
        return {
            practice: {level: sum(self.answers[m.pk][practice] == level for m in members) for level in levels}
            for practice in self.priors
        }

    def read_xlsx(self) -> dict[str, dict[str, int]]:
        response = self.client.get(f"/organisations/{self.organisation.uuid}/equipe.xlsx")
        assert response.status_code == 200
        content = b"".join(response.streaming_content) if response.streaming else response.content
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        rows = list(book["Pratiques"].iter_rows(values_only=True))
        header = [str(h) for h in rows[0]]
        prefix = f"{self.grid.level.label} : "
        columns = {
            i: next(o.code for o in self.grid.level.options if o.label == name[len(prefix):])
            for i, name in enumerate(header) if name.startswith(prefix)
        }
        return {
            str(row[0]): {code: int(row[i] or 0) for i, code in columns.items()}
            for row in rows[1:] if row and row[0] and re.fullmatch(r"\d+\.\d+", str(row[0]))
        }


def _team_guess(before, after, practice: str, prior: dict[str, float], *, sign: int) -> str:
    moves = {level: sign * (after[practice].get(level, 0) - before[practice].get(level, 0)) for level in before[practice]}
    best = max(moves.values())
    if best <= 0:
        return prior_mode(prior)
    tied = [level for level, move in moves.items() if move == best]
    return max(tied, key=prior.get)


@pytest.mark.django_db
def test_team_before_and_after_an_anonymous_member_moves(version, grid):
    """The facilitator reads the team before and after an anonymous member joins, withdraws,
    leaves or is removed. One join moves nothing; a departure hides the anonymous shares until
    a batch of brand-new ones: the attacker compares the last reading before with the first
    after, where the member is one of a batch."""
    priors = practice_priors([p.code for p in grid.practices], seed=31)
    generator = attack_data.seeded(32)
    team = Team(version, grid, priors, generator, "avant-apres")
    named = [team.member(mode="named") for _named in range(2)]
    anonymous = [team.member() for _ in range(12)]
    score = Score("team before/after: the moving member's levels")

    def attack(target_answers, before, after, sign):
        for practice, prior in priors.items():
            real = target_answers[practice]
            score.add(_team_guess(before, after, practice, prior, sign=sign), real, chance_hit=prior_mode(prior) == real)

    for event in ["join", "withdraw", "leave", "removed"] * 2:
        before, data = team.read()
        assert data["approximate"] and data["anonymous"] >= ANONYMOUS_MIN
        if event == "join":
            newcomer = team.member()
            alone, _data = team.read()
            assert alone == before  # one join: not a figure has moved
            for _other in range(ANONYMOUS_BATCH - 1):
                team.member()
            after, _data = team.read()
            attack(team.answers[newcomer.pk], before, after, +1)
            continue
        target = anonymous.pop(generator.randrange(len(anonymous)))
        if event == "withdraw":
            org_services.withdraw_share(membership=target)
        elif event == "leave":
            org_services.remove_member(by=target, target=target)
        else:
            org_services.remove_member(by=team.facilitator, target=target)
        withheld, data = team.read()
        # Never the team minus one anonymous member: the named members' exact answers only.
        assert (data["anonymous"], data["approximate"]) == (0, False)
        assert withheld == team.exact(named)
        for _newcomer in range(ANONYMOUS_BATCH):
            team.member()
        after, data = team.read()
        assert data["approximate"] and data["anonymous"] >= ANONYMOUS_MIN
        attack(team.answers[target.pk], before, after, -1)
    assert team.read_xlsx() == team.read()[0]
    _no_better_than_chance(score, score.chance_rate(), minimum_trials=150)


@pytest.mark.django_db
@pytest.mark.parametrize(("sybils", "others"), [(2, 0), (3, 2), (4, 1)])
def test_team_sybils_do_not_read_the_target(version, grid, sybils, others):
    """The attacker controls `sybils` members who share anonymously with known answers; the
    target (and `others` unknown people) share anonymously too; the attacker, as facilitator,
    subtracts what the named member shows and reads the anonymous pool. A pool of fewer than
    ANONYMOUS_MIN shows nothing at all."""
    table = default_ptable()
    priors = practice_priors([p.code for p in grid.practices], seed=41)
    generator = attack_data.seeded(42 + sybils)
    pool_size = 1 + sybils + others
    score = Score(f"team with {sybils} sybils and {others} others: the target's levels")
    # For the record: the same reading by someone who knows none of the accounts.
    outsider = Score(f"team pool of {pool_size} read without the sybils' answers")
    refused = shown = 0
    # Pools shown to attack (a pool of 6 reads below k after noise one time in five): 6 × 24 practices.
    wanted = 6 if pool_size >= ANONYMOUS_MIN else 0
    rounds = 0
    while shown < wanted or rounds < 2:
        assert rounds < 20, "the pools keep showing nothing"
        rounds += 1
        team = Team(version, grid, priors, generator, f"sybil-{sybils}-{rounds}")
        target = team.member()
        unknown = [team.member() for _ in range(others)]
        accounts = [team.member() for _ in range(sybils)]
        named = [team.member(mode="named")]
        counts, data = team.read()
        if not data["approximate"] or data["anonymous"] == 0:
            refused += 1  # the pool shows nothing: the attack gets nothing
            assert counts == team.exact(named)
            continue
        assert pool_size >= ANONYMOUS_MIN
        assert data["anonymous_pending"] == 0, "the test wants the whole pool published"
        shown += 1
        for practice, prior in priors.items():
            known = Counter(team.answers[m.pk][practice] for m in accounts)
            named_counts = Counter(team.answers[m.pk][practice] for m in named)
            reading = {level: (n - named_counts[level]) or None for level, n in counts[practice].items()}
            guess = _bayes_multi([reading], [known], len(unknown), prior, ANONYMOUS_MIN, table)
            real = team.answers[target.pk][practice]
            score.add(guess, real, chance_hit=prior_mode(prior) == real)
            blind = _bayes_multi([reading], [Counter()], len(unknown) + sybils, prior, ANONYMOUS_MIN, table)
            outsider.add(blind, real, chance_hit=prior_mode(prior) == real)
    print(f"team sybils {sybils} + {others}: {refused} of {rounds} pools showed nothing")
    if pool_size < ANONYMOUS_MIN:
        assert refused == rounds
        return
    print(outsider)
    _no_better_than_chance(score, score.chance_rate(), minimum_trials=144)


# -- peers ---------------------------------------------------------------------------------------


def _peer(version, answers: dict[str, str], email: str, structure_type: str, generator):
    user = make_person(email, email)
    assessment = submitted_positioning(user, version, answers)
    attack_data.seed_record_key(assessment, generator)
    peers.join_benchmark(assessment=assessment, structure_type=structure_type)
    client = Client()
    client.force_login(user)
    return assessment, client


def _peer_reading(client: Client, assessment, grid, view: str) -> dict[str, dict[str, int | None]] | None:
    """practice -> level -> count of peers, read from the comparison page (share × « pairs
    comptés »); None when the page shows no comparison."""
    response = client.get(f"/positionnements/{assessment.uuid}/pairs/", {"type": view})
    assert response.status_code in (200, 400)
    codes = [o.code for o in grid.level.options]
    result = {}
    for table_rows in attack_data.tables(response.content.decode()):
        for row in table_rows:
            match = re.match(r"(\d+\.\d+)\b", row[0]) if row else None
            if not match or len(row) < 3 + len(codes):
                continue
            total = attack_data.number(row[2 + len(codes)])
            shares = [attack_data.number(cell) for cell in row[2:2 + len(codes)]]
            result[match.group(1)] = {
                code: (None if share is None or total is None else round(share * total / 100))
                for code, share in zip(codes, shares, strict=True)
            }
    return result or None


@pytest.mark.django_db
@pytest.mark.parametrize(("sybils", "others", "rounds"), [(4, 0, 1), (2, 7, 3), (4, 5, 5)])
def test_peer_sybils_do_not_read_the_target(version, grid, sybils, others, rounds):
    """The attacker joins the peer comparison with `sybils` accounts of known answers, beside the
    target and `others` unknown peers, and reads the comparison (all peers, and the peers of the
    target's type) from every account. Each account sees the group minus itself: before the
    group was perturbed as a whole, that was a different population each, hence a fresh noise
    each, and 4 accounts averaged it away (4 sybils + 5 others told the target's levels well
    above chance); now every account reads the same noise less its own exact answers."""
    table = default_ptable()
    priors = practice_priors([p.code for p in grid.practices], seed=51)
    generator = attack_data.seeded(52 + sybils + others)
    score = Score(f"peers with {sybils} sybils and {others} others: the target's levels")
    # The attacker who knows the design: adding each account's own answers back to what it reads
    # gives the group's perturbed figures, the same from every account (asserted); one reading
    # per view, every sybil known (and, generously, the exact number of unknown peers per view).
    rebuilt = Score(f"peers with {sybils} sybils and {others} others, the group rebuilt: the target's levels")
    # For the record: one account's view, read as if the other accounts were strangers.
    outsider = Score(f"peers: one view of the pool, without the sybils' answers ({sybils} + {others})")
    refused = 0
    for round_ in range(rounds):
        PeerShare.objects.all().delete()
        PoolRelease.objects.all().delete()
        target_answers = draw_answers(priors, generator)
        _peer(version, target_answers, f"cible-{round_}@exemple.fr", "association", generator)
        types = [generator.choice(["association", "commune"]) for _i in range(others)]
        for i, structure_type in enumerate(types):
            _peer(version, draw_answers(priors, generator), f"autre-{round_}-{i}@exemple.fr", structure_type, generator)
        unknown = {"tous": others, "association": types.count("association")}
        accounts = []
        for i in range(sybils):
            answers = draw_answers(priors, generator)
            accounts.append((answers, *_peer(version, answers, f"sybille-{round_}-{i}@exemple.fr", "association", generator)))
        readings_by_account = []
        for answers, assessment, client in accounts:
            views = {v: r for v in ("tous", "association") if (r := _peer_reading(client, assessment, grid, v))}
            readings_by_account.append((answers, views))
        if not any(views for _a, views in readings_by_account):
            refused += 1
            continue
        for practice, prior in priors.items():
            real = target_answers[practice]
            readings, known_sets = [], []
            for answers, views in readings_by_account:
                # Each account sees the other accounts, not itself.
                known = Counter(a[practice] for a, _v in readings_by_account if a is not answers)
                for view in views.values():
                    readings.append(view[practice])
                    known_sets.append(known)
            guess = _bayes_multi(readings, known_sets, others, prior, 5, table)
            score.add(guess, real, chance_hit=prior_mode(prior) == real)
            everyone = Counter(a[practice] for a, _v in readings_by_account)
            groups, thresholds = [], []
            for view in ("tous", "association"):
                group, threshold = {}, {}
                for level in prior:
                    own = [(answers[practice] == level, views[view][practice][level])
                           for answers, views in readings_by_account if view in views]
                    rebuilt_counts = {shown + mine for mine, shown in own if shown is not None}
                    assert len(rebuilt_counts) <= 1, "two accounts read different noises on the same group"
                    group[level] = rebuilt_counts.pop() if rebuilt_counts else None
                    # Hidden to an account holding `mine` there: the group reads below k + mine.
                    threshold[level] = 5 + min((mine for mine, _shown in own), default=0)
                if any(view in views for _a, views in readings_by_account):
                    groups.append((view, group))
                    thresholds.append(threshold)
            rebuilt.add(
                _bayes_rebuilt(groups, thresholds, everyone, unknown, prior, table), real,
                chance_hit=prior_mode(prior) == real,
            )
            if readings:
                blind = _bayes_multi(readings[:1], [Counter()], others + sybils - 1, prior, 5, table)
                outsider.add(blind, real, chance_hit=prior_mode(prior) == real)
    print(outsider)
    if others + sybils < 5:
        # Every account sees fewer than k peers: the comparison is refused.
        assert refused == rounds
        return
    _no_better_than_chance(rebuilt, rebuilt.chance_rate(), minimum_trials=24 * rounds)
    _no_better_than_chance(score, score.chance_rate(), minimum_trials=24 * rounds)
    assert refused == 0


def _bayes_rebuilt(groups, thresholds, known, unknown, prior, table) -> str:
    """The target's most likely level given the group's perturbed counts of each view (None:
    hidden below that level's threshold), the sybils' answers, and `unknown[view]` other peers."""
    best, best_p = None, -1.0
    for hypothesis in prior:
        p = prior[hypothesis]
        for (view, group), threshold in zip(groups, thresholds, strict=True):
            n = unknown[view]
            for level, shown in group.items():
                base = known.get(level, 0) + (hypothesis == level)
                q = prior[level]
                p *= sum(
                    math.comb(n, x) * q**x * (1 - q) ** (n - x) * cell_likelihood(shown, base + x, threshold[level], table)
                    for x in range(n + 1)
                )
        if p > best_p:
            best, best_p = hypothesis, p
    return best


def _bayes_multi(readings, known_sets, unknown_people, prior, k, table) -> str:
    best, best_p = None, -1.0
    for hypothesis in prior:
        p = prior[hypothesis]
        for reading, known in zip(readings, known_sets, strict=True):
            for level, shown in reading.items():
                base = known.get(level, 0) + (hypothesis == level)
                if unknown_people:
                    q = prior[level]
                    p *= sum(
                        math.comb(unknown_people, x) * q**x * (1 - q) ** (unknown_people - x)
                        * cell_likelihood(shown, base + x, k, table)
                        for x in range(unknown_people + 1)
                    )
                else:
                    p *= cell_likelihood(shown, base, k, table)
        if p > best_p:
            best, best_p = hypothesis, p
    return best
