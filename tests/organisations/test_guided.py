"""The guided workshop: agenda, one practice per screen, decisions in the flow, live follow, summary."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grille.organisations import guided, services
from grille.organisations.enums import ShareMode
from grille.organisations.models import ActionItem, Decision, DecisionRevision, WorkshopSession
from grille.organisations.team import build_team_map


def client_for(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def url(name: str, session: WorkshopSession | None = None, *args: object) -> str:
    if session is None:
        raise AssertionError
    return reverse(f"organisations:{name}", args=[session.organisation.uuid, session.pk, *args])


@pytest.fixture
def team_answers(facilitator, member, other_member, share):
    """Three named shares: 1.1 nobody regular (a gap), 1.2 levels far apart (a debate point),
    1.3 wished for by two people."""
    share(facilitator, {"1.1": "1", "1.2": "3", "1.3": ("2", "oui", "")})
    share(member, {"1.1": "0", "1.2": "0", "1.3": ("2", "oui", "")})
    share(other_member, {"1.1": "1", "1.2": "3", "1.3": "2"})
    return build_team_map(facilitator.organisation)


@pytest.fixture
def session(facilitator, team_answers) -> WorkshopSession:
    return guided.start_workshop_session(
        membership=facilitator, team=team_answers, ordering="grid", practice_codes=["1.1", "1.2", "1.3"]
    )


# Agenda


def test_ordering_by_gaps_puts_practices_nobody_carries_first(team_answers):
    ordered = [p.practice.code for p in guided.order_practices(team_answers, "gaps")]

    gaps = {p.practice.code for p in team_answers.gaps}
    assert "1.1" in gaps
    assert set(ordered[: len(gaps)]) == gaps
    assert len(ordered) == len(team_answers.practices)


def test_ordering_by_debate_puts_the_widest_spread_first(team_answers):
    ordered = [p.practice.code for p in guided.order_practices(team_answers, "debate")]

    assert ordered[0] == "1.2"


def test_ordering_by_wishes_puts_the_most_wished_first(team_answers):
    ordered = [p.practice.code for p in guided.order_practices(team_answers, "wishes")]

    assert ordered[0] == "1.3"
    assert guided.suggested_codes(team_answers, "wishes") == ["1.3"]


def test_agenda_adds_whole_situations_in_the_chosen_order(team_answers):
    grid = team_answers.grid
    situation = grid.situations[1]
    agenda = guided.build_agenda(team_answers, ordering="grid", practice_codes=["1.1"], situation_codes=[situation.code])

    expected = ["1.1", *[p.code for p in grid.practices if p.situation_code == situation.code]]
    assert agenda == expected


@pytest.mark.parametrize(("codes", "situations", "message"), [
    ([], [], "au moins une pratique"),
    (["9.9"], [], "n'existe pas"),
    ([], ["Z"], "n'existe pas"),
])
def test_agenda_refuses_empty_or_unknown_choices(team_answers, codes, situations, message):
    with pytest.raises(services.OrganisationError, match=message):
        guided.build_agenda(team_answers, ordering="grid", practice_codes=codes, situation_codes=situations)


def test_agenda_refuses_an_unknown_ordering(team_answers):
    with pytest.raises(services.OrganisationError, match="ordre"):
        guided.build_agenda(team_answers, ordering="hasard", practice_codes=["1.1"])


# Session state


def test_only_a_facilitator_opens_a_workshop(member, team_answers):
    with pytest.raises(services.NotAllowed):
        guided.start_workshop_session(membership=member, team=team_answers, ordering="grid", practice_codes=["1.1"])

    assert WorkshopSession.objects.count() == 0


def test_opening_a_workshop_closes_the_one_still_open(facilitator, session, team_answers):
    second = guided.start_workshop_session(membership=facilitator, team=team_answers, ordering="gaps", practice_codes=["1.2"])

    session.refresh_from_db()
    assert session.ended_at is not None
    assert guided.open_session(facilitator) == second


def test_moving_adds_the_time_spent_to_the_practice_left(facilitator, session):
    WorkshopSession.objects.filter(pk=session.pk).update(current_since=timezone.now() - timedelta(seconds=125))

    moved = guided.move_workshop_session(membership=facilitator, session=session, position=2)

    assert moved.current_index == 2
    assert 125 <= moved.item_seconds["1.1"] < 135
    assert guided.item_seconds(moved, "1.1") == moved.item_seconds["1.1"]
    assert set(moved.item_started_at) == {"1.1", "1.3"}


def test_moving_outside_the_agenda_or_after_the_end_is_refused(facilitator, session):
    with pytest.raises(services.OrganisationError, match="ordre du jour"):
        guided.move_workshop_session(membership=facilitator, session=session, position=3)
    guided.end_workshop_session(membership=facilitator, session=session)
    with pytest.raises(services.OrganisationError, match="terminé"):
        guided.move_workshop_session(membership=facilitator, session=session, position=1)


def test_a_member_cannot_move_the_room(member, session):
    with pytest.raises(services.NotAllowed):
        guided.move_workshop_session(membership=member, session=session, position=1)


def test_clock_reads_minutes_and_seconds():
    assert [guided.clock(s) for s in (0, 5, 65, 600)] == ["0:00", "0:05", "1:05", "10:00"]


# Pages


def test_setup_page_preselects_the_first_practices_for_the_ordering(facilitator, team_answers):
    response = client_for(facilitator).get(reverse("organisations:guided", args=[facilitator.organisation.uuid]) + "?ordre=debate")

    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert 'id="practice-1.2" name="practices" value="1.2" checked' in html
    assert 'id="practice-1.3" name="practices" value="1.3">' in html


def test_a_facilitator_opens_a_workshop_from_the_setup_page(facilitator, team_answers):
    response = client_for(facilitator).post(
        reverse("organisations:guided", args=[facilitator.organisation.uuid]),
        {"ordering": "wishes", "practices": ["1.1", "1.3"], "minutes_per_item": "4"},
    )

    session = WorkshopSession.objects.get()
    assert session.agenda == ["1.3", "1.1"]
    assert session.minutes_per_item == 4
    assert response.status_code == 302
    assert response.url == url("guided_item", session, 0)


def test_an_empty_agenda_is_refused_with_a_message(facilitator, team_answers):
    response = client_for(facilitator).post(
        reverse("organisations:guided", args=[facilitator.organisation.uuid]), {"ordering": "gaps", "minutes_per_item": "5"}
    )

    assert response.status_code == 400
    assert "Choisissez au moins une pratique" in unescape(response.content.decode())
    assert WorkshopSession.objects.count() == 0


def test_a_member_cannot_open_a_workshop(member, team_answers):
    response = client_for(member).post(
        reverse("organisations:guided", args=[member.organisation.uuid]),
        {"ordering": "gaps", "practices": ["1.1"], "minutes_per_item": "5"},
    )

    assert response.status_code == 403
    assert WorkshopSession.objects.count() == 0


def test_guided_pages_are_404_for_outsiders(outsider, session):
    client = client_for(outsider)
    for address in (
        reverse("organisations:guided", args=[session.organisation.uuid]),
        url("guided_item", session, 0), url("guided_follow", session), url("guided_follow_live", session),
        url("guided_summary", session), url("guided_kit_pdf", session),
    ):
        assert client.get(address).status_code == 404, address


def test_a_session_of_another_organisation_is_404(outsider, session):
    other = guided.start_workshop_session(
        membership=outsider, team=build_team_map(outsider.organisation), ordering="grid", practice_codes=["1.1"]
    )
    address = reverse("organisations:guided_item", args=[session.organisation.uuid, other.pk, 0])

    assert client_for(session_facilitator(session)).get(address).status_code == 404


def session_facilitator(session: WorkshopSession):
    return session.organisation.memberships.get(user=session.created_by)


def test_practice_screen_shows_the_team_map_figures_debate_points_comments_and_decision(facilitator, member, session):
    services.add_comment(membership=member, practice_code="1.2", body="On n'a pas la même définition.")
    services.set_decision(membership=facilitator, practice_code="1.2", mode="partnership", partner_types=["association"])

    response = client_for(member).get(url("guided_item", session, 1))

    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Pratique 2 sur 3" in html
    assert "On n'a pas la même définition." in html
    assert "Désaccord" in html  # 1.2 is the team's widest spread
    assert "En partenariat" in html and "Association" in html
    team = build_team_map(facilitator.organisation)
    for option, n in team.distribution(team.stats("1.2")):
        assert f'<th scope="row">{option.label}</th><td class="num">{n}</td>' in html
    # A member reads and comments, but does not decide nor drive the room.
    assert 'name="mode"' not in html
    assert "Pratique suivante" in html and 'href="' + url("guided_item", session, 2) + '"' in html


def test_anonymous_shares_below_the_threshold_never_show_on_the_screen(facilitator, add_member, share):
    share(facilitator, {"1.1": "3"})
    for i in range(4):
        share(add_member(f"anonyme{i}@exemple.fr"), {"1.1": "0"}, mode=ShareMode.ANONYMOUS)
    team = build_team_map(facilitator.organisation)
    session = guided.start_workshop_session(membership=facilitator, team=team, ordering="grid", practice_codes=["1.1"])

    html = unescape(client_for(facilitator).get(url("guided_item", session, 0)).content.decode())

    levels = {option.code: n for option, n in team.distribution(team.stats("1.1"))}
    assert sum(levels.values()) == 1  # the four anonymous answers are not in the team map
    assert "≈" not in html
    for option, n in team.distribution(team.stats("1.1")):
        assert f'<th scope="row">{option.label}</th><td class="num">{n}</td>' in html


def test_decision_in_the_flow_saves_and_moves_to_the_next_practice(facilitator, session):
    response = client_for(facilitator).post(url("guided_decide", session, 0), {
        "mode": "both", "partner_types": ["fondation"], "partners": "Fondation du Val", "note": "À revoir en juin", "then": "next",
    })

    assert response.status_code == 302
    assert response.url == url("guided_item", session, 1)
    decision = Decision.objects.get(practice__code="1.1")
    assert (decision.mode, decision.partner_types, decision.partners, decision.note) == (
        "both", ["fondation"], "Fondation du Val", "À revoir en juin",
    )
    session.refresh_from_db()
    assert session.current_index == 1


def test_a_bad_decision_is_refused_and_keeps_the_saved_one(facilitator, session):
    services.set_decision(membership=facilitator, practice_code="1.1", mode="in-house", partner_types=[])

    response = client_for(facilitator).post(url("guided_decide", session, 0), {"mode": "au-hasard", "then": "next"})

    assert response.status_code == 400
    assert "Le formulaire n'a pas été enregistré" in unescape(response.content.decode())
    assert Decision.objects.get(practice__code="1.1").mode == "in-house"
    session.refresh_from_db()
    assert session.current_index == 0


def test_a_member_cannot_decide_in_the_flow(member, session):
    response = client_for(member).post(url("guided_decide", session, 0), {"mode": "both"})

    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_an_action_in_the_flow_is_about_the_practice_on_screen(facilitator, member, session):
    response = client_for(facilitator).post(url("guided_action", session, 2), {
        "title": "Former deux agents", "owner": str(member.pk), "due_date": "2027-03-31",
    })

    assert response.status_code == 302
    action = ActionItem.objects.get()
    assert (action.title, action.owner, str(action.due_date)) == ("Former deux agents", member, "2027-03-31")
    assert [p.code for p in action.practices.all()] == ["1.3"]


def test_an_action_without_a_title_or_with_a_stranger_as_owner_is_refused(facilitator, outsider, session):
    client = client_for(facilitator)
    empty = client.post(url("guided_action", session, 0), {"title": "  "})
    stranger = client.post(url("guided_action", session, 0), {"title": "Une action", "owner": str(outsider.pk)})

    assert empty.status_code == 400
    assert stranger.status_code == 400
    assert not ActionItem.objects.exists()


def test_a_member_comments_in_the_flow(member, session):
    response = client_for(member).post(url("guided_comment", session, 1), {"body": "Je la pratique à la marge."})

    assert response.status_code == 302
    assert [c.body for c in services.PracticeComment.objects.filter(practice__code="1.2")] == ["Je la pratique à la marge."]


def test_previous_and_next_move_the_room_for_the_facilitator_only(facilitator, member, session):
    assert client_for(member).post(url("guided_move", session), {"position": "1"}).status_code == 403
    response = client_for(facilitator).post(url("guided_move", session), {"position": "1"})
    bad = client_for(facilitator).post(url("guided_move", session), {"position": "dix"})

    assert response.status_code == 302
    assert bad.status_code == 400
    session.refresh_from_db()
    assert session.current_index == 1


def test_members_follow_the_practice_the_room_is_on(facilitator, member, session):
    client = client_for(member)
    assert "1.1" in unescape(client.get(url("guided_follow_live", session)).content.decode())

    guided.move_workshop_session(membership=facilitator, session=session, position=2)

    live = unescape(client.get(url("guided_follow_live", session)).content.decode())
    assert 'data-position="2"' in live
    assert '<span class="code">1.3</span>' in live
    assert client.get(url("guided_follow", session)).status_code == 200


def test_a_removed_member_gets_404_from_the_live_follow(facilitator, member, session):
    client = client_for(member)
    services.remove_member(by=facilitator, target=member)

    assert client.get(url("guided_follow_live", session)).status_code == 404


def test_the_follow_page_says_when_the_workshop_ended(facilitator, member, session):
    guided.end_workshop_session(membership=facilitator, session=session)

    live = unescape(client_for(member).get(url("guided_follow_live", session)).content.decode())

    assert "L'atelier est terminé." in live
    assert url("guided_summary", session) in live


def test_live_follow_queries_do_not_grow_with_the_team(facilitator, add_member, share, team_answers):
    session = guided.start_workshop_session(membership=facilitator, team=team_answers, ordering="grid", practice_codes=["1.1"])
    client = client_for(facilitator)
    client.get(url("guided_follow_live", session))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("guided_follow_live", session)).status_code == 200
        return len(queries)

    small = count()
    for i in range(6):
        membership = add_member(f"renfort{i}@exemple.fr", f"Renfort {i}")
        share(membership, {"1.1": "2"})
        services.add_comment(membership=membership, practice_code="1.1", body=f"Avis {i}")
    assert count() == small


def test_summary_lists_what_the_session_decided_and_not_what_came_before(facilitator, member, session):
    DecisionRevision.objects.all().delete()
    before = services.set_decision(membership=facilitator, practice_code="1.3", mode="in-house", partner_types=[])
    DecisionRevision.objects.filter(decision=before).update(changed_at=session.started_at - timedelta(hours=1))
    services.set_decision(membership=facilitator, practice_code="1.2", mode="not-priority", partner_types=[], note="Plus tard")
    services.set_decision(membership=facilitator, practice_code="1.1", mode="partnership", partner_types=["etat"])
    services.create_action(membership=facilitator, title="Appeler la DDT", practice_codes=["1.1"], owner_id=member.pk)

    summary = guided.session_summary(session, build_team_map(facilitator.organisation))
    client = client_for(facilitator)
    ended = client.post(url("guided_end", session))
    page = unescape(client.get(url("guided_summary", session)).content.decode())

    assert [row.practice.code for row in summary.decisions] == ["1.1", "1.2"]
    assert [a.title for a in summary.actions] == ["Appeler la DDT"]
    assert ended.status_code == 302 and ended.url == url("guided_summary", session)
    assert "2 arbitrages pris pendant l'atelier" in page
    assert "Appeler la DDT" in page and "Bruno Membre" in page
    assert "Terminer l'atelier" not in page


def test_a_member_cannot_end_the_workshop(member, session):
    assert client_for(member).post(url("guided_end", session)).status_code == 403
    session.refresh_from_db()
    assert session.ended_at is None


def test_decision_page_links_the_previous_and_next_practices(facilitator, grid):
    codes = [p.code for p in grid.practices]
    html = client_for(facilitator).get(
        reverse("organisations:decision", args=[facilitator.organisation.uuid, codes[1]])
    ).content.decode()
    first = client_for(facilitator).get(
        reverse("organisations:decision", args=[facilitator.organisation.uuid, codes[0]])
    ).content.decode()

    assert f'rel="prev" href="{reverse("organisations:decision", args=[facilitator.organisation.uuid, codes[0]])}"' in html
    assert f'rel="next" href="{reverse("organisations:decision", args=[facilitator.organisation.uuid, codes[2]])}"' in html
    assert 'rel="prev"' not in first
