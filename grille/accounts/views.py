from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grille.assessments.forms import EmailForm
from grille.assessments.grants import granted_uuids
from grille.assessments.services import claim_assessments
from grille.core.access import private
from grille.core.ratelimit import (
    BAD_LOGIN_LINKS,
    LOGIN_LINKS_PER_EMAIL,
    LOGIN_LINKS_PER_IP,
    RateLimited,
    client_ip,
    counts_unknown_links,
    too_many_attempts,
)
from grille.core.tokens import new_token
from grille.core.users import AuthenticatedHttpRequest

from . import selectors
from .forms import ApiTokenForm, ProfileForm
from .models import User
from .services import (
    ApiTokenError,
    LoginLinkError,
    asked_from,
    check_login_link,
    consume_login_link,
    create_api_token,
    needs_profile_prompt,
    revoke_api_token,
    save_profile,
    send_login_link,
    skip_profile_prompt,
)

# Binds sign-in links to the browser that asked for them (see LoginLink.browser_hash).
BROWSER_KEY = "grille_login_browser"
# The raw token crosses one redirect in the session, then is shown once and forgotten.
NEW_API_TOKEN_KEY = "grille_new_api_token"


@require_http_methods(["GET", "POST"])
def login_request(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, request.POST.get("next", ""))}, status=400)
        # Whether the address has an account plays no part: any address may receive a link.
        ip, email = client_ip(request), form.cleaned_data["email"]
        try:
            LOGIN_LINKS_PER_IP.check(ip)
            LOGIN_LINKS_PER_EMAIL.check(email)
        except RateLimited as exc:
            return too_many_attempts(request, exc, _(
                "Beaucoup de liens de connexion ont été demandés ces dernières minutes. Pour éviter les "
                "envois abusifs, attendez avant d'en demander un autre ; un lien déjà reçu reste utilisable."
            ))
        LOGIN_LINKS_PER_IP.hit(ip)
        LOGIN_LINKS_PER_EMAIL.hit(email)
        send_login_link(
            email=form.cleaned_data["email"],
            next_path=_safe_next(request, request.POST.get("next", "")),
            browser_key=_browser_key(request),
        )
        return render(request, "accounts/login_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, request.GET.get("next", ""))})


def _browser_key(request: HttpRequest) -> str:
    """A random key kept in this browser's session: the sign-in links it asks for are bound to it."""
    key = request.session.get(BROWSER_KEY)
    if not isinstance(key, str) or not key:
        key, _digest = new_token()
        request.session[BROWSER_KEY] = key
    return key


def _safe_next(request: HttpRequest, target: str) -> str:
    """A local path to return to after signing in, never another site."""
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@counts_unknown_links(BAD_LOGIN_LINKS)
@require_http_methods(["GET", "POST"])
def login_confirm(request: HttpRequest, token: str) -> HttpResponse:
    # The GET only shows a button: mail scanners that follow links must not use them up.
    # Opened in a browser other than the one that asked, the page names the account, and that
    # browser's positionings are attached only if ticked one by one.
    browser_key = str(request.session.get(BROWSER_KEY, ""))
    uuids = granted_uuids(request)
    try:
        if request.method == "GET":
            link = check_login_link(raw=token)
            same_browser = asked_from(link, browser_key=browser_key)
            return render(request, "accounts/login_confirm.html", {
                "email": link.email,
                "same_browser": same_browser,
                "positionings": [] if same_browser else list(selectors.unclaimed_positionings(uuids)),
            })
        signed_in = consume_login_link(raw=token, browser_key=browser_key)
    except LoginLinkError as exc:
        return render(request, "accounts/login_invalid.html", {"reason": exc.reason}, status=404 if exc.reason == "unknown" else 410)
    if not signed_in.same_browser:
        ticked = set(request.POST.getlist("claim"))
        uuids = [uuid for uuid in uuids if uuid in ticked]
    login(request, signed_in.user, backend="django.contrib.auth.backends.ModelBackend")
    claim_assessments(user=signed_in.user, uuids=uuids)
    if needs_profile_prompt(signed_in.user):
        # Asked once, after the first sign-in; the page then goes on where the link was going.
        welcome = reverse("accounts:welcome")
        return redirect(f"{welcome}?{urlencode({'next': signed_in.next_path})}" if signed_in.next_path else welcome)
    return redirect(signed_in.next_path or "assessments:list")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("pages:home")


@login_required
@private
@require_http_methods(["GET", "POST"])
def api_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, raw = create_api_token(user=request.user, name=form.cleaned_data["name"])
            except ApiTokenError as exc:
                form.add_error("name", str(exc))
            else:
                request.session[NEW_API_TOKEN_KEY] = raw
                return redirect("accounts:api_tokens")
        status = 400
    new_token = request.session.pop(NEW_API_TOKEN_KEY, None) if request.method == "GET" else None
    return render(request, "accounts/api_tokens.html", {
        "form": form,
        "tokens": selectors.api_tokens_for(request.user),
        "new_token": new_token,
        "api_root": request.build_absolute_uri("/api/v1/"),
    }, status=status)


@login_required
@require_POST
def api_token_revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    token = selectors.get_api_token(request.user, token_id)
    revoke_api_token(token=token)
    messages.success(request, _("Le jeton « %(name)s » est révoqué : il ne donne plus accès à l'API.") % {"name": token.name})
    return redirect("accounts:api_tokens")


def _save_profile_form(request: AuthenticatedHttpRequest, form: ProfileForm) -> bool:
    """Save a valid form through the service; False (errors on the form) when refused."""
    if not form.is_valid():
        return False
    try:
        save_profile(user=request.user, **form.cleaned_data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return False
    return True


@login_required
@private
@require_http_methods(["GET", "POST"])
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """« Mon compte »: how the person is shown to others, and their personal pages."""
    # A copy: a refused form must not change the name shown in the page around it.
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=User.objects.get(pk=request.user.pk))
    if request.method == "POST":
        if _save_profile_form(request, form):
            messages.success(request, _("Vos informations sont enregistrées."))
            return redirect("accounts:account")
        return render(request, "accounts/account.html", {"form": form}, status=400)
    return render(request, "accounts/account.html", {"form": form})


@login_required
@private
@require_http_methods(["GET", "POST"])
def welcome(request: AuthenticatedHttpRequest) -> HttpResponse:
    """After the first sign-in: « Comment vous présenter ? », once, and skippable."""
    next_path = _safe_next(request, request.POST.get("next", "") if request.method == "POST" else request.GET.get("next", ""))
    if request.method == "GET" and not needs_profile_prompt(request.user):
        return redirect(next_path or "assessments:list")
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=User.objects.get(pk=request.user.pk))
    if request.method == "POST":
        if "skip" in request.POST:
            skip_profile_prompt(user=request.user)
            messages.info(request, _("Vous pourrez vous présenter plus tard dans « Mon compte »."))
            return redirect(next_path or "assessments:list")
        if not _save_profile_form(request, form):
            return render(request, "accounts/welcome.html", {"form": form, "next": next_path}, status=400)
        messages.success(request, _("Vos informations sont enregistrées."))
        return redirect(next_path or "assessments:list")
    return render(request, "accounts/welcome.html", {"form": form, "next": next_path})
