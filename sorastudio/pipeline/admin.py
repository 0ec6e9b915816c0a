"""The pipeline's own records in Django's admin: to look at, never to edit."""

from __future__ import annotations

from django.contrib import admin

from sorastudio.lib.admin import ReadOnlyAdmin

from .models import PollLease, UpstreamCall


@admin.register(PollLease)
class PollLeaseAdmin(ReadOnlyAdmin[PollLease]):
    list_display = ["provider", "holder", "expires_at", "last_poll_at", "last_error"]


@admin.register(UpstreamCall)
class UpstreamCallAdmin(ReadOnlyAdmin[UpstreamCall]):
    list_display = [
        "at",
        "provider",
        "simulated",
        "kind",
        "http_status",
        "error_code",
        "ok",
        "duration_ms",
        "jobs",
    ]
    list_filter = ["provider", "kind", "ok", "rate_limited", "simulated"]
    search_fields = ["error_code"]
    date_hierarchy = "at"
