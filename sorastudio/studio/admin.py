"""The studio's records in Django's admin, for the people who run it: teams and their members, the jobs, and
the teams' saved characters."""

from __future__ import annotations

from django.contrib import admin

from .models import Character, Generation, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "team__name"]
    autocomplete_fields = ["user", "team"]


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = [
        "short_prompt",
        "team",
        "created_by",
        "provider",
        "model",
        "duration",
        "state",
        "created_at",
    ]
    list_filter = ["state", "provider", "model", "simulated", "team"]
    search_fields = ["prompt", "upstream_task_id", "trace_id"]
    date_hierarchy = "created_at"
    list_select_related = ["team", "created_by"]
    raw_id_fields = ["parent", "character"]
    readonly_fields = ["callback_token", "sent_payload", "created_at", "updated_at"]

    @admin.display(description="prompt")
    def short_prompt(self, obj: Generation) -> str:
        return obj.prompt[:60]


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "start", "end", "created_by", "created_at"]
    list_filter = ["team"]
    search_fields = ["name", "team__name"]
    list_select_related = ["team", "created_by"]
    autocomplete_fields = ["team"]
