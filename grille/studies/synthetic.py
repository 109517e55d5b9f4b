"""Synthetic study campaigns, to try the study side of Grille without real data.

Everything is drawn from one numpy generator seeded by the caller, in a fixed order and before
anything is written, so the same seed gives the same campaign whatever the batch size. Rows are
then written with bulk_create, one transaction per batch of respondents: the number of queries
grows with the number of batches, never with the number of respondents.

The drawing is plausible, not a model of the real population: the profile follows rough weights
(many associations and local authorities, regions of uneven size), practice levels follow the
profile (catalysis raises situations 4–7, management and public management raise 1–3, experience
raises everything), a few practices are « Non concerné·e », and responses arrive mostly in the
first days, with bumps after reminders, so tracking curves look like those of a real wave.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Answer, Assessment
from grille.core.users import User
from grille.frameworks import grid as g
from grille.frameworks.selectors import get_default_version, get_grid

from .enums import QuestionKind
from .models import CAMPAIGN_NAME_MAX, Campaign, ProfileAnswer, ProfileQuestion, Respondent
from .pools import settle_campaign
from .services import StudyError, create_campaign, current_consent

MAX_RESPONDENTS = 100_000
BATCH_SIZE = 2_000  # respondents per transaction
INSERT_BATCH_SIZE = 2_000  # rows per INSERT statement (PostgreSQL; SQLite caps it lower itself)
MAX_CHOICES = 3  # a multiple-choice profile question gets 1 to 3 options

Progress = Callable[[int, int], None]
# question code -> (its option codes, who chose each option)
Drawn = dict[str, tuple[list[str], np.ndarray]]
# question code -> (the question, who chose each option)
ByCode = dict[str, tuple[ProfileQuestion, np.ndarray]]


class SyntheticDataError(StudyError):
    """The synthetic campaign cannot be generated; the message is for the person running it."""


# --- Profile weights ------------------------------------------------------------------------
# Keyed by the codes of the default profile questions (enums.DEFAULT_PROFILE_QUESTIONS); a
# question or option not listed here is drawn uniformly, so an edited question list still works.

LOCAL_AUTHORITIES = ("commune", "epci", "departement", "region", "autre-collectivite")
CIVIL_SOCIETY = ("association", "fondation")
OVERSEAS = ("gua", "guy", "mar", "may", "reu")

BASE_WEIGHTS: dict[str, dict[str, float]] = {
    "structure": {
        "commune": 13, "epci": 16, "departement": 6, "region": 4, "autre-collectivite": 5, "etat": 7,
        "association": 24, "fondation": 4, "entreprise": 8, "academique": 5, "autre": 8,
    },
    "outre-mer": {"hexagone": 93, "outre-mer": 7},
    "region": {
        "ara": 12, "bfc": 5, "bre": 7, "cvl": 4, "cor": 1, "ges": 7, "hdf": 7, "idf": 13, "nor": 5,
        "naq": 11, "occ": 11, "pdl": 7, "pac": 8, "gua": 2, "guy": 1, "mar": 2, "may": 1, "reu": 3,
    },
    "territoire": {"rural": 28, "periurbain": 18, "urbain": 20, "metropolitain": 12, "mixte": 22},
    "ingenieries": {"gestion-publique": 3, "management-projets": 4, "catalyse": 3},
    "ecosystemes": {"organisation": 5, "equipes-projets": 4, "partenaires-territoriaux": 5, "partenaires-nationaux": 2},
    "metiers": {"dialogue": 5, "experimentations": 3, "cooperations": 4, "lieux": 1.5},
    "anciennete": {"moins-2": 14, "2-5": 28, "5-10": 30, "plus-10": 28},
    "role": {"direction": 16, "chef-projet": 30, "charge-mission": 40, "elu": 4, "autre": 10},
}
# How many options a multiple-choice question gets: 1, 2 or 3.
CHOICE_COUNT_WEIGHTS = (0.45, 0.35, 0.20)

# Multipliers applied for respondents of a given structure: {question: {structure: {option: x}}}.
BY_STRUCTURE: dict[str, dict[str, dict[str, float]]] = {
    "territoire": {
        "commune": {"rural": 2.0, "metropolitain": 0.4},
        "epci": {"rural": 1.5, "periurbain": 1.5, "metropolitain": 0.6},
        "departement": {"mixte": 2.5, "metropolitain": 0.3},
        "region": {"mixte": 4.0, "rural": 0.3},
    },
    "ingenieries": {
        **{s: {"gestion-publique": 2.0, "catalyse": 0.6} for s in LOCAL_AUTHORITIES},
        "etat": {"gestion-publique": 1.6},
        **{s: {"gestion-publique": 0.2, "catalyse": 2.0} for s in CIVIL_SOCIETY},
        "entreprise": {"gestion-publique": 0.3},
    },
    "metiers": {s: {"lieux": 2.0} for s in CIVIL_SOCIETY},
    "ecosystemes": {"etat": {"partenaires-nationaux": 2.0}},
    "role": {s: {"elu": 0.0} for s in ("etat", "association", "fondation", "entreprise", "academique", "autre")},
}
BY_REGION: dict[str, dict[str, dict[str, float]]] = {
    "territoire": {"idf": {"urbain": 2.0, "metropolitain": 2.5, "rural": 0.3}},
}
# Questions drawn first because others depend on them; the rest follow in campaign order.
DRAW_ORDER = ("structure", "outre-mer", "region", "territoire")

# --- Practice levels --------------------------------------------------------------------------
# Latent level on the 2024 scale (0–3), by situation code; other grids get the default.
SITUATION_BASE = {"1": 0.9, "2": 0.8, "3": 1.4, "4": 1.5, "5": 1.3, "6": 0.7, "7": 0.8, "8": 0.7}
DEFAULT_BASE = 1.1
# (profile question, option) -> (situation codes, shift of the latent level)
LEVEL_EFFECTS: list[tuple[str, str, tuple[str, ...], float]] = [
    ("ingenieries", "catalyse", ("4", "5", "6", "7"), 0.45),
    ("ingenieries", "gestion-publique", ("1", "2"), 0.45),
    ("ingenieries", "management-projets", ("3",), 0.45),
    ("ingenieries", "management-projets", ("8",), 0.15),
    *[("metiers", m, ("4", "5", "6", "7"), 0.15) for m in ("dialogue", "experimentations", "cooperations", "lieux")],
    *[("structure", s, ("1", "2", "8"), 0.2) for s in LOCAL_AUTHORITIES],
    *[("structure", s, ("4", "5"), 0.2) for s in CIVIL_SOCIETY],
    ("role", "direction", ("3", "7", "8"), 0.25),
]
EXPERIENCE_QUESTION = "anciennete"  # ordered options: each step up adds EXPERIENCE_STEP
EXPERIENCE_STEP = 0.22
PERSON_SD, PRACTICE_SD, ANSWER_SD = 0.4, 0.2, 0.65
# « Non concerné·e »: a base share, more for situations outside a structure's remit.
NOT_CONCERNED_BASE = 0.04
NOT_CONCERNED_OUTSIDE_REMIT = 0.08
PUBLIC_REMIT_SITUATIONS = ("2", "8")  # contracts and political steering
PUBLIC_STRUCTURES = (*LOCAL_AUTHORITIES, "etat")
WISH_MISSING, CARRYING_MISSING, NOT_CONCERNED_WISH_MISSING = 0.06, 0.10, 0.85
CARRYING_WEIGHTS = {"interne": 4.0, "partenariat": 3.0, "les-deux": 3.0, "a-definir": 1.2}
PARTNERSHIP_BOOST = 1.6  # for partnership options, in every axis after the first

# --- Timing -------------------------------------------------------------------------------------
OPENING_MONTH, OPENING_DAY, OPENING_HOUR = 5, 13, 9
CAMPAIGN_DAYS = 30
REMINDER_DAYS = (9, 20)
HOUR_WEIGHTS = (
    0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.3, 0.8, 1.4, 1.6, 1.4,
    0.7, 0.9, 1.4, 1.4, 1.2, 0.9, 0.5, 0.35, 0.3, 0.3, 0.15, 0.05,
)
WEEKEND_FACTOR = 0.35
MEDIAN_ANSWER_MINUTES = 20
CAME_BACK_LATER = 0.2  # share of submitters who finish on another day
CAME_BACK_MEAN_DAYS = 2.0


@dataclass
class _Plan:
    """Everything drawn for the campaign, one row per respondent, in arrival order."""

    start_offsets: np.ndarray  # seconds after opening
    submit_offsets: np.ndarray  # seconds after opening, -1 for a draft
    answered: np.ndarray  # number of practices answered, in grid order
    levels: np.ndarray  # (n, practices) option ids
    wishes: np.ndarray  # (n, practices) option ids, 0 when left empty
    carryings: np.ndarray  # (n, practices) option ids, 0 when left empty
    profile: dict[int, np.ndarray]  # question id -> (n, options) bool
    link_keys: bytes


def generate_synthetic_campaign(
    *, respondents: int, seed: int, name: str | None = None, year: int = 2024,
    completion_rate: float = 0.85, progress: Progress | None = None, analyst: User | None = None,
) -> Campaign:
    """Create a campaign marked « données fictives » with `respondents` synthetic respondents on
    the default published grid, the same for the same seed. round(respondents × completion_rate)
    of them have submitted; the others left a draft with part of the practices answered. `progress(done, total)` is called after each batch.
    `analyst`, if given, must be allowed to run studies and becomes the campaign's analyst.
    Raises SyntheticDataError, with nothing saved, when the request cannot be met."""
    _validate(respondents=respondents, seed=seed, name=name, year=year, completion_rate=completion_rate)
    version = get_default_version()
    if version is None:
        raise SyntheticDataError(
            _("Aucune grille publiée n'est chargée : lancez d'abord « python manage.py load_framework ».")
        )
    grid = get_grid(version)
    if not grid.practices or "level" not in grid.dimensions:
        raise SyntheticDataError(_("La grille publiée n'a ni pratiques ni niveau de pratique à remplir."))

    now = timezone.now()
    opens_at, closes_at = _campaign_dates(year, now)
    campaign = create_campaign(
        user=analyst,
        name=(name or _("Démonstration %(year)d (données fictives)") % {"year": year}).strip(),
        wave_year=year, version=version, opens_at=opens_at, closes_at=closes_at,
        introduction=_(
            "Campagne de démonstration générée automatiquement pour essayer Grille : aucun de ses "
            "chiffres ne décrit des personnes réelles."
        ),
        consent_text=_(
            "Données fictives : ces réponses ont été générées par un programme, aucune personne "
            "n'a répondu ni consenti."
        ),
        threshold=5, synthetic=True,
    )
    try:
        questions = list(ProfileQuestion.objects.filter(campaign=campaign).order_by("position", "id"))
        consent = current_consent(campaign)
        window = (min(closes_at, now) - opens_at).total_seconds()
        plan = _draw(
            rng=np.random.default_rng(seed), n=respondents, grid=grid, questions=questions,
            opens_at=opens_at, window=window, completion_rate=completion_rate,
        )
        for start in range(0, respondents, BATCH_SIZE):
            stop = min(start + BATCH_SIZE, respondents)
            _write_batch(campaign=campaign, consent_id=consent.pk, grid=grid, questions=questions,
                         plan=plan, start=start, stop=stop)
            if progress is not None:
                progress(stop, respondents)
        settle_campaign(campaign)
    except BaseException:
        # Interrupted or failed half-way: leave no half-made campaign behind.
        _discard(campaign)
        raise
    return campaign


def _validate(*, respondents: int, seed: int, name: str | None, year: int, completion_rate: float) -> None:
    if not 1 <= respondents <= MAX_RESPONDENTS:
        raise SyntheticDataError(
            _("Le nombre de répondants doit être compris entre 1 et %(max)d (demandé : %(n)d).")
            % {"max": MAX_RESPONDENTS, "n": respondents}
        )
    if seed < 0:
        raise SyntheticDataError(_("La graine doit être un entier positif ou nul."))
    if name is not None and not (0 < len(name.strip()) <= CAMPAIGN_NAME_MAX):
        raise SyntheticDataError(_("Le nom de la campagne doit compter de 1 à 200 caractères."))
    if not 2000 <= year <= timezone.now().year + 1:
        raise SyntheticDataError(_("L'année de la vague doit être comprise entre 2000 et l'an prochain."))
    if not 0 <= completion_rate <= 1:
        raise SyntheticDataError(_("Le taux de réponses complètes doit être compris entre 0 et 1."))


def _campaign_dates(year: int, now: datetime) -> tuple[datetime, datetime]:
    """Mid-May of the wave year for a month; a wave that would not have opened yet opens ten
    days ago instead, so that it has answers and is still open."""
    tz = timezone.get_default_timezone()
    opens_at = datetime(year, OPENING_MONTH, OPENING_DAY, OPENING_HOUR, tzinfo=tz)
    if opens_at > now - timedelta(days=1):
        opens_at = (now - timedelta(days=10)).astimezone(tz).replace(hour=OPENING_HOUR, minute=0, second=0, microsecond=0)
    return opens_at, opens_at + timedelta(days=CAMPAIGN_DAYS)


def _discard(campaign: Campaign) -> None:
    with transaction.atomic():
        # Deleting a respondent keeps its assessment: delete the assessments, the rest cascades.
        Assessment.objects.filter(study_respondent__campaign=campaign).delete()
        Campaign.objects.filter(pk=campaign.pk).delete()


# --- Drawing ----------------------------------------------------------------------------------

def _draw(*, rng: np.random.Generator, n: int, grid: g.Grid, questions: list[ProfileQuestion],
          opens_at: datetime, window: float, completion_rate: float) -> _Plan:
    start_offsets = np.sort(_arrival_offsets(rng, n, opens_at, window))
    submitted = rng.permutation(n) < round(n * completion_rate)
    submit_offsets = _submission_offsets(rng, start_offsets, window)
    submit_offsets[~submitted] = -1

    profile = _draw_profile(rng, n, questions)
    by_code = {q.code: (q, profile[q.pk]) for q in questions}
    practices = grid.practices
    answered = np.where(submitted, len(practices), rng.integers(0, len(practices), size=n))
    level_index, not_concerned = _draw_levels(rng, n, grid, by_code)
    levels = _option_ids(grid.level, level_index, not_concerned)
    wishes = _draw_wishes(rng, grid, level_index, not_concerned)
    carryings = _draw_carryings(rng, grid, not_concerned)
    return _Plan(
        start_offsets=start_offsets, submit_offsets=submit_offsets, answered=answered,
        levels=levels, wishes=wishes, carryings=carryings, profile=profile,
        link_keys=rng.bytes(32 * n),
    )


def _arrival_offsets(rng: np.random.Generator, n: int, opens_at: datetime, window: float) -> np.ndarray:
    """When respondents start: most in the first days, a bump after each reminder, office hours,
    fewer at weekends."""
    tz = timezone.get_default_timezone()
    local_open = opens_at.astimezone(tz)
    midnight = local_open.replace(hour=0, minute=0, second=0, microsecond=0)
    days = max(1, math.ceil((window + (local_open - midnight).total_seconds()) / 86400))
    d = np.arange(days, dtype=float)
    weights = np.exp(-d / 4)
    for reminder in REMINDER_DAYS:
        weights += np.where(d >= reminder, 0.45 * np.exp(-(d - reminder) / 2.5), 0)
    weekdays = np.array([(midnight + timedelta(days=i)).weekday() for i in range(days)])
    weights *= np.where(weekdays >= 5, WEEKEND_FACTOR, 1.0)
    day = rng.choice(days, size=n, p=weights / weights.sum())
    hour_weights = np.array(HOUR_WEIGHTS)
    hour = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    seconds = day * 86400 + hour * 3600 + rng.random(n) * 3600 - (local_open - midnight).total_seconds()
    # Before the opening hour on the first day, or after now for a wave still open: anywhere
    # in the window instead (clipping would pile them up on one instant).
    last = max(0.0, window - 120)
    anywhere = rng.random(n) * last
    outside = (seconds < 0) | (seconds > last)
    return np.rint(np.where(outside, anywhere, seconds))


def _submission_offsets(rng: np.random.Generator, starts: np.ndarray, window: float) -> np.ndarray:
    n = len(starts)
    minutes = rng.lognormal(math.log(MEDIAN_ANSWER_MINUTES), 0.7, size=n)
    later = rng.random(n) < CAME_BACK_LATER
    delay = minutes * 60 + np.where(later, rng.exponential(CAME_BACK_MEAN_DAYS * 86400, size=n), 0)
    return np.minimum(np.rint(starts + np.maximum(delay, 60)), max(0, window - 1))


def _draw_profile(rng: np.random.Generator, n: int, questions: list[ProfileQuestion]) -> dict[int, np.ndarray]:
    drawn: Drawn = {}
    profile: dict[int, np.ndarray] = {}
    order = sorted(questions, key=lambda q: (q.code not in DRAW_ORDER, DRAW_ORDER.index(q.code) if q.code in DRAW_ORDER else 0))
    for question in order:
        codes = [code for code, _label in question.options]
        if not codes:
            chosen = np.zeros((n, 0), dtype=bool)
        else:
            weights = _profile_weights(question.code, codes, drawn, n)
            if question.kind == QuestionKind.MULTIPLE:
                chosen = _choose_several(rng, weights)
            else:
                chosen = _choose_one(rng, weights)
        drawn[question.code] = (codes, chosen)
        profile[question.pk] = chosen
    return profile


def _has(drawn: Drawn, code: str, option: str) -> np.ndarray | None:
    """Which respondents chose `option` to question `code`, or None if it was not asked."""
    if code not in drawn or option not in drawn[code][0]:
        return None
    codes, chosen = drawn[code]
    return chosen[:, codes.index(option)]


def _profile_weights(code: str, codes: list[str], drawn: Drawn, n: int) -> np.ndarray:
    table = BASE_WEIGHTS.get(code, {})
    weights = np.tile(np.array([table.get(c, 1.0) for c in codes], dtype=float), (n, 1))
    for condition, rules in (("structure", BY_STRUCTURE.get(code, {})), ("region", BY_REGION.get(code, {}))):
        for value, factors in rules.items():
            rows = _has(drawn, condition, value)
            if rows is None:
                continue
            for option, factor in factors.items():
                if option in codes:
                    weights[rows, codes.index(option)] *= factor
    if code == "region":
        overseas = _has(drawn, "outre-mer", "outre-mer")
        if overseas is not None:
            in_overseas = np.array([c in OVERSEAS for c in codes])
            weights[np.ix_(overseas, ~in_overseas)] = 0
            weights[np.ix_(~overseas, in_overseas)] = 0
    # A respondent left with no possible option (an edited list) falls back to all of them.
    empty = weights.sum(axis=1) == 0
    weights[empty] = 1
    return weights


def _choose_one(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random(len(weights))[:, None] * cumulative[:, -1:]
    index = np.minimum((cumulative <= u).sum(axis=1), weights.shape[1] - 1)
    chosen = np.zeros(weights.shape, dtype=bool)
    chosen[np.arange(len(weights)), index] = True
    return chosen


def _choose_several(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """1 to 3 distinct options per respondent, weighted (Gumbel top-k: sampling without
    replacement, vectorised)."""
    n, options = weights.shape
    most = min(MAX_CHOICES, options)
    count_weights = np.array(CHOICE_COUNT_WEIGHTS[:most])
    count = rng.choice(np.arange(1, most + 1), size=n, p=count_weights / count_weights.sum())
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=weights.shape)
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    possible = (weights > 0).sum(axis=1, keepdims=True)
    return rank < np.minimum(count[:, None], possible)


def _draw_levels(rng: np.random.Generator, n: int, grid: g.Grid, by_code: ByCode) -> tuple[np.ndarray, np.ndarray]:
    """Level as an index into the level scale's valued options, and which answers are
    « Non concerné·e »."""
    practices = grid.practices
    situations = np.array([p.situation_code for p in practices])
    latent = np.array([SITUATION_BASE.get(s, DEFAULT_BASE) for s in situations], dtype=float)
    latent = latent + rng.normal(0, PRACTICE_SD, size=len(practices))
    latent = latent[None, :] + rng.normal(0, PERSON_SD, size=(n, 1))
    for code, option, in_situations, shift in LEVEL_EFFECTS:
        rows = _chosen(by_code, code, option)
        if rows is not None:
            latent += np.outer(rows, np.isin(situations, in_situations) * shift)
    if EXPERIENCE_QUESTION in by_code:
        question, chosen = by_code[EXPERIENCE_QUESTION]
        if chosen.shape[1]:
            step = chosen.argmax(axis=1) - (chosen.shape[1] - 1) / 2
            latent += (step * EXPERIENCE_STEP)[:, None]
    latent += rng.normal(0, ANSWER_SD, size=latent.shape)

    valued = [o for o in grid.level.options if o.value is not None]
    top = len(valued) - 1
    index = np.clip(np.rint(latent / 3 * top), 0, top).astype(np.int8)

    p_not_concerned = np.full(latent.shape, NOT_CONCERNED_BASE)
    public = np.zeros(n, dtype=bool)
    for structure in PUBLIC_STRUCTURES:
        rows = _chosen(by_code, "structure", structure)
        if rows is not None:
            public |= rows
    if "structure" in by_code:
        outside = np.outer(~public, np.isin(situations, PUBLIC_REMIT_SITUATIONS))
        p_not_concerned += outside * NOT_CONCERNED_OUTSIDE_REMIT
    has_option = any(o.value is None for o in grid.level.options)
    not_concerned = (rng.random(latent.shape) < p_not_concerned) & has_option
    return index, not_concerned


def _chosen(by_code: ByCode, code: str, option: str) -> np.ndarray | None:
    if code not in by_code:
        return None
    question, chosen = by_code[code]
    codes = [c for c, _label in question.options]
    return chosen[:, codes.index(option)] if option in codes else None


def _option_ids(dimension: g.Dimension, index: np.ndarray, not_concerned: np.ndarray) -> np.ndarray:
    valued = np.array([o.id for o in dimension.options if o.value is not None], dtype=np.int64)
    ids = valued[index]
    nc = next((o.id for o in dimension.options if o.value is None), 0)
    return np.where(not_concerned, nc, ids)


def _draw_wishes(rng: np.random.Generator, grid: g.Grid, level_index: np.ndarray, not_concerned: np.ndarray) -> np.ndarray:
    """Less practised, more wished for; left empty now and then, mostly for « Non concerné·e »."""
    dimension = grid.dimensions.get("wish")
    if dimension is None or not dimension.options:
        return np.zeros(level_index.shape, dtype=np.int64)
    options = sorted(dimension.options, key=lambda o: (o.value is None, o.value or 0))
    ids = np.array([o.id for o in options], dtype=np.int64)
    top = len(options) - 1
    level_top = max(1, sum(o.value is not None for o in grid.level.options) - 1)
    latent = 1.2 - 1.2 * level_index / level_top + rng.normal(0, 0.7, size=level_index.shape)
    index = np.clip(np.rint(latent / 2 * top), 0, top).astype(np.int64)
    missing = rng.random(level_index.shape) < np.where(not_concerned, NOT_CONCERNED_WISH_MISSING, WISH_MISSING)
    wishes = np.where(not_concerned, ids[0], ids[index])
    return np.where(missing, 0, wishes)


def _draw_carryings(rng: np.random.Generator, grid: g.Grid, not_concerned: np.ndarray) -> np.ndarray:
    """Partnership more often in the relational and strategic axes than in management."""
    dimension = grid.dimensions.get("carrying")
    if dimension is None or not dimension.options:
        return np.zeros(not_concerned.shape, dtype=np.int64)
    ids = np.array([o.id for o in dimension.options], dtype=np.int64)
    base = np.array([CARRYING_WEIGHTS.get(o.code, 1.0) for o in dimension.options])
    boosted = base * np.array([PARTNERSHIP_BOOST if o.partnership else 1.0 for o in dimension.options])
    first_axis = {p.id for p in grid.axes[0].practices} if grid.axes else set()
    in_first_axis = np.array([p.id in first_axis for p in grid.practices])
    cumulative = np.where(
        in_first_axis[:, None], np.cumsum(base) / base.sum(), np.cumsum(boosted) / boosted.sum()
    )  # (practices, options)
    u = rng.random(not_concerned.shape)
    index = np.minimum((u[:, :, None] >= cumulative[None, :, :]).sum(axis=2), len(ids) - 1)
    missing = (rng.random(not_concerned.shape) < CARRYING_MISSING) | not_concerned
    return np.where(missing, 0, ids[index])


# --- Writing ----------------------------------------------------------------------------------

def _record_key(link_key: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(link_key, person=b"record-key", digest_size=4).digest(), "big") >> 1


def _write_batch(*, campaign: Campaign, consent_id: int, grid: g.Grid, questions: list[ProfileQuestion],
                 plan: _Plan, start: int, stop: int) -> None:
    opens_at = campaign.opens_at
    starts = plan.start_offsets[start:stop].tolist()
    submits = plan.submit_offsets[start:stop].tolist()
    answered = plan.answered[start:stop].tolist()
    levels = plan.levels[start:stop].tolist()
    wishes = plan.wishes[start:stop].tolist()
    carryings = plan.carryings[start:stop].tolist()
    practice_ids = [p.id for p in grid.practices]
    with transaction.atomic():
        assessments = [
            Assessment(
                version_id=campaign.version_id, answers_until=campaign.closes_at,
                status=AssessmentStatus.SUBMITTED if submit >= 0 else AssessmentStatus.DRAFT,
                submitted_at=opens_at + timedelta(seconds=submit) if submit >= 0 else None,
                # Drawn from the seed too, so that the protected figures are reproducible.
                record_key=_record_key(plan.link_keys[32 * index:32 * (index + 1)]),
            )
            for index, submit in zip(range(start, stop), submits, strict=True)
        ]
        Assessment.objects.bulk_create(assessments, batch_size=INSERT_BATCH_SIZE)
        respondents = [
            Respondent(
                campaign_id=campaign.pk, pseudonym=f"D-{index + 1:06d}",
                link_key=plan.link_keys[32 * index:32 * (index + 1)].hex(), assessment_id=assessment.pk,
                consent_id=consent_id, consented_at=opens_at + timedelta(seconds=offset), synthetic=True,
            )
            for index, assessment, offset in zip(range(start, stop), assessments, starts, strict=True)
        ]
        Respondent.objects.bulk_create(respondents, batch_size=INSERT_BATCH_SIZE)
        profile_rows = []
        for question in questions:
            codes = [code for code, _label in question.options]
            chosen = plan.profile[question.pk][start:stop]
            for row, option in zip(*np.nonzero(chosen), strict=True):
                profile_rows.append(
                    ProfileAnswer(respondent_id=respondents[row].pk, question_id=question.pk, option=codes[option])
                )
        ProfileAnswer.objects.bulk_create(profile_rows, batch_size=INSERT_BATCH_SIZE)
        Answer.objects.bulk_create(
            (
                Answer(
                    assessment_id=assessment.pk, practice_id=practice_ids[j], level_id=level_row[j],
                    wish_id=wish_row[j] or None, carrying_id=carrying_row[j] or None,
                )
                for assessment, count, level_row, wish_row, carrying_row
                in zip(assessments, answered, levels, wishes, carryings, strict=True)
                for j in range(count)
            ),
            batch_size=INSERT_BATCH_SIZE,
        )
        # created_at and updated_at are set to "now" on insert: give them the respondent's times
        # so that tracking by start date reads like a real wave.
        started = Respondent.objects.filter(assessment=OuterRef("pk")).values("consented_at")[:1]
        Assessment.objects.filter(
            pk__gte=assessments[0].pk, pk__lte=assessments[-1].pk, study_respondent__campaign=campaign
        ).update(created_at=Subquery(started), updated_at=Coalesce("submitted_at", Subquery(started)))
