from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grille.core.people import validate_person_name
from grille.core.validators import validate_mailed_name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            # People sign in by e-mail link; only staff get a password.
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("adresse e-mail"), unique=True)
    # How the person is shown to others (grille/core/people.py) and named in the invitations
    # they send: one line, no web address, no e-mail address (grille/core/validators.py).
    display_name = models.CharField(_("nom affiché"), max_length=150, blank=True, validators=[validate_person_name])
    # Shown with the name where a person is presented (member list, invitations); both optional.
    job_title = models.CharField(_("fonction"), max_length=150, blank=True, validators=[validate_mailed_name])
    affiliation = models.CharField(_("structure"), max_length=200, blank=True, validators=[validate_mailed_name])
    # When the person was first asked to present themselves (after their first sign-in), whether
    # they answered or skipped: they are asked once.
    profile_prompted_at = models.DateTimeField(_("présentation proposée le"), null=True, blank=True)
    is_staff = models.BooleanField(_("équipe"), default=False)
    is_active = models.BooleanField(_("actif"), default=True)
    date_joined = models.DateTimeField(_("inscrit le"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("personne")
        verbose_name_plural = _("personnes")
        constraints = [models.UniqueConstraint(Lower("email"), name="unique_user_email_ci")]

    def __str__(self) -> str:
        return self.display_name or self.email


class LoginLink(models.Model):
    """A single-use sign-in link sent by e-mail."""

    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Where to go once signed in (an invitation, say); a local path only.
    next_path = models.CharField(max_length=500, blank=True)
    # The hash of a random key kept in the session of the browser that asked for the link ("" if
    # none): only that browser's anonymous positionings are attached without asking.
    browser_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("lien de connexion")
        verbose_name_plural = _("liens de connexion")

    def __str__(self) -> str:
        return self.email


API_TOKEN_NAME_MAX = 100


class ApiToken(models.Model):
    """A personal API token: 192 random bits shown once, only its hash kept; revocable."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=API_TOKEN_NAME_MAX)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)  # shown in the list so a person can tell tokens apart
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
