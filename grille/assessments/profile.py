"""The profile of a positioning, computed from its answers by pure functions.

The page, the PDF and the JSON export all call :func:`compute_profile`, so
they can never disagree. Options whose value is null (« Non concerné·e ») are
left out of every mean; the number of practices behind each mean is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grille.core.charts import format_score
from grille.frameworks import grid as g


@dataclass(frozen=True)
class AnswerData:
    level_id: int | None = None
    wish_id: int | None = None
    carrying_id: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class PracticeScore:
    practice: g.Practice
    level: g.Option | None
    wish: g.Option | None
    carrying: g.Option | None
    comment: str

    @property
    def answered(self) -> bool:
        return self.level is not None

    @property
    def value(self) -> int | None:
        return self.level.value if self.level else None


@dataclass(frozen=True)
class GroupScore:
    code: str
    label: str
    mean: float | None
    answered: int       # practices with a level, « Non concerné·e » included
    scored: int         # practices that count in the mean
    total: int


def difference(before: float | None, after: float | None) -> float | None:
    """How far a mean moved between two positionings; None where either has none."""
    if before is None or after is None:
        return None
    return after - before


@dataclass(frozen=True)
class SituationDelta:
    situation: g.Situation
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return difference(self.before, self.after)


@dataclass(frozen=True)
class Profile:
    grid: g.Grid
    practices: tuple[PracticeScore, ...]
    situations: tuple[GroupScore, ...]
    axes: tuple[GroupScore, ...]
    overall: GroupScore
    strengths: tuple[PracticeScore, ...]
    to_develop: tuple[PracticeScore, ...]
    carrying_summary: tuple[tuple[g.Option, int], ...]
    scope_text: tuple[str, ...]

    @property
    def answered(self) -> int:
        return self.overall.answered

    @property
    def total(self) -> int:
        return self.overall.total

    @property
    def max_level(self) -> int:
        return self.grid.level.max_value

    def situation_score(self, code: str) -> GroupScore | None:
        return next((s for s in self.situations if s.code == code), None)

    @property
    def situation_means(self) -> dict[str, float | None]:
        """Situation code -> mean level, as the situation radar reads them."""
        return {s.code: s.mean for s in self.situations}

    @property
    def practices_by_situation(self) -> list[tuple[g.Situation, list[PracticeScore]]]:
        """Each situation with the scores of its practices, in the grid's order."""
        by_code: dict[str, list[PracticeScore]] = {}
        for score in self.practices:
            by_code.setdefault(score.practice.situation_code, []).append(score)
        return [(situation, by_code.get(situation.code, [])) for situation in self.grid.situations]


def _group(code: str, label: str, scores: list[PracticeScore]) -> GroupScore:
    values = [s.value for s in scores if s.value is not None]
    return GroupScore(
        code=code,
        label=label,
        mean=fmean(values) if values else None,
        answered=sum(1 for s in scores if s.answered),
        scored=len(values),
        total=len(scores),
    )


def compute_profile(grid: g.Grid, answers: dict[str, AnswerData]) -> Profile:
    """Scores per practice, situation and axis, strengths, practices to develop, carrying."""
    scores = []
    for practice in grid.practices:
        a = answers.get(practice.code, AnswerData())
        scores.append(
            PracticeScore(
                practice=practice,
                level=grid.level.option_by_id(a.level_id),
                wish=grid.wish.option_by_id(a.wish_id),
                carrying=grid.carrying.option_by_id(a.carrying_id),
                comment=a.comment,
            )
        )
    by_code = {s.practice.code: s for s in scores}
    situations = tuple(
        _group(s.code, s.label, [by_code[p.code] for p in s.practices]) for s in grid.situations
    )
    axes = tuple(_group(a.code, a.label, [by_code[p.code] for p in a.practices]) for a in grid.axes)
    overall = _group("", "", scores)
    strength_floor = grid.level.strength_floor
    strengths = tuple(
        sorted(
            (s for s in scores if s.value is not None and s.value >= strength_floor),
            key=lambda s: -(s.value or 0),
        )
    )
    to_develop = tuple(
        sorted(
            (s for s in scores if s.wish is not None and (s.wish.value or 0) > 0),
            key=lambda s: -(s.wish.value or 0) if s.wish else 0,
        )
    )
    carrying_summary = tuple(
        (option, sum(1 for s in scores if s.carrying == option)) for option in grid.carrying.options
    )
    profile = Profile(
        grid=grid,
        practices=tuple(scores),
        situations=situations,
        axes=axes,
        overall=overall,
        strengths=strengths,
        to_develop=to_develop,
        carrying_summary=carrying_summary,
        scope_text=(),
    )
    object.__setattr__(profile, "scope_text", describe_scope(profile))
    return profile


def describe_scope(profile: Profile) -> tuple[str, ...]:
    """A few sentences in plain language on the person's *périmètre d'actions*."""
    if profile.answered == 0:
        return (_("Aucune pratique n'est encore renseignée : votre périmètre d'actions apparaîtra ici."),)
    grid = profile.grid
    sentences = []
    scored_axes = [a for a in profile.axes if a.mean is not None]
    if scored_axes:
        top_axis = max(scored_axes, key=lambda a: a.mean or 0)
        scored_situations = [s for s in profile.situations if s.mean is not None]
        top_situation = max(scored_situations, key=lambda s: s.mean or 0)
        sentences.append(
            _(
                "Votre pratique est la plus affirmée dans l'axe « %(axis)s » (moyenne %(mean)s sur "
                "%(max)s), en particulier dans la situation « %(situation)s »."
            )
            % {
                "axis": top_axis.label,
                "mean": format_score(top_axis.mean),
                "max": grid.level.max_value,
                "situation": top_situation.label,
            }
        )
    strong_situations = {s.practice.situation_code for s in profile.strengths}
    sentences.append(
        ngettext(
            "Vous exercez %(n)d pratique de façon régulière ou au cœur de votre activité",
            "Vous exercez %(n)d pratiques de façon régulière ou au cœur de votre activité",
            len(profile.strengths),
        )
        % {"n": len(profile.strengths)}
        + ngettext(
            ", dans %(s)d situation professionnelle sur %(total)d.",
            ", dans %(s)d situations professionnelles sur %(total)d.",
            len(strong_situations),
        )
        % {"s": len(strong_situations), "total": len(grid.situations)}
    )
    if profile.to_develop:
        priority = sum(1 for s in profile.to_develop if s.wish and s.wish.value == grid.wish.max_value)
        sentences.append(
            ngettext(
                "Vous souhaitez développer %(n)d pratique",
                "Vous souhaitez développer %(n)d pratiques",
                len(profile.to_develop),
            )
            % {"n": len(profile.to_develop)}
            + (
                ngettext(", dont %(p)d en priorité.", ", dont %(p)d en priorité.", priority) % {"p": priority}
                if priority
                else "."
            )
        )
    else:
        sentences.append(_("Vous n'avez pas indiqué de pratique à développer."))
    carried = [(o, n) for o, n in profile.carrying_summary if n]
    if carried:
        parts = [_("%(label)s : %(value)s") % {"label": o.label.lower(), "value": n} for o, n in carried]
        sentences.append(_("Portage envisagé — %(parts)s.") % {"parts": _(" ; ").join(parts)})
    return tuple(sentences)


def compare_situations(before: Profile, after: Profile) -> tuple[SituationDelta, ...]:
    """Evolution per situation between two profiles, matched by situation code."""
    return tuple(
        SituationDelta(
            situation=s,
            before=(b.mean if (b := before.situation_score(s.code)) else None),
            after=(a.mean if (a := after.situation_score(s.code)) else None),
        )
        for s in after.grid.situations
    )


@dataclass(frozen=True)
class GroupDelta:
    """The mean level of an axis (or of the whole grid) in two positionings."""

    code: str
    label: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return difference(self.before, self.after)


@dataclass(frozen=True)
class PracticeChange:
    """One practice's answers in two positionings, matched by practice code.

    ``in_before`` is False when the earlier positioning's grid had no practice with this code.
    """

    practice: g.Practice
    before: PracticeScore | None
    after: PracticeScore

    @property
    def in_before(self) -> bool:
        return self.before is not None

    @property
    def delta(self) -> int | None:
        """The change of level value; None when either level has no value (unanswered, « Non concerné·e »)."""
        before = self.before.value if self.before else None
        after = self.after.value
        if before is None or after is None:
            return None
        return after - before

    @property
    def delta_text(self) -> str:
        """The change of level written with its sign (« +1 », « −2 », « 0 »), « — » without one."""
        delta = self.delta
        if delta is None:
            return "—"
        return f"+{delta}" if delta > 0 else (f"−{-delta}" if delta < 0 else "0")


@dataclass(frozen=True)
class Evolution:
    """How a positioning changed from an earlier one: per situation, per axis, overall and per
    practice, with the moment of each (when it was sent, or last changed for a draft)."""

    before_at: datetime
    after_at: datetime
    before_version: str
    after_version: str
    situations: tuple[SituationDelta, ...]
    axes: tuple[GroupDelta, ...]
    overall: GroupDelta
    practices: tuple[PracticeChange, ...]
    # Practice codes of the earlier positioning's grid that the later one no longer has.
    dropped: tuple[str, ...]

    @property
    def same_version(self) -> bool:
        return self.before_version == self.after_version

    @property
    def raised(self) -> int:
        """Practices whose level went up."""
        return sum(1 for p in self.practices if (p.delta or 0) > 0)

    @property
    def lowered(self) -> int:
        """Practices whose level went down."""
        return sum(1 for p in self.practices if (p.delta or 0) < 0)

    @property
    def steady(self) -> int:
        """Practices with a level valued in both positionings, and the same value."""
        return sum(1 for p in self.practices if p.delta == 0)

    @property
    def practices_by_situation(self) -> list[tuple[g.Situation, list[PracticeChange]]]:
        """Each situation of the later grid with the changes of its practices, in order."""
        by_code: dict[str, list[PracticeChange]] = {}
        for change in self.practices:
            by_code.setdefault(change.practice.situation_code, []).append(change)
        return [(s, by_code.get(s.code, [])) for s in self.situations_grid]

    @property
    def situations_grid(self) -> tuple[g.Situation, ...]:
        return tuple(d.situation for d in self.situations)


def compare_profiles(before: Profile, after: Profile, *, before_at: datetime, after_at: datetime) -> Evolution:
    """Evolution per situation, axis, overall and practice from ``before`` to ``after``.

    Situations, axes and practices are matched by code, so two versions of one framework
    compare wherever their codes agree; what the later grid lacks is left out (its practice
    codes are listed in ``dropped``), what the earlier one lacked has no « before ».
    """
    before_axes = {a.code: a for a in before.axes}
    before_practices = {s.practice.code: s for s in before.practices}
    after_codes = {s.practice.code for s in after.practices}
    return Evolution(
        before_at=before_at,
        after_at=after_at,
        before_version=before.grid.version_code,
        after_version=after.grid.version_code,
        situations=compare_situations(before, after),
        axes=tuple(
            GroupDelta(
                code=a.code,
                label=a.label,
                before=(b.mean if (b := before_axes.get(a.code)) else None),
                after=a.mean,
            )
            for a in after.axes
        ),
        overall=GroupDelta(code="", label="", before=before.overall.mean, after=after.overall.mean),
        practices=tuple(
            PracticeChange(practice=s.practice, before=before_practices.get(s.practice.code), after=s)
            for s in after.practices
        ),
        dropped=tuple(code for code in before_practices if code not in after_codes),
    )
