"""The profile of a positioning, computed from its answers by pure functions.

The page, the PDF and the JSON export all call :func:`compute_profile`, so
they can never disagree. Options whose value is null (« Non concerné·e ») are
left out of every mean; the number of practices behind each mean is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class SituationDelta:
    situation: g.Situation
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


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
