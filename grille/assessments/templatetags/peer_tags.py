"""The « Se comparer aux pairs » panel of the profile page, from what the view read: no query here."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse

from grille.assessments.forms import PeerJoinForm
from grille.assessments.models import Assessment, PeerShare
from grille.assessments.peers import ALL_PEERS, PEER_CONSENT_VERSION
from grille.core.enums import StructureType
from grille.disclosure.cells import DEFAULT_THRESHOLD
from grille.disclosure.policy import POOL_BATCH

register = template.Library()


@dataclass(frozen=True)
class PeerPanel:
    share: PeerShare | None
    structure_label: str
    form: PeerJoinForm
    comparison_url: str
    consent_version: str = PEER_CONSENT_VERSION
    k: int = DEFAULT_THRESHOLD
    batch: int = POOL_BATCH

    @property
    def pending(self) -> bool:
        """In the benchmark, waiting for the next batch to count for the others."""
        return self.share is not None and not self.share.released


@register.simple_tag
def peer_panel(assessment: Assessment, share: PeerShare | None, form: PeerJoinForm | None = None) -> PeerPanel:
    """The person's participation, as the view read it, and the join form (the bound one after
    a refused POST)."""
    return PeerPanel(
        share=share,
        structure_label=str(StructureType(share.structure_type).label) if share else "",
        form=form if isinstance(form, PeerJoinForm) else PeerJoinForm(),
        comparison_url=f"{reverse('assessments:peers', args=[assessment.uuid])}?type={ALL_PEERS}",
    )
