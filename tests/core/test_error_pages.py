"""The 500 page must show even when the database is what failed."""

from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject

from grille.core.views import server_error


class BrokenSession:
    def __getattr__(self, name):
        raise RuntimeError("database unreachable")

    def __getitem__(self, key):
        raise RuntimeError("database unreachable")


def _fail():
    raise RuntimeError("database unreachable")


def test_server_error_page_reads_neither_session_nor_user_nor_database():
    # No `db` fixture: pytest-django refuses any query, so one would fail this test.
    request = RequestFactory().get("/")
    request.session = BrokenSession()
    request.user = SimpleLazyObject(_fail)

    response = server_error(request)

    page = response.content.decode()
    assert response.status_code == 500
    assert "Une erreur est survenue" in page
    assert "Vos réponses déjà enregistrées sont conservées" in page
