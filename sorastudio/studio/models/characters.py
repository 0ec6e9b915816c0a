"""Saved characters: a clip and the seconds of it where the character appears, reused by name."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from sorastudio.teams.models import Team


class Character(models.Model):
    """A character saved by a team, to reuse by name: a clip (an address, or a file in our storage) and the
    whole seconds of it where the character appears."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="characters")
    name = models.CharField(max_length=80)
    clip_url = models.URLField(max_length=2000, blank=True)
    clip = models.FileField(upload_to="characters/%Y/%m/", blank=True, max_length=300)
    start = models.PositiveSmallIntegerField()
    end = models.PositiveSmallIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="characters"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "team", name="one_character_name_per_team"),
        ]

    def __str__(self) -> str:
        return self.name

    def preview_url(self) -> str:
        """Where the creator's browser can play the clip: a stored one through the team's own view, never
        its signed link, which opens it for a week without a login (that one is for the video service)."""
        return reverse("studio:saved_clip", args=[self.pk]) if self.clip else self.clip_url
