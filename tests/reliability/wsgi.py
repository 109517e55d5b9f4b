"""The application gunicorn serves in production, with the faults a request asks for."""

from grille.wsgi import application as django_application

from . import faults

faults.install()


def application(environ, start_response):
    faults.current = environ.get("HTTP_X_GRILLE_FAULT", "")
    return django_application(environ, start_response)
