"""A final submission double-clicked or replayed, through gunicorn: one submitted positioning,
sent once, with the answers it had."""

import json

from grille.accounts.services import create_api_token
from grille.assessments.models import Assessment
from tests.factories import make_user, stored_answers

from .burst import at_once
from .server import Visitor


def test_submission_double_clicked_then_replayed_is_sent_once(gunicorn):
    server = gunicorn(workers=3)
    visitor = Visitor(server)
    uuid = visitor.start_positioning()
    assert visitor.post(f"/positionnements/{uuid}/reponses/1.1/", {"1.1-niveau": "2"}).status == 200
    submit = f"/positionnements/{uuid}/envoyer/"
    form = {"csrfmiddlewaretoken": visitor.cookies["csrftoken"]}

    clicks = at_once([lambda: visitor.post(submit, form), lambda: visitor.post(submit, form)])
    sent_at = Assessment.objects.get(uuid=uuid).submitted_at
    replays = [visitor.post(submit, form) for _ in range(2)]

    assert sorted(r.status for r in clicks) == [302, 409]
    assert next(r for r in clicks if r.status == 302).location == f"/positionnements/{uuid}/profil/"
    assert [r.status for r in replays] == [409, 409]
    assert "Ce positionnement a déjà été envoyé" in replays[0].body.decode()
    assessment = Assessment.objects.get()
    assert (str(assessment.uuid), assessment.status, assessment.submitted_at) == (uuid, "submitted", sent_at)
    assert stored_answers(assessment) == {"1.1": ("2", None, None, "")}


def test_api_submission_sent_four_times_at_once_is_sent_once(gunicorn):
    server = gunicorn(workers=3)
    _token, raw = create_api_token(user=make_user(), name="Script")
    api = Visitor(server)
    auth = {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"}

    def call(method, path, body=None):
        connection = api.connect(method, f"/api/v1{path}", headers=auth, body=json.dumps(body) if body else None)
        try:
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    status, created = call("POST", "/positionnements")
    uuid = created["id"]
    assert call("PUT", f"/positionnements/{uuid}/reponses/1.1", {"level": "3"})[0] == 200

    results = at_once([lambda: call("POST", f"/positionnements/{uuid}/envoi")] * 4)

    assert status == 201
    assert sorted(s for s, _body in results) == [200, 409, 409, 409]
    assert {b["detail"] for s, b in results if s == 409} == {
        "Ce positionnement a déjà été envoyé : il ne peut plus être modifié. Commencez-en un nouveau pour le mettre à jour."
    }
    assert Assessment.objects.filter(status="submitted").count() == Assessment.objects.count() == 1
