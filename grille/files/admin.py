from django.contrib import admin

from .models import GeneratedFile


@admin.register(GeneratedFile)
class GeneratedFileAdmin(admin.ModelAdmin):
    list_display = ("kind", "subject", "owner", "status", "progress", "created_at", "expires_at", "size")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in GeneratedFile._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
