from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grille.core.enums import StructureType
from grille.frameworks import grid as g

from .models import COMMENT_MAX_LENGTH

CHOICE_ERRORS = {"invalid_choice": _("Choisissez l'une des réponses proposées (« %(value)s » n'en fait pas partie).")}
COMMENT_FIELD = "commentaire"
VERSION_FIELD = "version"
STAMP_MAX = 10**15
STALE_FORM = _("Cette page est trop ancienne : rechargez-la, puis saisissez de nouveau votre réponse.")


class PracticeAnswerForm(forms.Form):
    """The answer to one practice; field names are the grid's dimension codes.

    Fields are built from the grid data, so another framework with other
    scales needs no code change.
    """

    def __init__(self, *args: Any, grid: g.Grid, practice: g.Practice, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", practice.code)
        super().__init__(*args, **kwargs)
        self.grid = grid
        self.practice = practice
        for role in ("level", "wish", "carrying"):
            dim = grid.dimensions[role]
            self.fields[dim.code] = forms.ChoiceField(
                label=dim.label,
                choices=[("", "—")] + [(o.code, o.label) for o in dim.options],
                required=False,
                error_messages=CHOICE_ERRORS,
            )
        self.fields[COMMENT_FIELD] = forms.CharField(
            label=_("Commentaire (facultatif)"),
            required=False,
            max_length=COMMENT_MAX_LENGTH,
            strip=True,
            error_messages={
                "max_length": _("Le commentaire est trop long : %(limit_value)d caractères au plus (vous en avez saisi %(show_value)d).")
            },
        )

        # The edit stamp of the stored answer the form was rendered with (0: no answer yet): an
        # answer saved elsewhere since is not overwritten by this form.
        self.fields[VERSION_FIELD] = forms.IntegerField(
            required=False, min_value=0, max_value=STAMP_MAX, widget=forms.HiddenInput,
            error_messages={"invalid": STALE_FORM, "min_value": STALE_FORM, "max_value": STALE_FORM},
        )

    def version(self) -> int | None:
        """The stamp the form was rendered with; None for a form sent without one."""
        value = self.cleaned_data.get(VERSION_FIELD)
        return value if isinstance(value, int) else None

    def dimension_fields(self) -> list[tuple[g.Dimension, forms.BoundField]]:
        """(dimension, bound field) pairs in the grid's order, for the templates."""
        return [(dim, self[dim.code]) for dim in self.grid.dimensions.values()]

    def option_codes(self) -> dict[str, str]:
        """Cleaned choice per role, '' when left blank."""
        return {role: self.cleaned_data.get(self.grid.dimensions[role].code) or "" for role in ("level", "wish", "carrying")}


def plain_answer(data: Mapping[str, str], *, grid: g.Grid, practice: g.Practice) -> dict[str, str] | None:
    """The answer PracticeAnswerForm(data) would clean (its option code per role, its comment),
    read without building the form, for the input autosave.js sends: each choice blank or one of
    the dimension's codes, a comment within the limit and without a NUL character, an edit stamp
    blank or a whole number in range. None for any other input, which the form then judges and
    explains (issue 16: autosave's common case)."""
    prefix = practice.code
    answer = {}
    for role in ("level", "wish", "carrying"):
        dimension = grid.dimensions[role]
        value = data.get(f"{prefix}-{dimension.code}", "")
        if value and dimension.option_by_code(value) is None:
            return None
        answer[role] = value
    comment = (data.get(f"{prefix}-{COMMENT_FIELD}") or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH or "\x00" in comment:
        return None
    stamp = data.get(f"{prefix}-{VERSION_FIELD}", "")
    if stamp and not (stamp.isascii() and stamp.isdigit() and int(stamp) <= STAMP_MAX):
        return None
    answer["comment"] = comment
    return answer


class StoredPractice:
    """A practice of a questionnaire step as the page shows it on arrival: its stored values
    (``initial``, as PracticeAnswerForm takes them), without building the form, which only a
    step rendered in full needs (``form``, built when asked: issue 16)."""

    is_bound = False

    def __init__(self, *, grid: g.Grid, practice: g.Practice, initial: dict[str, Any]) -> None:
        self.grid, self.practice, self.initial = grid, practice, initial

    @cached_property
    def form(self) -> PracticeAnswerForm:
        return PracticeAnswerForm(grid=self.grid, practice=self.practice, initial=self.initial)

    def html_name(self, name: str) -> str:
        """A field's name in the page, as the form prefixes it."""
        return f"{self.practice.code}-{name}"


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Votre adresse e-mail"),
        max_length=254,
        error_messages={"invalid": _("Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr."),
                        "required": _("Saisissez votre adresse e-mail.")},
    )


class PeerJoinForm(forms.Form):
    structure_type = forms.ChoiceField(
        label=_("Type de structure dans laquelle vous exercez"),
        choices=[("", "—"), *StructureType.choices],
        error_messages={
            "required": _("Choisissez votre type de structure."),
            "invalid_choice": _("Choisissez votre type de structure dans la liste."),
        },
    )
    consent = forms.BooleanField(
        label=_(
            "J'accepte que ce positionnement compte, sans mon nom, dans la comparaison anonyme entre pairs "
            "du réseau, comme indiqué ci-dessus. Je peux le retirer à tout moment."
        ),
        error_messages={"required": _("Cochez la case pour confirmer votre accord.")},
    )
