from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/error.html", {"message_key": "csrf"}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        # An address the API does not have: answered in the API's own error format.
        return JsonResponse({"detail": _("Introuvable.")}, status=404)
    return render(request, "core/error.html", {"message_key": "404"}, status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/error.html", {"message_key": "400"}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    # The database may be what failed: rendered without the request, so that no context
    # processor reads the session or the user (a second error would leave a bare page).
    return HttpResponse(render_to_string("core/error.html", {"message_key": "500"}), status=500)
