from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import (
    Axis,
    Dimension,
    DimensionOption,
    Framework,
    FrameworkVersion,
    Practice,
    Resource,
    Situation,
)
from .services import FrameworkFileError, publish_framework_version


class PublishedReadOnlyAdmin(admin.ModelAdmin):
    """A published version and everything in it is frozen: answers point at it."""

    def _version_of(self, obj: models.Model) -> FrameworkVersion | None:
        return obj if isinstance(obj, FrameworkVersion) else getattr(obj, "version", None)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        version = self._version_of(obj) if obj is not None else None
        if version is not None and version.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        version = self._version_of(obj) if obj is not None else None
        if version is not None and version.is_published:
            return False
        return super().has_delete_permission(request, obj)


class PracticeInline(admin.TabularInline):
    model = Practice
    fields = ["code", "label", "situation", "position"]
    extra = 0


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "publisher"]


@admin.register(FrameworkVersion)
class FrameworkVersionAdmin(PublishedReadOnlyAdmin):
    list_display = ["framework", "code", "title", "status", "published_at"]
    list_filter = ["status", "framework"]
    # Publishing goes through the « Publier » action only: it checks the version and freezes it.
    readonly_fields = ["status", "published_at", "content_hash", "created_at"]
    inlines = [PracticeInline]
    actions = ["publish"]

    @admin.action(description=gettext_lazy("Publier"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[FrameworkVersion]) -> None:
        for version in queryset.select_related("framework"):
            try:
                publish_framework_version(version=version)
            except FrameworkFileError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request, _("La version « %(version)s » est publiée.") % {"version": version}, messages.SUCCESS
                )


@admin.register(Axis)
class AxisAdmin(PublishedReadOnlyAdmin):
    list_display = ["label", "code", "version", "position"]
    list_filter = ["version"]


@admin.register(Situation)
class SituationAdmin(PublishedReadOnlyAdmin):
    list_display = ["code", "label", "description", "axis", "version"]
    list_filter = ["version"]


@admin.register(Practice)
class PracticeAdmin(PublishedReadOnlyAdmin):
    list_display = ["code", "label", "situation", "version"]
    list_filter = ["version"]
    search_fields = ["label", "code"]


class DimensionOptionInline(admin.TabularInline):
    model = DimensionOption
    extra = 0


@admin.register(Dimension)
class DimensionAdmin(PublishedReadOnlyAdmin):
    list_display = ["label", "code", "role", "version"]
    list_filter = ["version"]
    inlines = [DimensionOptionInline]


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "publisher", "framework", "code"]
    list_filter = ["kind", "framework"]
    list_select_related = ["framework"]
    search_fields = ["title", "publisher", "code", "description", "url"]
    # An address typed without a scheme is read as https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
