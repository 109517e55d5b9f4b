"""Settings, all from environment variables (see README)."""

import os
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
# Production refuses to start without a real secret; local runs get a fixed dev key.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or env_bool("GRILLE_DEV", False)):
        raise ImproperlyConfigured("SECRET_KEY doit être défini (variable d'environnement).")
    SECRET_KEY = "dev-only-insecure-key-not-for-production-0123456789abcdefghijklmnop"
# Previous keys, during a rotation: sessions and links made with them stay valid until removed.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # IMMEDIATE transactions take the write lock up front, so two concurrent
    # autosaves queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every layout step at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
