"""The studio's records in Django's admin, for the people who run it: the jobs, the teams' saved characters,
comments and favourites, notifications, the jobs' timelines and reference images, and client review links
(to look at: a link is made, and revoked, on the team's pages, and its secret is nowhere to be shown)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from sorastudio.lib.admin import ReadOnlyAdmin

from .models import (
    Character,
    ClientVerdict,
    Comment,
    Event,
    Favourite,
    Generation,
    GenerationImage,
    LinkFailure,
    Notification,
    ReviewLink,
)

PIPELINE_FIELDS = [
    "state",
    "upstream_phase",
    "upstream_task_id",
    "trace_id",
    "attempts",
    "next_attempt_at",
    "claimed_at",
    "dispatched_at",
    "error_code",
    "error_message",
    "error_status",
    "error_after_submit",
    "video_url",
    "submitted_at",
    "upstream_finished_at",
    "archived_at",
    "finished_at",
    "video",
    "poster",
    "video_duration",
    "width",
    "height",
    "size_bytes",
    "sha256",
]


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin[Generation]):
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
    # The pipeline's own fields change only through its transitions (Generation.mark_* and friends), which
    # keep the state machine, the ledger and the timeline together: an edit here would move a job without
    # its charge or release, or put back a state a worker has just moved on from.
    readonly_fields = [
        "callback_token",
        "sent_payload",
        "created_at",
        "updated_at",
        *PIPELINE_FIELDS,
    ]

    @admin.display(description="prompt")
    def short_prompt(self, obj: Generation) -> str:
        return obj.prompt[:60]

    def save_model(self, request: Any, obj: Generation, form: Any, change: bool) -> None:
        if change:
            # Only what the form changed: a whole-row save would write back the state the admin's page
            # was loaded with over whatever the pipeline has done since.
            obj.save(update_fields=[*form.changed_data, "updated_at"])
        else:
            super().save_model(request, obj, form, change)


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin[Character]):
    list_display = ["name", "team", "start", "end", "created_by", "created_at"]
    list_filter = ["team"]
    search_fields = ["name", "team__name"]
    list_select_related = ["team", "created_by"]
    autocomplete_fields = ["team"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin[Comment]):
    list_display = [
        "short_body",
        "author",
        "guest_name",
        "generation",
        "decision",
        "created_at",
        "resolved_at",
    ]
    list_filter = ["decision"]
    search_fields = ["body", "author__username", "guest_name"]
    list_select_related = ["author", "generation"]
    raw_id_fields = ["generation", "parent", "author", "resolved_by", "link"]

    @admin.display(description="comment")
    def short_body(self, obj: Comment) -> str:
        return obj.body[:60]


@admin.register(Favourite)
class FavouriteAdmin(admin.ModelAdmin[Favourite]):
    list_display = ["user", "generation", "created_at"]
    search_fields = ["user__username"]
    list_select_related = ["user", "generation"]
    raw_id_fields = ["user", "generation"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["text", "user", "team", "kind", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", "team"]
    search_fields = ["user__username"]
    list_select_related = ["user", "team", "generation", "actor"]
    raw_id_fields = ["user", "generation", "actor"]
    date_hierarchy = "created_at"


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["kind", "generation", "actor", "at"]
    list_filter = ["kind"]
    list_select_related = ["generation", "actor"]
    raw_id_fields = ["generation", "actor"]
    date_hierarchy = "at"


@admin.register(GenerationImage)
class GenerationImageAdmin(admin.ModelAdmin[GenerationImage]):
    list_display = ["generation", "position", "content_type", "file"]
    list_select_related = ["generation"]
    raw_id_fields = ["generation"]


@admin.register(ReviewLink)
class ReviewLinkAdmin(ReadOnlyAdmin[ReviewLink]):
    list_display = ["title", "team", "created_by", "created_at", "expires_at", "revoked_at", "last_visit_at"]
    list_filter = ["team"]
    search_fields = ["title", "team__name"]
    list_select_related = ["team", "created_by"]
    exclude = ["token_hash", "password"]


@admin.register(ClientVerdict)
class ClientVerdictAdmin(ReadOnlyAdmin[ClientVerdict]):
    list_display = ["name", "decision", "generation", "link", "at"]
    list_filter = ["decision"]
    list_select_related = ["generation", "link"]


@admin.register(LinkFailure)
class LinkFailureAdmin(ReadOnlyAdmin[LinkFailure]):
    """Wrong passwords and addresses that opened no link: what to look at when a client is locked out."""

    list_display = ["at", "link", "address"]
    search_fields = ["address"]
    list_select_related = ["link"]
