"""A video's review around the video itself: comments (pinned to a moment, one level of replies) and each
person's favourites. The review's state and decisions are the video's own (generation.Generation)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from sorastudio.lib import drawing as drawings
from sorastudio.teams.models import Membership

from .notifications import Notification
from .states import ReviewError, ReviewState

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .generation import Generation


class Comment(models.Model):
    """A comment on a video, pinned to a moment of it when `at_seconds` is set. A reply has a `parent`
    (threads are one level deep); a reviewer's decision comes with the comment that explains it. A client
    with no account comments through a review link (`link`) under the name they gave (`guest_name`), and
    such a comment has no `author`: exactly one of the two says who wrote it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    generation = models.ForeignKey("studio.Generation", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="comments"
    )
    guest_name = models.CharField(max_length=80, blank=True)
    link = models.ForeignKey(
        "studio.ReviewLink", null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    body = models.TextField()
    at_seconds = models.FloatField(null=True, blank=True)
    # What the author drew on the frame at `at_seconds`, as lib.drawing's checked vectors.
    drawing = models.JSONField(null=True, blank=True)
    decision = models.CharField(max_length=20, choices=ReviewState.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["generation", "created_at"], name="comment_generation")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(author__isnull=False, link__isnull=True, guest_name="")
                    | (models.Q(author__isnull=True, link__isnull=False) & ~models.Q(guest_name=""))
                ),
                name="comment_by_member_or_guest",
            )
        ]

    def __str__(self) -> str:
        return f"comment by {self.author or self.guest_name} on {self.generation_id}"

    @property
    def by_guest(self) -> bool:
        return self.author_id is None

    @classmethod
    def add(
        cls,
        generation: Generation,
        author: User,
        body: str,
        *,
        at_seconds: float | None = None,
        parent: Comment | None = None,
        drawing: drawings.Drawing | None = None,
    ) -> Comment:
        """A new comment, or a reply to `parent`, perhaps with a drawing on the frame it is pinned to; it
        goes on the video's timeline and is told to the video's creator and, for a reply, to the author of
        the comment answered."""
        body = body.strip()
        if not body:
            raise ReviewError(gettext("Write the comment first."), field="body")
        drawing = _checked_drawing(drawing, at_seconds)
        if parent is not None and (parent.generation_id != generation.pk or parent.parent_id is not None):
            raise ReviewError(
                gettext("Reply to the first comment of the thread: replies go one level deep."), field="body"
            )
        with transaction.atomic():
            comment = cls.objects.create(
                generation=generation,
                author=author,
                parent=parent,
                body=body,
                at_seconds=at_seconds,
                drawing=drawing,
            )
            generation.log("commented", actor=author, at_seconds=at_seconds)
            Notification.send(
                [generation.created_by, parent.author if parent else None],
                team=generation.team,
                kind=Notification.Kind.COMMENT,
                generation=generation,
                actor=author,
                comment=str(comment.pk),
                at_seconds=at_seconds,
            )
        return comment

    def may_resolve(self, membership: Membership) -> bool:
        """Its author, the video's creator, and the team's reviewers and admins."""
        return membership.can_review or membership.user_id in (self.author_id, self.generation.created_by_id)

    def resolve(self, by: User) -> bool:
        """Mark the thread as dealt with; False when someone already had."""
        now = timezone.now()
        won = Comment.objects.filter(pk=self.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by=by
        )
        if won:
            self.resolved_at, self.resolved_by = now, by
            self.generation.log("comment_resolved", actor=by, at_seconds=self.at_seconds)
        return won == 1

    def reopen(self, by: User) -> bool:
        """Open a resolved thread again; False when it was open."""
        won = Comment.objects.filter(pk=self.pk, resolved_at__isnull=False).update(
            resolved_at=None, resolved_by=None
        )
        if won:
            self.resolved_at = self.resolved_by = None
            self.generation.log("comment_reopened", actor=by, at_seconds=self.at_seconds)
        return won == 1


def _checked_drawing(drawing: drawings.Drawing | None, at_seconds: float | None) -> drawings.Drawing | None:
    """The drawing as stored, checked again whoever calls: it is drawn on one frame, so it needs one."""
    if drawing is None:
        return None
    try:
        checked = drawings.clean(drawing)
    except drawings.DrawingError as error:
        raise ReviewError(str(error), field="drawing") from None
    if checked is not None and at_seconds is None:
        raise ReviewError(
            gettext("A drawing is made on one frame: pin the comment to the moment where you drew it."),
            field="drawing",
        )
    return checked


class Favourite(models.Model):
    """A video someone marked for themselves; each person has their own."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites")
    generation = models.ForeignKey("studio.Generation", on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "generation"], name="one_favourite_each")]

    def __str__(self) -> str:
        return f"{self.user} likes {self.generation_id}"
