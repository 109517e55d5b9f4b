"""Settings, all from environment variables (see README)."""

import ipaddress
import os
from ipaddress import ip_address
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Development settings: DEBUG or GRILLE_DEV on. They bring the public key below, plain HTTP and
# files served from the apps, so the settings refuse them with a production environment (the guard
# after DATABASES).
DEVELOPMENT = DEBUG or env_bool("GRILLE_DEV", False)
DEV_SECRET_KEY = "dev-only-insecure-key-not-for-production-0123456789abcdefghijklmnop"
# Production refuses to start without a real secret; local runs get a fixed dev key.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured("SECRET_KEY doit être défini (variable d'environnement).")
    SECRET_KEY = DEV_SECRET_KEY
# Previous keys, during a rotation: sessions and links made with them stay valid until removed.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Where the admin is served (grille/urls.py): a less obvious address keeps the scanners that try
# /admin/ away from its sign-in, which is throttled anyway.
GRILLE_ADMIN_PATH = os.environ.get("GRILLE_ADMIN_PATH", "admin/").strip().strip("/") + "/"

INSTALLED_APPS = [
    "grille.core.apps.GrilleAdminConfig",  # django.contrib.admin, its sign-in throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from its bundled static files, never from a CDN
    "django_tasks",
    "django_tasks_db",
    "grille.core",
    "grille.pages",
    "grille.disclosure",
    "grille.accounts",
    "grille.frameworks",
    "grille.files",
    "grille.assessments",
    "grille.organisations",
    "grille.studies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "grille.core.middleware.SecurityHeadersMiddleware",
    # Under /api/ only: every error in the API's JSON format, over-size bodies included (issue 13).
    "grille.api.middleware.ApiErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "grille.core.security_log.RefusalLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "grille.urls"
WSGI_APPLICATION = "grille.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "grille.studies.context_processors.study_menu",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'grille.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# PostgreSQL: the hot pages' own statements are prepared once per connection (grille/core/sql.py).
# Off behind a PgBouncer in transaction mode, which cannot keep prepared statements.
GRILLE_PREPARED_STATEMENTS = env_bool("GRILLE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # IMMEDIATE transactions take the write lock up front, so two concurrent
    # autosaves queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0


def is_local_host(host: str) -> bool:
    """A name or address of this machine: localhost, *.localhost, a loopback address, a socket."""
    host = host.strip().strip("[]").lstrip(".").lower()
    if host in {"", "localhost"} or host.endswith(".localhost") or host.startswith("/"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


# Development settings never meet a production environment: a served host name that is not local
# (or « * »), or a database on another machine. And the public development key is never used
# outside development, not even as a fallback.
if DEVELOPMENT:
    production_signs = [f"ALLOWED_HOSTS contient « {host} »" for host in ALLOWED_HOSTS if not is_local_host(host)]
    if not is_local_host(str(DATABASES["default"].get("HOST") or "")):
        production_signs.append(f"la base de données est sur « {DATABASES['default']['HOST']} »")
    if production_signs:
        raise ImproperlyConfigured(
            "Réglages de développement (DEBUG ou GRILLE_DEV) dans un environnement de production : "
            + " ; ".join(production_signs)
            + ". Retirez DEBUG et GRILLE_DEV en production, ou ne servez que des hôtes locaux."
        )
elif DEV_SECRET_KEY in (SECRET_KEY, *SECRET_KEY_FALLBACKS):
    raise ImproperlyConfigured(
        "SECRET_KEY ou SECRET_KEY_FALLBACKS contient la clé publique de développement : "
        "définissez une longue chaîne aléatoire propre à ce serveur."
    )

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "grille" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("GRILLE_DEV", False)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# In development whitenoise serves files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("GRILLE_DEV", False)
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Work that outlives the request (e-mails, large exports, reports) runs as tasks (Django's tasks
# API, DEP 14, through the django-tasks backport), queued in the project's own database and run by
# the worker: `manage.py worker` (started by `make run`; a second process in production).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "mail", "files"],
    }
}

# Generated files (large exports, reports) are written below MEDIA_ROOT by the worker and only ever
# downloaded through a view that checks rights (grille/files): no MEDIA_URL, never served as static.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
GRILLE_FILES_TTL_HOURS = int(os.environ.get("GRILLE_FILES_TTL_HOURS", "24"))
# A build that has not reported progress for this long is shown as interrupted and can be retried.
GRILLE_FILES_STALE_SECONDS = int(os.environ.get("GRILLE_FILES_STALE_SECONDS", "180"))

# Per process, so nothing that must be shared lives here: rate limits count in the database
# (grille/core/ratelimit.py), where every gunicorn worker sees them.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions live in the database, so a resume grant survives a server restart.
SESSION_COOKIE_AGE = 60 * 60 * 24 * 90
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "grille.core.views.csrf_failure"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not env_bool("GRILLE_DEV", False):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Grille <ne-pas-repondre@grille.localhost>")
# E-mails leave through the outbox (grille/core/tasks.py): at most this many per minute, across
# every worker; a transport error is retried with backoff, up to this many attempts in all.
GRILLE_MAIL_PER_MINUTE = int(os.environ.get("GRILLE_MAIL_PER_MINUTE", "600"))
GRILLE_MAIL_MAX_ATTEMPTS = int(os.environ.get("GRILLE_MAIL_MAX_ATTEMPTS", "8"))
# A server that stops answering is a transport error (retried), not a worker stuck for ever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))

# The public address, for the absolute links of e-mails (grille/core/links.py). Locally the one
# `make run` serves; in production the first host name of ALLOWED_HOSTS, over HTTPS.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
if not SITE_URL:
    if DEBUG or env_bool("GRILLE_DEV", False):
        SITE_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    elif served := [host.lstrip(".") for host in ALLOWED_HOSTS if host != "*"]:
        SITE_URL = f"https://{served[0]}"
    else:
        raise ImproperlyConfigured("SITE_URL doit être défini (variable d'environnement) quand ALLOWED_HOSTS vaut « * ».")

LOGIN_LINK_MAX_AGE = 60 * 30

# The proxies in front of Grille, whose X-Forwarded-For is believed (grille/core/ratelimit.py
# client_ip; README « En-têtes du proxy »): a count (1 for one nginx or Caddy), or a comma-separated
# list of their addresses or networks. Empty (the default): the header is ignored.
_trusted_proxies = os.environ.get("GRILLE_TRUSTED_PROXIES", "").strip()
GRILLE_TRUSTED_PROXIES: int | list[str] = (
    int(_trusted_proxies) if _trusted_proxies.isdigit() else [item.strip() for item in _trusted_proxies.split(",") if item.strip()]
)
for _proxy in [] if isinstance(GRILLE_TRUSTED_PROXIES, int) else GRILLE_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"GRILLE_TRUSTED_PROXIES : « {_proxy} » n'est ni un nombre de proxys ni une adresse ou un réseau IP."
        ) from None

# Every handler masks the secret of links in paths (grille/core/logging.py). Django's own loggers
# are named so that its default handlers (which would write paths unmasked) are replaced.
# The security log (grille/core/security_log.py) goes to stderr, or to the file GRILLE_SECURITY_LOG.
GRILLE_SECURITY_LOG = os.environ.get("GRILLE_SECURITY_LOG", "")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_tokens": {"()": "grille.core.logging.MaskTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_tokens"]},
        "security": (
            {"class": "logging.handlers.WatchedFileHandler", "filename": GRILLE_SECURITY_LOG, "filters": ["mask_tokens"]}
            if GRILLE_SECURITY_LOG
            else {"class": "logging.StreamHandler", "filters": ["mask_tokens"]}
        ),
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "grille.security": {"handlers": ["security"], "level": "INFO", "propagate": False},
        # WeasyPrint narrates every layout step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
