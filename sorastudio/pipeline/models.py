"""The pipeline's own records: who follows each provider now (the poll lease) and every request made to the
video APIs (for pipeline health). The jobs themselves are the studio's (studio.models.Generation)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from sorastudio.lib import capabilities


class PollLease(models.Model):
    """Who is polling a provider right now: one row per provider, taken by a conditional UPDATE, so that
    however many workers run, one batch poll per interval goes upstream."""

    provider = models.CharField(max_length=20, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        # The tables keep the names they had when these were the studio app's models (see migrations/).
        db_table = "studio_polllease"

    def __str__(self) -> str:
        return f"poll lease for {self.provider}"

    @property
    def provider_label(self) -> str:
        return capabilities.provider_label(self.provider)

    @classmethod
    def acquire(cls, provider: str, holder: str, seconds: float) -> bool:
        cls.objects.get_or_create(provider=provider)
        now = timezone.now()
        return (
            cls.objects.filter(provider=provider)
            .filter(Q(expires_at__lte=now) | Q(holder=holder))
            .update(holder=holder, expires_at=now + timedelta(seconds=seconds))
            == 1
        )

    @classmethod
    def note(cls, provider: str, error: str = "") -> None:
        """Remember how the last poll went, for /healthz and the admins."""
        changes: dict[str, Any] = {"last_error": error[:500]}
        if not error:
            changes["last_poll_at"] = timezone.now()
        cls.objects.update_or_create(provider=provider, defaults=changes)

    @classmethod
    def release(cls, provider: str, holder: str) -> None:
        cls.objects.filter(provider=provider, holder=holder).update(holder="", expires_at=timezone.now())


class UpstreamCall(models.Model):
    """One HTTP request to a video API, for the pipeline health page: append-only, written by the adapters
    in providers.py (never per job: a batch status read is one row covering `jobs` tasks), pruned after a
    week by the one-minute tick."""

    class Kind(models.TextChoices):
        SUBMIT = "submit", pgettext_lazy("kind of request to a video service", "Submit")
        STATUS = "status", pgettext_lazy("kind of request to a video service", "Status read")
        RETRIEVE = "retrieve", pgettext_lazy("kind of request to a video service", "Single read")
        DOWNLOAD = "download", pgettext_lazy("kind of request to a video service", "Download")

    provider = models.CharField(max_length=20)
    simulated = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # None when no answer came (a refused connection, a time-out).
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    ok = models.BooleanField(default=True)
    rate_limited = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(default=0)
    jobs = models.PositiveIntegerField(default=1)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "studio_upstreamcall"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} {self.http_status or '-'} at {self.at:%H:%M:%S}"

    @classmethod
    def prune(cls, days: int = 7) -> int:
        deleted, _ = cls.objects.filter(at__lt=timezone.now() - timedelta(days=days)).delete()
        return deleted
