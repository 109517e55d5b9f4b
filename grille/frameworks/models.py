from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .enums import DimensionRole, VersionStatus


class Framework(models.Model):
    code = models.SlugField(_("code"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    publisher = models.CharField(_("éditeur"), max_length=200, blank=True)
    # Texts in other languages, by language code: {"en": {"label": …}} (see schema.py). They
    # translate the original, which stays the reference.
    translations = models.JSONField(_("traductions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("référentiel")
        verbose_name_plural = _("référentiels")

    def __str__(self) -> str:
        return self.name


class FrameworkVersion(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="versions")
    code = models.CharField(_("version"), max_length=40)
    title = models.CharField(_("titre"), max_length=300)
    source = models.CharField(_("source"), max_length=500, blank=True)
    source_date = models.DateField(_("date de la source"), null=True, blank=True)
    status = models.CharField(
        _("statut"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    # Fingerprint of the loaded file: reloading the same content is a no-op,
    # a different content under a published code is refused.
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Annotations, outside the content hash: the language of the original, where the practice
    # guides come from, and translations of the title, source and that note.
    language = models.CharField(_("langue de l'original"), max_length=10, default="fr")
    guide_note = models.CharField(_("origine des aides"), max_length=300, blank=True)
    # Texts in other languages, by language code: {"en": {"label": …}} (see schema.py). They
    # translate the original, which stays the reference.
    translations = models.JSONField(_("traductions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("version de référentiel")
        verbose_name_plural = _("versions de référentiel")
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="unique_version_code"),
        ]

    def __str__(self) -> str:
        return f"{self.framework.name} — {self.code}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class Axis(models.Model):
    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="axes")
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("libellé"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField()
    # Texts in other languages, by language code: {"en": {"label": …}} (see schema.py). They
    # translate the original, which stays the reference.
    translations = models.JSONField(_("traductions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("axe")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_axis_code"),
        ]

    def __str__(self) -> str:
        return self.label


class Situation(models.Model):
    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="situations")
    axis = models.ForeignKey(Axis, on_delete=models.CASCADE, related_name="situations")
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("libellé"), max_length=300)
    description = models.CharField(_("précision"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField()
    # Texts in other languages, by language code: {"en": {"label": …}} (see schema.py). They
    # translate the original, which stays the reference.
    translations = models.JSONField(_("traductions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("situation professionnelle")
        verbose_name_plural = _("situations professionnelles")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_situation_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.label}"


class Practice(models.Model):
    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="practices")
    situation = models.ForeignKey(Situation, on_delete=models.CASCADE, related_name="practices")
    # Room for the item codes of an earlier study loaded as a version (« fin_projets_territoire »).
    code = models.CharField(_("code"), max_length=60)
    label = models.CharField(_("libellé"), max_length=300)
    position = models.PositiveSmallIntegerField()
    # What the practice means and what each level looks like: {"summary": …, "levels": {"1": …}}.
    # The product's own proposal (the version's guide_note says so), outside the content hash.
    guide = models.JSONField(_("aide"), default=dict, blank=True)
    # Texts in other languages, by language code: {"en": {"label": …}} (see schema.py). They
    # translate the original, which stays the reference.
    translations = models.JSONField(_("traductions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("pratique")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_practice_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Dimension(models.Model):
    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="dimensions")
    code = models.CharField(_("code"), max_length=40)
    role = models.CharField(_("rôle"), max_length=20, choices=DimensionRole.choices)
    label = models.CharField(_("libellé"), max_length=200)
    help_text = models.CharField(_("aide"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField()
    # Texts in other languages, by language code: {"en": {"label": …}} (see schema.py). They
    # translate the original, which stays the reference.
    translations = models.JSONField(_("traductions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("dimension")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_dimension_code"),
            models.UniqueConstraint(fields=["version", "role"], name="unique_dimension_role"),
        ]

    def __str__(self) -> str:
        return self.label


class DimensionOption(models.Model):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="options")
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("libellé"), max_length=200)
    # Ordinal value used in means; null for options left out of means ("Non concerné·e").
    value = models.SmallIntegerField(_("valeur"), null=True, blank=True)
    # For the carrying dimension: this option means the practice involves other local actors.
    partnership = models.BooleanField(_("partenariat"), default=False)
    position = models.PositiveSmallIntegerField()
    # Texts in other languages, by language code: {"en": {"label": …}} (see schema.py). They
    # translate the original, which stays the reference.
    translations = models.JSONField(_("traductions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("modalité")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="unique_option_code"),
        ]

    def __str__(self) -> str:
        return self.label


class ResourceKind(models.TextChoices):
    METHOD = "method", _("Méthode")
    DATA = "data", _("Données")
    EXAMPLE = "example", _("Exemples")
    TRAINING = "training", _("Formation")


class Resource(models.Model):
    """A link that helps develop a practice (Fiches Repères, methods, examples…)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="resources")
    code = models.SlugField(_("code"), max_length=80)
    title = models.CharField(_("titre"), max_length=300)
    kind = models.CharField(_("type"), max_length=20, choices=ResourceKind.choices)
    publisher = models.CharField(_("éditeur"), max_length=200, blank=True)
    # Blank when the source names the resource without giving its address.
    url = models.URLField(_("lien"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(_("langue"), max_length=10, default="fr")
    # Attached by code, so a resource follows a practice from one version to the next.
    practice_codes = models.JSONField(_("pratiques"), default=list, blank=True)
    situation_codes = models.JSONField(_("situations"), default=list, blank=True)
    axis_codes = models.JSONField(_("axes"), default=list, blank=True)
    # The description (and, for a work with an English title, the title) in other languages:
    # {"en": {"description": …}}. The resource itself keeps its own language.
    translations = models.JSONField(_("traductions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("ressource")
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["framework", "code"], name="unique_resource_code")]

    def __str__(self) -> str:
        return self.title

    @property
    def shown_description(self) -> str:
        """The description in the active language when the file gives one, else the original."""
        language = (get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()
        return str((self.translations or {}).get(language, {}).get("description") or self.description)


CROSSWALK_NAME_MAX = 200


class Crosswalk(models.Model):
    """A correspondence table between the items of two framework versions."""

    source = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="crosswalks_from")
    target = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="crosswalks_to")
    name = models.CharField(_("nom"), max_length=CROSSWALK_NAME_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("table de correspondance")
        verbose_name_plural = _("tables de correspondance")
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="unique_crosswalk_pair")]

    def __str__(self) -> str:
        return self.name


class CrosswalkEntry(models.Model):
    """One source practice read as one target practice, with a weight (one-to-many, many-to-one)."""

    crosswalk = models.ForeignKey(Crosswalk, on_delete=models.CASCADE, related_name="entries")
    source_practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    target_practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    weight = models.DecimalField(max_digits=6, decimal_places=3, default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["crosswalk", "source_practice", "target_practice"], name="unique_crosswalk_entry"),
        ]

    def __str__(self) -> str:
        return f"{self.source_practice.code} → {self.target_practice.code}"
