from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone


class SimTask(models.Model):
    """A task the built-in simulator is "generating". Its phase follows from the clock, so any number of
    web processes can answer for it without a background worker of their own."""

    id = models.CharField(primary_key=True, max_length=64)
    provider = models.CharField(max_length=20, default="acedata")
    request = models.JSONField(default=dict)
    trace_id = models.CharField(max_length=64)
    video_id = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    finishes_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, default="succeeded")
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    callback_url = models.TextField(blank=True)
    callback_sent_at = models.DateTimeField(null=True, blank=True)
    links_issued = models.PositiveIntegerField(default=0)
    expire_first_link = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.id

    def phase(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        total = self.finishes_at - self.created_at
        if now >= self.finishes_at:
            return self.outcome
        if now < self.created_at + min(timedelta(seconds=2), total / 10):
            return "pending"
        return "processing"
