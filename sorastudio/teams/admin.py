"""Teams, their members, the invitations, API tokens and the audit trail in Django's admin."""

from __future__ import annotations

from django.contrib import admin

from sorastudio.lib.admin import ReadOnlyAdmin

from . import presenters
from .models import ApiToken, AuditEntry, Invitation, Membership, Team


class MembershipInline(admin.TabularInline[Membership, Team]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "team__name"]
    autocomplete_fields = ["user", "team"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = [
        "team",
        "role",
        "note",
        "created_by",
        "created_at",
        "expires_at",
        "accepted_by",
        "revoked_at",
    ]
    list_filter = ["role", "team"]
    search_fields = ["note", "team__name"]
    list_select_related = ["team", "created_by", "accepted_by"]
    raw_id_fields = ["created_by", "accepted_by"]
    readonly_fields = ["token"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin[AuditEntry]):
    """The trail of admin actions, read only: entries are written by the actions themselves."""

    list_display = ["created_at", "team", "actor_name", "kind", "subject_name", "text"]
    list_filter = ["kind", "team"]
    search_fields = ["actor_name", "subject_name", "team__name"]
    date_hierarchy = "created_at"
    list_select_related = ["team"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def text(self, entry: AuditEntry) -> str:
        return presenters.text(entry)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin[ApiToken]):
    """Read only: tokens are made on the API tokens page or by `manage.py api_token`; the hash is left out."""

    list_display = [
        "prefix",
        "name",
        "user",
        "team",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["team"]
    search_fields = ["prefix", "name", "user__username", "team__name"]
    list_select_related = ["user", "team"]
    exclude = ["digest"]
    readonly_fields = [f.name for f in ApiToken._meta.fields if f.name != "digest"]
