from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ApiToken


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
