"""What the attackers of tests/security/test_disclosure_attacks.py read, and the truth they are
measured against.

The attacker's side only reads HTTP responses (JSON of the API, XLSX read back with openpyxl,
HTML tables of the pages) through a Django test client signed in as their role. The truth side
reads the database, and is never shown to the attacker's arithmetic: it only scores it.
"""

from __future__ import annotations

import io
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

import openpyxl
from django.contrib.auth.models import Permission
from django.test import Client, TestCase
from django.utils import timezone

from grille.accounts.models import User
from grille.accounts.services import create_api_token
from grille.assessments.enums import AssessmentStatus
from grille.assessments.models import Answer
from grille.studies.models import Campaign, ProfileAnswer, Respondent
from grille.studies.synthetic import generate_synthetic_campaign

API = "/api/v1"
LEVEL_CODES = ("0", "1", "2", "3")  # the valued levels of the 2024 grid (« nc » has no value)


# -- scoring ------------------------------------------------------------------------------------


@dataclass
class Score:
    """Exact recoveries of an attack against chance on the same cells.

    `chance` is the hit rate of the best guess that needs no attack at all: the best constant
    guess on the very cells attacked (for counts), or the population's most frequent level
    (for a person's level), whichever the test defines; `hits` is how often the attacker's
    arithmetic gave the true value.
    """

    name: str
    guesses: list = field(default_factory=list)
    truths: list = field(default_factory=list)
    chance_hits: int = 0

    def add(self, guess, truth, *, chance_hit: bool | None = None) -> None:
        self.guesses.append(guess)
        self.truths.append(truth)
        if chance_hit is not None:
            self.chance_hits += int(chance_hit)

    @property
    def trials(self) -> int:
        return len(self.truths)

    @property
    def rate(self) -> float:
        return sum(g == t for g, t in zip(self.guesses, self.truths, strict=True)) / self.trials if self.trials else 0.0

    def best_constant_rate(self) -> float:
        """The hit rate of always guessing the most frequent true value (chance for counts)."""
        return Counter(self.truths).most_common(1)[0][1] / self.trials if self.trials else 0.0

    def chance_rate(self) -> float:
        return self.chance_hits / self.trials if self.trials else 0.0

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.trials} trials, attack {self.rate:.3f}, "
            f"best constant {self.best_constant_rate():.3f}, chance {self.chance_rate():.3f}"
        )


def level_guess(estimate: float | None, prior_mode: str) -> str:
    """A person's level from the attacker's arithmetic: the nearest valued level when the
    estimate is a plausible level, else the most frequent level (what a sensible attacker falls
    back on)."""
    if estimate is None or not (-0.5 <= estimate <= 3.5):
        return prior_mode
    return str(min(3, max(0, round(estimate))))


# -- the study ----------------------------------------------------------------------------------


@dataclass
class Study:
    campaign: Campaign
    analyst: User
    client: Client
    token: str

    # attacker's side: HTTP only

    def api(self, filters: Iterable[str] = (), compare: str | None = None):
        params: dict = {"filtre": list(filters)}
        if compare:
            params["comparer"] = compare
        return self.client.get(
            f"{API}/etudes/{self.campaign.uuid}/resultats", params, HTTP_AUTHORIZATION=f"Bearer {self.token}"
        )

    def results(self, filters: Iterable[str] = (), compare: str | None = None) -> View:
        response = self.api(filters, compare)
        if response.status_code != 200:
            return View(status=response.status_code)
        return View.from_api(response.json())

    def xlsx(self, filters: Iterable[str] = (), compare: str | None = None) -> View:
        params = {f"f_{item.partition(':')[0]}": item.partition(":")[2] for item in filters}
        if compare:
            params["comparer"] = compare
        # Asked as the exports page does; the tests' immediate backend builds the file at commit.
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = self.client.post(f"/etudes/{self.campaign.uuid}/exports/agregats.xlsx?{urlencode(params)}")
        if response.status_code != 302:
            return View(status=response.status_code)
        response = self.client.get(response.url.rstrip("/") + "/telecharger")
        if response.status_code != 200:
            return View(status=response.status_code)
        return View.from_xlsx(b"".join(response.streaming_content))

    def tracking(self, by: str) -> dict[str, tuple[int | None, int | None]]:
        """Segment label -> (started, completed) as the tracking page prints them (None: « s »)."""
        response = self.client.get(f"/etudes/{self.campaign.uuid}/suivi/", {"par": by})
        assert response.status_code == 200
        rows = {}
        for table in tables(response.content.decode()):
            if table and table[0][:1] == ["Segment"]:
                for row in table[1:]:
                    rows[row[0]] = (number(row[1]), number(row[2]))
        return rows

    # truth side: the database

    def released_ids(self) -> set[int]:
        return set(
            Respondent.objects.filter(
                campaign=self.campaign, released=True, assessment__status=AssessmentStatus.SUBMITTED
            ).values_list("pk", flat=True)
        )

    def profiles(self) -> dict[int, dict[str, set[str]]]:
        result: dict[int, dict[str, set[str]]] = {}
        for respondent_id, code, option in ProfileAnswer.objects.filter(respondent__campaign=self.campaign).values_list(
            "respondent_id", "question__code", "option"
        ):
            result.setdefault(respondent_id, {}).setdefault(code, set()).add(option)
        return result

    def levels(self) -> dict[int, dict[str, str]]:
        """respondent id -> practice code -> level code (« nc » included)."""
        result: dict[int, dict[str, str]] = {}
        for respondent_id, practice, level in Answer.objects.filter(
            assessment__study_respondent__campaign=self.campaign, level__isnull=False
        ).values_list("assessment__study_respondent", "practice__code", "level__code"):
            result.setdefault(respondent_id, {})[practice] = level
        return result

    def members(self, filters: Iterable[str], ids: set[int] | None = None, profiles=None) -> set[int]:
        """The released respondents matching every `question:option` filter."""
        profiles = profiles if profiles is not None else self.profiles()
        chosen = [item.split(":", 1) for item in filters]
        pool = self.released_ids() if ids is None else ids
        return {r for r in pool if all(option in profiles.get(r, {}).get(code, set()) for code, option in chosen)}


def make_study(*, respondents: int, seed: int) -> Study:
    analyst = User.objects.create_user(f"analyste-{seed}@exemple.fr", display_name="Ana Lyste")
    analyst.user_permissions.add(Permission.objects.get(codename="run_studies"))
    # A wave of next year opens ten days ago and is still open: people can still answer.
    campaign = generate_synthetic_campaign(
        respondents=respondents, seed=seed, analyst=analyst, year=timezone.now().year + 1
    )
    client = Client()
    client.force_login(analyst)
    _token, raw = create_api_token(user=analyst, name="Attaque")
    return Study(campaign=campaign, analyst=analyst, client=client, token=raw)


def level_modes(levels: dict[int, dict[str, str]], people: Iterable[int]) -> dict[str, str]:
    """practice code -> the most frequent valued level among these people (chance's guess)."""
    counts: dict[str, Counter] = {}
    for person in people:
        for practice, level in levels.get(person, {}).items():
            if level in LEVEL_CODES:
                counts.setdefault(practice, Counter())[level] += 1
    return {practice: counter.most_common(1)[0][0] for practice, counter in counts.items()}


# -- a view of the results, as the attacker reads it ---------------------------------------------


@dataclass
class Row:
    levels: dict[str, int | None]  # level code -> published count, None when hidden
    total: int | None
    mean_n: int | None
    mean: float | None


@dataclass
class View:
    status: int = 200
    size: int | None = None
    practices: dict[str, Row] = field(default_factory=dict)
    # segment code -> (size or None, practice code -> (n, mean) or None)
    segments: dict[str, tuple[int | None, dict[str, tuple[int, float] | None]]] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        return self.status == 200 and self.size is not None

    def shows_anything(self) -> bool:
        return self.shown or any(
            v is not None for row in self.practices.values() for v in [*row.levels.values(), row.total, row.mean]
        )

    @classmethod
    def from_api(cls, data: dict) -> View:
        practices = {}
        for row in data["practices"]:
            mean = row["mean"]
            practices[row["practice"]] = Row(
                levels={cell["level"]: cell["value"] for cell in row["levels"]},
                total=row["total"]["value"],
                mean_n=mean["n"],
                mean=mean["mean"],
            )
        segments = {}
        for segment in data.get("segments", []):
            means = {}
            for row in data["practices"]:
                cell = row.get("segments", {}).get(segment["code"])
                means[row["practice"]] = None if not cell or cell["mean"] is None else (cell["n"], cell["mean"])
            segments[segment["code"]] = (segment["size"], means)
        return cls(size=data["respondents"], practices=practices, segments=segments)

    @classmethod
    def from_xlsx(cls, content: bytes) -> View:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        about = {row[0]: row[1] for row in book["À propos"].iter_rows(values_only=True) if row and row[0]}
        size = about.get("Répondants retenus")
        sheet = list(book["Pratiques"].iter_rows(values_only=True))
        header = list(sheet[0])
        level_columns = {
            i: LEVEL_BY_LABEL.get(str(name)[4:], str(name)[4:]) for i, name in enumerate(header) if str(name).startswith("n : ")
        }
        mean_column, n_column, total_column = header.index("Moyenne"), header.index("n (moyenne)"), header.index("Réponses")
        practices = {}
        for row in sheet[1:]:
            if not row or not row[0] or not re.fullmatch(r"\d+\.\d+", str(row[0])):
                continue
            practices[str(row[0])] = Row(
                levels={code: _xlsx_number(row[i]) for i, code in level_columns.items()},
                total=_xlsx_number(row[total_column]),
                mean_n=_xlsx_number(row[n_column]),
                mean=None if _xlsx_number(row[mean_column]) is None else float(row[mean_column]),
            )
        return cls(size=_xlsx_number(size), practices=practices)


LEVEL_BY_LABEL: dict[str, str] = {}  # filled by the test module from the grid (label -> code)


def _xlsx_number(value):
    if value is None or value == "s" or value == "":
        return None
    if isinstance(value, int | float):
        return value
    try:
        return float(str(value).replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except ValueError:
        return None


# -- HTML tables ---------------------------------------------------------------------------------


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
            self._depth += 1
        elif tag == "tr" and self._depth:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "table":
            self._depth -= 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def number(text: str) -> float | None:
    """A figure as printed (« ≈ 12 », « 1 234 », « 2,5 », « 40 % »), or None for « s » / « — »."""
    cleaned = text.replace("≈", "").replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace("%", "")
    cleaned = cleaned.replace(",", ".")
    match = re.search(r"-?\d+(\.\d+)?", cleaned)
    if not match or cleaned.strip().lower().startswith("s"):
        return None
    value = float(match.group())
    return int(value) if value.is_integer() else value


def seeded(seed: int) -> random.Random:
    return random.Random(seed)


# -- teams and peers: people with answers drawn from a known population -------------------------

LEVELS_WITH_NC = ("0", "1", "2", "3", "nc")


def practice_priors(practice_codes: Iterable[str], seed: int) -> dict[str, dict[str, float]]:
    """practice code -> level code -> probability: the population the team's and the peers'
    answers are drawn from (what an attacker may know of people in general)."""
    generator = random.Random(seed)
    priors = {}
    for code in practice_codes:
        weights = [generator.uniform(0.6, 1.4) * base for base in (0.22, 0.34, 0.26, 0.12, 0.06)]
        total = sum(weights)
        priors[code] = {level: w / total for level, w in zip(LEVELS_WITH_NC, weights, strict=True)}
    return priors


def draw_answers(priors: dict[str, dict[str, float]], generator: random.Random) -> dict[str, str]:
    return {
        code: generator.choices(list(p), weights=list(p.values()))[0] for code, p in priors.items()
    }


def prior_mode(prior: dict[str, float]) -> str:
    return max(prior, key=prior.get)


def cell_likelihood(shown: int | None, true: int, k: int, table) -> float:
    """P(reading `shown` (None: hidden) | true count), for the ptable that ships with Grille (an
    attacker has it: it is data in the repository and the documentation)."""
    if true <= 0:
        return 1.0 if shown is None else 0.0
    noise = table.distribution(true)
    if shown is None:
        return sum(p for d, p in noise.items() if true + d < k)
    return noise.get(shown - true, 0.0) if shown >= k else 0.0


def seed_record_key(assessment, generator: random.Random) -> None:
    """Give a positioning made by the services a record key from the test's seed (they draw it
    with `secrets`), so that every perturbed figure, hence every rate measured, is the same on
    each run."""
    from grille.assessments.models import Assessment

    assessment.record_key = generator.getrandbits(31)
    Assessment.objects.filter(pk=assessment.pk).update(record_key=assessment.record_key)
