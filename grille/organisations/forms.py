from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from grille.core.enums import StructureType
from grille.core.people import distinct_labels, person_label, person_with_email
from grille.core.tabular.reading import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB
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


class InvitationBatchForm(forms.Form):
    """A list of addresses, pasted or in a file; read by services.read_address_list."""

    addresses = forms.CharField(
        label=_("Adresses e-mail à coller"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        max_length=MAX_UPLOAD_BYTES,
    )
    file = forms.FileField(label=_("… ou un fichier CSV ou texte"), required=False)
    days = forms.IntegerField(label=_("Valable pendant (jours)"), min_value=1, max_value=90, initial=14)

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        pasted, upload = (data.get("addresses") or "").strip(), data.get("file")
        if not pasted and upload is None and not self.errors:
            raise forms.ValidationError(_("Collez des adresses ou choisissez un fichier."))
        if pasted and upload is not None:
            raise forms.ValidationError(_("Collez des adresses ou choisissez un fichier, pas les deux."))
        if upload is not None and upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            self.add_error("file", _("Le fichier est trop volumineux : la limite est de %(max)d Mo.") % {"max": MAX_UPLOAD_MB})
        return data

    def raw_file(self) -> bytes:
        upload = self.cleaned_data.get("file")
        return upload.read() if upload is not None else b""


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
    practices = forms.MultipleChoiceField(
        label=_("Pratiques concernées"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )
    owner = forms.TypedChoiceField(label=_("Responsable"), required=False, coerce=int, empty_value=None, choices=[])
    due_date = forms.DateField(label=_("Échéance (facultatif)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Statut"), choices=ActionStatus.choices, initial=ActionStatus.TODO)

    def __init__(self, *args: Any, grid: g.Grid, members: Iterable[Membership], reveal_email: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        practices = cast(forms.MultipleChoiceField, self.fields["practices"])
        practices.choices = [(p.code, f"{p.code} {p.label}") for p in grid.practices]
        self.grid = grid
        owner = cast(forms.TypedChoiceField, self.fields["owner"])
        # Only facilitators plan actions: a person without a name is told by their address, unless
        # the form is seen by others (a projected workshop: reveal_email=False, numbered names).
        members = list(members)
        if reveal_email:
            labels = [person_label(m.user, reveal_email=True) for m in members]
            homonyms = {label for label in labels if labels.count(label) > 1}
            labels = [person_with_email(m.user) if label in homonyms else label for m, label in zip(members, labels, strict=True)]
        else:
            labels = distinct_labels([m.user for m in members])
        owner.choices = [("", "—")] + [(m.pk, label) for m, label in zip(members, labels, strict=True)]


    def practice_groups(self) -> list[dict[str, Any]]:
        """The practices to choose from, situation by situation, with those already chosen: the
        picker of _action_form.html (checkboxes in a details element per situation)."""
        chosen = {str(code) for code in (self["practices"].value() or [])}
        return [
            {
                "situation": situation,
                "practices": [{"practice": p, "checked": p.code in chosen} for p in situation.practices],
                "chosen": sum(p.code in chosen for p in situation.practices),
            }
            for situation in self.grid.situations
        ]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)
