"""Issue 14: invitations in batches, read by the same tolerant reader as a study's respondent lists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from grille.core.mail import MailKind
from grille.core.models import OutgoingEmail
from grille.core.ratelimit import INVITATION_MAILS, user_sender
from grille.organisations import services
from grille.organisations.models import Invitation


def invited_addresses(organisation) -> list[str]:
    return sorted(Invitation.objects.filter(organisation=organisation).exclude(email="").values_list("email", flat=True))


def mailed_to() -> list[str]:
    return sorted(
        OutgoingEmail.objects.filter(kind=MailKind.ORGANISATION_INVITATION).values_list("recipient", flat=True)
    )


def batch(facilitator, *, pasted: str = "", raw: bytes = b"", days: int = 14) -> services.BatchInvitationReport:
    addresses = services.read_address_list(pasted=pasted, raw=raw)
    return services.invite_batch(membership=facilitator, addresses=addresses, days=days)


# The reader: separators, encodings, headers, duplicates, bad lines


def test_a_french_excel_file_semicolons_cp1252_with_a_header_is_read(facilitator):
    raw = "Nom;Prénom;Courriel\r\nDésirée;Élodie;elodie.desiree@exemple.fr\r\nMünch;Zoé;zoe@exemple.fr\r\n".encode("cp1252")

    report = batch(facilitator, raw=raw)

    assert report.invited == ["elodie.desiree@exemple.fr", "zoe@exemple.fr"]
    assert report.errors == []
    assert invited_addresses(facilitator.organisation) == ["elodie.desiree@exemple.fr", "zoe@exemple.fr"]
    assert mailed_to() == ["elodie.desiree@exemple.fr", "zoe@exemple.fr"]


def test_a_comma_file_in_utf8_with_a_bom_and_no_header_is_read(facilitator):
    raw = "\ufeffjean@exemple.fr,Jean Dupont\nmarie@exemple.fr,Marie Curie\n".encode("utf-8")

    report = batch(facilitator, raw=raw)

    assert report.invited == ["jean@exemple.fr", "marie@exemple.fr"]
    assert report.errors == []


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-8"])
@pytest.mark.parametrize("separator", [";", ","])
@pytest.mark.parametrize("header", [True, False])
def test_either_separator_any_common_encoding_with_or_without_header(facilitator, encoding, separator, header):
    lines = [f"Agnès{separator}agnes@exemple.fr", f"Hélène{separator}helene@exemple.fr"]
    if header:
        lines.insert(0, f"Nom{separator}E-mail")
    report = batch(facilitator, raw="\r\n".join(lines).encode(encoding))

    assert report.invited == ["agnes@exemple.fr", "helene@exemple.fr"]
    assert report.errors == []


def test_duplicates_differing_by_case_are_invited_once_and_named(facilitator):
    report = batch(facilitator, raw=b"courriel\nLea@Exemple.fr\nlea@exemple.fr\nLEA@EXEMPLE.FR\n")

    assert report.invited == ["lea@exemple.fr"]
    assert [str(e) for e in report.errors] == [
        "Ligne 3, colonne « courriel » : en double (déjà ligne 2) (« lea@exemple.fr »)",
        "Ligne 4, colonne « courriel » : en double (déjà ligne 2) (« LEA@EXEMPLE.FR »)",
    ]
    assert mailed_to() == ["lea@exemple.fr"]


def test_bad_lines_are_named_and_the_valid_addresses_are_invited_all_the_same(facilitator):
    raw = b"Nom;Email\nDupont;jean@exemple.fr\nMartin;pas-une-adresse\nDurand;\nPetit;=HYPERLINK(\"x\")\nRoux;marie@exemple.fr\n"

    report = batch(facilitator, raw=raw)

    assert report.invited == ["jean@exemple.fr", "marie@exemple.fr"]
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "adresse invalide"), (4, "adresse manquante"), (5, "adresse invalide"),
    ]
    assert "« pas-une-adresse »" in str(report.errors[0])
    assert str(report.errors[2]).endswith("(« '=HYPERLINK(\"x\") »)")  # echoed inert
    assert report.not_invited == 3


def test_a_list_pasted_from_a_mail_program_is_split_on_its_separators(facilitator):
    report = batch(facilitator, pasted="jean@exemple.fr; Marie Curie <Marie@Exemple.fr>, paul@exemple.fr\nnimporte quoi; JEAN@exemple.fr")

    assert report.invited == ["jean@exemple.fr", "marie@exemple.fr", "paul@exemple.fr"]
    assert [str(e) for e in report.errors] == [
        "Ligne 2 : adresse invalide (« nimporte quoi »)",
        "Ligne 2 : en double (déjà ligne 1) (« JEAN@exemple.fr »)",
    ]


def test_a_list_pasted_one_address_a_line_is_read_like_a_file(facilitator):
    report = batch(facilitator, pasted="jean@exemple.fr\n\nmarie@exemple.fr\n")

    assert report.invited == ["jean@exemple.fr", "marie@exemple.fr"]


def test_a_workbook_is_refused_with_a_clear_message_and_nothing_sent(facilitator):
    with pytest.raises(services.OrganisationError, match="classeur"):
        batch(facilitator, raw=b"PK\x03\x04 not really a workbook")
    assert invited_addresses(facilitator.organisation) == []


# What is skipped, capped or left for later


def test_members_and_people_already_invited_are_skipped(facilitator, member):
    services.create_invitation(membership=facilitator, email="deja@exemple.fr")
    OutgoingEmail.objects.all().delete()

    report = batch(facilitator, pasted="BRUNO@exemple.fr\ndeja@exemple.fr\nnouvelle@exemple.fr\n")

    assert report.invited == ["nouvelle@exemple.fr"]
    assert report.already_members == ["bruno@exemple.fr"]
    assert report.already_invited == ["deja@exemple.fr"]
    assert mailed_to() == ["nouvelle@exemple.fr"]


def test_a_revoked_invitation_does_not_count_as_already_invited(facilitator):
    invitation, _raw = services.create_invitation(membership=facilitator, email="revoquee@exemple.fr")
    services.revoke_invitation(membership=facilitator, invitation=invitation)

    assert batch(facilitator, pasted="revoquee@exemple.fr").invited == ["revoquee@exemple.fr"]


def test_a_list_over_the_cap_is_refused_whole(facilitator):
    emails = "\n".join(f"personne{i}@exemple.fr" for i in range(services.INVITATION_BATCH_MAX + 1))

    with pytest.raises(services.OrganisationError) as refused:
        batch(facilitator, pasted=emails)

    assert f"{services.INVITATION_BATCH_MAX + 1} adresses" in str(refused.value)
    assert f"{services.INVITATION_BATCH_MAX} au plus" in str(refused.value)
    assert invited_addresses(facilitator.organisation) == []
    assert mailed_to() == []


def test_a_list_at_the_cap_is_sent(facilitator):
    emails = "\n".join(f"personne{i}@exemple.fr" for i in range(services.INVITATION_BATCH_MAX))

    assert len(batch(facilitator, pasted=emails).invited) == services.INVITATION_BATCH_MAX


def test_over_the_hourly_limit_the_rest_is_listed_for_later(facilitator):
    sender = user_sender(facilitator.user_id)
    for _i in range(INVITATION_MAILS.per_sender.limit - 1):
        INVITATION_MAILS.per_sender.hit(sender)

    report = batch(facilitator, pasted="a@exemple.fr\nb@exemple.fr\nc@exemple.fr")

    assert report.invited == ["a@exemple.fr"]
    assert report.postponed == ["b@exemple.fr", "c@exemple.fr"]
    assert report.retry_minutes > 0
    assert invited_addresses(facilitator.organisation) == ["a@exemple.fr"]  # nothing saved for the others


def test_a_member_cannot_invite_a_batch(member):
    with pytest.raises(services.NotAllowed):
        batch(member, pasted="x@exemple.fr")


# The page


def facilitator_client(facilitator) -> Client:
    client = Client()
    client.force_login(facilitator.user)
    return client


def test_the_members_page_offers_the_batch_form(facilitator):
    html = facilitator_client(facilitator).get(reverse("organisations:members", args=[facilitator.organisation.uuid])).content.decode()

    assert 'enctype="multipart/form-data"' in html
    assert '<label for="id_batch-addresses">Adresses e-mail à coller</label>' in html
    assert 'type="file" id="id_batch-file"' in html


def test_uploading_a_file_invites_and_lists_the_bad_lines_on_the_next_page(facilitator):
    client = facilitator_client(facilitator)
    url = reverse("organisations:invite_batch", args=[facilitator.organisation.uuid])
    upload = SimpleUploadedFile("equipe.csv", "Nom;Adresse mail\nÉlise;elise@exemple.fr\nBob;bob(at)exemple.fr\n".encode("cp1252"))

    response = client.post(url, {"batch-file": upload, "batch-days": "7"})

    assert response.status_code == 302
    assert response["Location"].endswith("/membres/#invite-report")
    html = client.get(response["Location"]).content.decode()
    assert "1 invitation envoyée." in html
    assert "Ligne 3, colonne « Adresse mail » : adresse invalide (« bob(at)exemple.fr »)" in html
    assert invited_addresses(facilitator.organisation) == ["elise@exemple.fr"]
    invitation = Invitation.objects.get(email="elise@exemple.fr")
    assert abs((invitation.expires_at - invitation.created_at) - timedelta(days=7)) < timedelta(minutes=1)
    # The report is shown once.
    assert "Résultat de l'envoi" not in client.get(response["Location"]).content.decode()


def test_pasting_addresses_invites_them(facilitator, member):
    client = facilitator_client(facilitator)
    url = reverse("organisations:invite_batch", args=[facilitator.organisation.uuid])

    response = client.post(url, {"batch-addresses": "une@exemple.fr; deux@exemple.fr, bruno@exemple.fr", "batch-days": "14"}, follow=True)

    html = response.content.decode()
    assert "2 invitations envoyées." in html
    assert "Déjà membres de la structure" in html
    assert mailed_to() == ["deux@exemple.fr", "une@exemple.fr"]


def test_an_empty_form_is_refused_with_a_message(facilitator):
    client = facilitator_client(facilitator)
    response = client.post(reverse("organisations:invite_batch", args=[facilitator.organisation.uuid]), {"batch-addresses": "  ", "batch-days": "14"})

    assert response.status_code == 400
    assert "Collez des adresses ou choisissez un fichier." in response.content.decode()


def test_a_list_over_the_cap_is_refused_on_the_page_and_the_pasted_text_kept(facilitator):
    client = facilitator_client(facilitator)
    pasted = "\n".join(f"p{i}@exemple.fr" for i in range(services.INVITATION_BATCH_MAX + 5))

    response = client.post(reverse("organisations:invite_batch", args=[facilitator.organisation.uuid]), {"batch-addresses": pasted, "batch-days": "14"})

    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r"La liste compte \d+ adresses", html)
    assert "p54@exemple.fr" in html  # still in the text area
    assert invited_addresses(facilitator.organisation) == []


def test_a_member_gets_a_403_and_nothing_is_sent(facilitator, member):
    client = Client()
    client.force_login(member.user)
    response = client.post(reverse("organisations:invite_batch", args=[facilitator.organisation.uuid]), {"batch-addresses": "x@exemple.fr", "batch-days": "14"})

    assert response.status_code == 403
    assert invited_addresses(facilitator.organisation) == []


def test_the_batch_form_needs_the_csrf_token(facilitator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(facilitator.user)
    response = client.post(reverse("organisations:invite_batch", args=[facilitator.organisation.uuid]), {"batch-addresses": "x@exemple.fr", "batch-days": "14"})

    assert response.status_code == 403
    assert invited_addresses(facilitator.organisation) == []


def test_an_outsider_gets_a_404(facilitator, outsider):
    client = Client()
    client.force_login(outsider.user)
    response = client.post(reverse("organisations:invite_batch", args=[facilitator.organisation.uuid]), {"batch-addresses": "x@exemple.fr", "batch-days": "14"})

    assert response.status_code == 404
    assert invited_addresses(facilitator.organisation) == []
