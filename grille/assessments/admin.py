from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import Answer, Assessment


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = readonly_fields = ("practice", "level", "wish", "carrying", "comment")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    # Answers belong to the person: the admin can read and delete, not rewrite them.
    list_display = ["uuid", "version", "owner", "status", "created_at", "submitted_at"]
    list_filter = ["status", "version"]
    readonly_fields = ["uuid", "version", "owner", "status", "created_at", "updated_at", "submitted_at"]
    inlines = [AnswerInline]
    search_fields = ["uuid", "owner__email"]
    list_select_related = ["version", "version__framework", "owner"]
