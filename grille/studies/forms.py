from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from grille.core.validators import validate_mailed_name
from grille.disclosure.cells import MIN_THRESHOLD
from grille.frameworks.enums import VersionStatus
from grille.frameworks.models import FrameworkVersion

from .enums import QuestionKind, WaveFormat
from .models import CAMPAIGN_NAME_MAX

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Nom de la campagne"), max_length=CAMPAIGN_NAME_MAX, validators=[validate_mailed_name])
    wave_year = forms.IntegerField(label=_("Vague (année)"), min_value=2000, max_value=2100)
    version = forms.ModelChoiceField(label=_("Version de la grille"), queryset=FrameworkVersion.objects.none(), empty_label=None)
    opens_at = forms.DateTimeField(label=_("Ouverture (heure de Paris)"), widget=DATETIME_INPUT)
    closes_at = forms.DateTimeField(label=_("Clôture (heure de Paris)"), widget=DATETIME_INPUT)
    introduction = forms.CharField(label=_("Texte d'introduction"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    consent_text = forms.CharField(label=_("Texte du consentement"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    threshold = forms.IntegerField(
        label=_("Seuil de diffusion k (aucun chiffre sur moins de k répondants)"), min_value=MIN_THRESHOLD, max_value=100, initial=5,
    )

    def __init__(self, *args: Any, with_version: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_version:
            cast(forms.ModelChoiceField, self.fields["version"]).queryset = FrameworkVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("framework")
        else:
            del self.fields["version"]
            del self.fields["wave_year"]


class QuestionForm(forms.Form):
    label = forms.CharField(label=_("Question"), max_length=300)
    kind = forms.ChoiceField(label=_("Type"), choices=QuestionKind.choices)
    options_text = forms.CharField(label=_("Modalités (une par ligne)"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Fichier CSV"))


class WaveForm(UploadForm):
    name = forms.CharField(label=_("Nom de la vague"), max_length=200)
    year = forms.IntegerField(label=_("Année"), min_value=1990, max_value=2100)
    source_format = forms.ChoiceField(label=_("Format"), choices=WaveFormat.choices)
