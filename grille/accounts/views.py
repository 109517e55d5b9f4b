from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from grille.assessments.forms import EmailForm
from grille.assessments.selectors import granted_uuids
from grille.assessments.services import claim_assessments

from .services import LoginLinkError, check_login_link, consume_login_link, send_login_link


@require_http_methods(["GET", "POST"])
def login_request(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, request.POST.get("next", ""))}, status=400)
        send_login_link(
            email=form.cleaned_data["email"],
            link_for=lambda raw: request.build_absolute_uri(reverse("accounts:login_confirm", args=[raw])),
            next_path=_safe_next(request, request.POST.get("next", "")),
        )
        return render(request, "accounts/login_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, request.GET.get("next", ""))})


def _safe_next(request: HttpRequest, target: str) -> str:
    """A local path to return to after signing in, never another site."""
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@require_http_methods(["GET", "POST"])
def login_confirm(request: HttpRequest, token: str) -> HttpResponse:
    # The GET only shows a button: mail scanners that follow links must not use them up.
    try:
        if request.method == "GET":
            check_login_link(raw=token)
            return render(request, "accounts/login_confirm.html")
        user, next_path = consume_login_link(raw=token)
    except LoginLinkError as exc:
        return render(request, "accounts/login_invalid.html", {"reason": exc.reason}, status=404 if exc.reason == "unknown" else 410)
    uuids = granted_uuids(request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    claim_assessments(user=user, uuids=uuids)
    return redirect(next_path or "assessments:list")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:home")
