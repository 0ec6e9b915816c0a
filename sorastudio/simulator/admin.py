"""The simulator's tasks in Django's admin: what a simulated job was asked and how it is set to end."""

from __future__ import annotations

from django.contrib import admin

from .models import SimTask


@admin.register(SimTask)
class SimTaskAdmin(admin.ModelAdmin[SimTask]):
    list_display = [
        "id",
        "provider",
        "outcome",
        "error_code",
        "created_at",
        "finishes_at",
        "callback_sent_at",
    ]
    list_filter = ["provider", "outcome"]
    search_fields = ["id", "trace_id"]
    date_hierarchy = "created_at"
