"""Forms of the guided workshop (views_guided.py)."""

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from grille.core.people import person_label
from grille.frameworks import grid as g

from .guided import DEFAULT_ORDERING, MINUTES_MAX, ORDERINGS
from .models import NAME_MAX, Membership


class AgendaForm(forms.Form):
    ordering = forms.ChoiceField(label=_("Ordonner les pratiques"), choices=[], initial=DEFAULT_ORDERING)
    practices = forms.MultipleChoiceField(label=_("Pratiques à mettre en débat"), required=False, choices=[])
    situations = forms.MultipleChoiceField(label=_("Ou des situations entières"), required=False, choices=[])
    minutes_per_item = forms.IntegerField(
        label=_("Temps prévu par pratique (minutes)"), min_value=1, max_value=MINUTES_MAX, initial=5
    )

    def __init__(self, *args: Any, grid: g.Grid, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["ordering"]).choices = [(k, str(v)) for k, v in ORDERINGS.items()]
        cast(forms.MultipleChoiceField, self.fields["practices"]).choices = [(p.code, p.code) for p in grid.practices]
        cast(forms.MultipleChoiceField, self.fields["situations"]).choices = [(s.code, s.code) for s in grid.situations]


class GuidedActionForm(forms.Form):
    """An action that follows the practice on screen: the practice is the one debated."""

    title = forms.CharField(label=_("Action qui en découle"), max_length=NAME_MAX)
    owner = forms.TypedChoiceField(label=_("Responsable"), required=False, coerce=int, empty_value=None, choices=[])
    due_date = forms.DateField(label=_("Échéance (facultatif)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, members: Iterable[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["owner"]).choices = [("", "—"), *members]


def member_choices(members: Iterable[Membership]) -> list[tuple[int, str]]:
    return [(m.pk, person_label(m.user)) for m in members]
