"""Who may do what in an organisation space: the one answer that the views, the API, the
templates, the services and the access-matrix test all ask (README, « Qui voit quoi »).

Each predicate takes the caller's membership of the organisation, as the scoped selectors
return it, or None for anyone outside it. None of them queries the database.
"""

from __future__ import annotations

from .models import ActionItem, Membership


def can_view_team(membership: Membership | None) -> bool:
    """Every member sees the team map, on the page, in the workshop, in the reports and through
    the API: it shows only what each member chose to share (named shares by name, anonymous
    ones in protected totals), so a facilitator sees nothing more than a member."""
    return membership is not None


def can_export_team(membership: Membership | None) -> bool:
    """The XLSX and PDF reports hold the team map, the decisions and the action plan, which
    every member reads: every member downloads them."""
    return can_view_team(membership)


def _facilitates(membership: Membership | None) -> bool:
    return membership is not None and membership.is_facilitator


def can_manage_members(membership: Membership | None) -> bool:
    """Facilitators invite, revoke invitations, name or un-name facilitators and remove members."""
    return _facilitates(membership)


def can_remove_member(membership: Membership | None, target: Membership) -> bool:
    """A facilitator removes anyone from the organisation; a member may leave it."""
    if membership is None or target.organisation_id != membership.organisation_id:
        return False
    return target.pk == membership.pk or can_manage_members(membership)


def can_decide(membership: Membership | None) -> bool:
    """Facilitators record the organisation's decisions; every member comments on them."""
    return _facilitates(membership)


def can_manage_actions(membership: Membership | None) -> bool:
    """Facilitators add, change and delete the actions of the plan."""
    return _facilitates(membership)


def can_set_action_status(membership: Membership | None, action: ActionItem) -> bool:
    """An action moves forward by its owner's hand or a facilitator's."""
    if membership is None or action.organisation_id != membership.organisation_id:
        return False
    return action.owner_id == membership.pk or can_manage_actions(membership)


def can_run_workshop(membership: Membership | None) -> bool:
    """Facilitators build a guided workshop's agenda and drive it: they record its decisions
    and actions, which can_decide and can_manage_actions give them anyway."""
    return _facilitates(membership)


def can_follow_workshop(membership: Membership | None) -> bool:
    """Every member follows a guided workshop, read-only: it shows the team map's figures only."""
    return can_view_team(membership)
