from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, User


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("Pour le reconnaître plus tard, par exemple « Tableur de l'équipe »."),
        error_messages={
            "required": _("Donnez un nom à ce jeton, par exemple l'outil qui l'utilisera."),
            "max_length": _("Le nom est trop long : %(limit_value)d caractères au plus."),
        },
    )


class ProfileForm(forms.ModelForm):
    """How the person presents themselves to others: a name, a job title and a structure, all
    optional; the model's validators (one line, no web or e-mail address) apply."""

    class Meta:
        model = User
        fields = ["display_name", "job_title", "affiliation"]
        labels = {
            "display_name": _("Votre nom"),
            "job_title": _("Votre fonction (facultatif)"),
            "affiliation": _("Votre structure (facultatif)"),
        }
        help_texts = {
            "display_name": _("Tel que les autres membres de vos structures le verront, par exemple « Camille Martin »."),
            "job_title": _("Par exemple « Cheffe de projet Petites villes de demain »."),
            "affiliation": _("La collectivité, l'association ou l'organisme où vous travaillez."),
        }
        error_messages = {
            field: {"max_length": _("Ce texte est trop long : %(limit_value)d caractères au plus.")}
            for field in ("display_name", "job_title", "affiliation")
        }

    AUTOCOMPLETE = {"display_name": "name", "job_title": "organization-title", "affiliation": "organization"}

    def fields_with_autocomplete(self) -> list[tuple[forms.BoundField, str]]:
        """Each field with the browser's autofill hint, for accounts/_profile_fields.html."""
        return [(self[name], self.AUTOCOMPLETE[name]) for name in self.Meta.fields]
