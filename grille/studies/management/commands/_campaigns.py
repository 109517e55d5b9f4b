"""What the study commands share: finding a campaign from the identifier people copy from its page."""

import uuid

from django.core.management.base import CommandError

from grille.studies.models import Campaign


def campaign_from(value: str) -> Campaign:
    try:
        key = uuid.UUID(value.strip())
    except ValueError:
        raise CommandError(
            f"« {value} » n'est pas un identifiant de campagne (attendu : un UUID, par exemple "
            "3f2b8c1e-0d4a-4b6f-9a57-2c1d8e9f0a12, affiché dans l'adresse de la campagne)."
        ) from None
    campaign = Campaign.objects.select_related("version").filter(uuid=key).first()
    if campaign is None:
        raise CommandError(f"Aucune campagne n'a l'identifiant {key}.")
    return campaign
