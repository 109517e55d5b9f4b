from django.contrib import admin
from django.http import HttpRequest

from .models import ActionItem, Decision, Invitation, Membership, Organisation, Share


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "structure_type", "territory", "created_at"]
    search_fields = ["name", "territory"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["organisation", "email", "created_at", "expires_at", "uses", "max_uses", "revoked_at"]
    readonly_fields = ["token_hash"]
    list_select_related = ["organisation"]


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    # A share is the member's own choice: the admin can read it, not make it.
    list_display = ["organisation", "user", "mode", "consent_version", "shared_at", "withdrawn_at"]
    readonly_fields = ["organisation", "user", "assessment", "mode", "consent_version", "shared_at", "withdrawn_at"]
    list_select_related = ["organisation", "user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["organisation", "practice", "mode", "updated_at"]
    list_select_related = ["organisation", "practice"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "organisation", "status", "due_date"]
    list_select_related = ["organisation"]
