"""The states a video goes through, made and reviewed, and the error a review step gives: what every model
of the studio (and its presentation) agrees on, so each of them can import it without importing the others."""

from __future__ import annotations

from django.db import models
from django.utils.translation import pgettext_lazy


class State(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("state of a video", "Queued")
    SUBMITTING = "submitting", pgettext_lazy("state of a video", "Submitting")
    RUNNING = "running", pgettext_lazy("state of a video", "Generating")
    ARCHIVING = "archiving", pgettext_lazy("state of a video", "Saving")
    SUCCEEDED = "succeeded", pgettext_lazy("state of a video", "Ready")
    FAILED = "failed", pgettext_lazy("state of a video", "Failed")
    TIMED_OUT = "timed_out", pgettext_lazy("state of a video", "Timed out")


class ReviewState(models.TextChoices):
    NEW = "new", pgettext_lazy("review state", "New")
    IN_REVIEW = "in_review", pgettext_lazy("review state", "In review")
    APPROVED = "approved", pgettext_lazy("review state", "Approved")
    CHANGES_REQUESTED = "changes_requested", pgettext_lazy("review state", "Changes requested")
    REJECTED = "rejected", pgettext_lazy("review state", "Rejected")


# A reviewer's decisions, and the ones that need a comment saying why.
DECISIONS = (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.REJECTED)
DECISIONS_NEEDING_A_REASON = (ReviewState.CHANGES_REQUESTED, ReviewState.REJECTED)

LIVE_STATES = (State.QUEUED, State.SUBMITTING, State.RUNNING, State.ARCHIVING)
FINAL_STATES = (State.SUCCEEDED, State.FAILED, State.TIMED_OUT)


class ReviewError(ValueError):
    """A review action that cannot be done, with the reason in words for the person who tried it, and the
    form field the reason is about (if any), so that a page can show it next to that field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
