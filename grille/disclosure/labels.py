"""The words that go with protected figures, the same under every table, page, file and PDF."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .ptable import default_ptable


def protection_note(k: int) -> str:
    """One sentence under every table of protected figures."""
    return _(
        "Chiffres approchés : chaque effectif est légèrement perturbé (de −%(noise)d à +%(noise)d) pour "
        "protéger les personnes ; « s » = moins de %(k)d, non diffusé ; moyennes, parts et intervalles "
        "sont calculés à partir des effectifs diffusés."
    ) % {"noise": default_ptable().max_noise, "k": k}
