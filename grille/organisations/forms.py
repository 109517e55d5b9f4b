from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from grille.core.enums import StructureType
from grille.core.validators import validate_mailed_name
from grille.frameworks import grid as g

from .enums import (
    ActionStatus,
    DecisionMode,
    PartnerType,
    Role,
    ShareMode,
    TerritoryType,
)
from .models import NAME_MAX, NOTE_MAX, Membership


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Nom de la structure"), max_length=NAME_MAX, validators=[validate_mailed_name])
    structure_type = forms.ChoiceField(label=_("Type de structure"), choices=StructureType.choices)
    territory = forms.CharField(label=_("Territoire (facultatif)"), max_length=NAME_MAX, required=False)
    territory_type = forms.ChoiceField(
        label=_("Type de territoire (facultatif)"), choices=[("", "—"), *TerritoryType.choices], required=False
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Adresse e-mail (facultatif : sinon, un lien à transmettre)"), required=False)
    days = forms.IntegerField(label=_("Valable pendant (jours)"), min_value=1, max_value=90, initial=14)
    multi_use = forms.BooleanField(label=_("Lien utilisable par plusieurs personnes"), required=False)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ShareForm(forms.Form):
    assessment = forms.UUIDField(label=_("Positionnement à partager"))
    mode = forms.ChoiceField(label=_("Comment le partager"), choices=ShareMode.choices, widget=forms.RadioSelect)
    consent = forms.BooleanField(
        label=_("J'accepte que ces réponses soient visibles par la structure, comme indiqué ci-dessus. Je peux retirer ce partage à tout moment."),
        error_messages={"required": _("Cochez la case pour confirmer votre accord.")},
    )


class DecisionForm(forms.Form):
    mode = forms.ChoiceField(label=_("Arbitrage"), choices=DecisionMode.choices, widget=forms.RadioSelect)
    partner_types = forms.MultipleChoiceField(
        label=_("Types de partenaires"), choices=PartnerType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    partners = forms.CharField(label=_("Partenaires locaux envisagés (facultatif)"), max_length=NOTE_MAX, required=False)
    note = forms.CharField(label=_("Note"), max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Votre commentaire"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class ActionForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=NAME_MAX)
    practices = forms.MultipleChoiceField(label=_("Pratiques concernées"), required=False, choices=[])
    owner = forms.TypedChoiceField(label=_("Responsable"), required=False, coerce=int, empty_value=None, choices=[])
    due_date = forms.DateField(label=_("Échéance (facultatif)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Statut"), choices=ActionStatus.choices, initial=ActionStatus.TODO)

    def __init__(self, *args: Any, grid: g.Grid, members: Iterable[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practices = cast(forms.MultipleChoiceField, self.fields["practices"])
        practices.choices = [(p.code, f"{p.code} {p.label}") for p in grid.practices]
        owner = cast(forms.TypedChoiceField, self.fields["owner"])
        owner.choices = [("", "—")] + [(m.pk, str(m.user)) for m in members]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)
