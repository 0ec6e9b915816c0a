"""Client review links: a team's reviewer or admin shares one video or a chosen set with someone outside the
team, who has no account. The link expires (a week by default), can be revoked and may carry a password.
The guest watches, comments under a name and approves or asks for changes; each of those is on the video's
timeline and told to the team.

The secret in the link's address is shown once, when the link is made, like an API token: the database
keeps only its SHA-256, so a copy of the database opens no link. A client's verdict is the client's own
(`ClientVerdict`): it is shown on the team's page of the video and never changes the team's own review
state, which stays the team's reviewers' decision."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from sorastudio.lib.ratelimit import RateLimited, Window
from sorastudio.teams.models import AuditEntry, Membership, Team

from .generation import Event, Generation
from .notifications import Notification
from .review import Comment
from .states import ReviewError, ReviewState, State

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LINK_DAYS = 7  # how long a link works unless its maker chooses otherwise
LINK_DAYS_MOST = 30
LINK_VIDEOS_MOST = 50
GUEST_NAME_MOST = 80
# Wrong passwords: per link (someone guessing one link's password from many places) and per address
# (someone trying many links). Counted from the stored failures, so every web process counts the same.
PASSWORD_TRIES_PER_LINK = Window(10, timedelta(minutes=15))
PASSWORD_TRIES_PER_ADDRESS = Window(5, timedelta(minutes=15))
# A guest's comments and verdicts together, per link.
GUEST_POSTS_PER_LINK = Window(30, timedelta(minutes=10))
# Addresses that open no link (unknown, expired, revoked): past this, one address opens none for a while.
# A secret of 32 random bytes cannot be guessed anyway; this keeps a scanner from trying at leisure.
MISSES_PER_ADDRESS = Window(20, timedelta(minutes=15))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _expiry() -> datetime:
    return timezone.now() + timedelta(days=LINK_DAYS)


class LinkClosed(Exception):
    """The link expired or was revoked while the guest was on its page: the guest gets "not found"."""


class TooManyTries(Exception):
    """Past a rate limit of the guest side, with when to try again, in words."""

    def __init__(self, refusal: RateLimited) -> None:
        self.retry_at = refusal.retry_at
        wait = (refusal.retry_at or timezone.now()) - timezone.now()
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        super().__init__(
            ngettext(
                "Too many tries: wait %(minutes)d minute and try again.",
                "Too many tries: wait %(minutes)d minutes and try again.",
                minutes,
            )
            % {"minutes": minutes}
        )


class ReviewLinkQuerySet(models.QuerySet["ReviewLink"]):
    def for_team(self, team: Team | None) -> ReviewLinkQuerySet:
        return self.filter(team=team)

    def usable(self) -> ReviewLinkQuerySet:
        """Links that still open: not revoked, not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())

    def opened_by(self, secret: str, address: str | None = None) -> ReviewLink | None:
        """The usable link whose address holds `secret`, or None (unknown, expired and revoked alike).
        A miss is counted against the guest's `address`, which opens nothing once it has missed too often."""
        misses = LinkFailure.objects.filter(link=None, address=address)
        if _refusal(MISSES_PER_ADDRESS, misses, "at") is not None:
            return None
        link = None
        if secret and len(secret) <= 100:
            link = self.usable().select_related("team").filter(token_hash=secret_hash(secret)).first()
        if link is None:
            LinkFailure.objects.create(link=None, address=address)
        return link


class ReviewLink(models.Model):
    """One or more of a team's finished videos, shared for review with someone outside the team."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="review_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=120, blank=True)
    message = models.TextField(max_length=2000, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    password = models.CharField(max_length=128, blank=True)  # a Django password hash, or empty for none
    videos = models.ManyToManyField(Generation, related_name="review_links")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_expiry)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_visit_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"], name="review_link_team")]

    def __str__(self) -> str:
        return f"review link {self.title or self.pk} of {self.team_id}"

    @classmethod
    def share(
        cls,
        team: Team,
        by: User,
        videos: Iterable[Generation],
        *,
        days: int = LINK_DAYS,
        password: str = "",
        title: str = "",
        message: str = "",
    ) -> tuple[ReviewLink, str]:
        """A new link to `videos` (the team's finished ones), and its secret, which is not kept: the caller
        shows it once. ReviewError when the person may not share or a video may not be shared."""
        membership = Membership.objects.filter(team=team, user=by).first()
        if membership is None or not membership.can_review:
            raise ReviewError(gettext("Only the team's reviewers and admins share videos with clients."))
        chosen = list(dict.fromkeys(videos))
        _check_videos(team, chosen)
        if not 1 <= days <= LINK_DAYS_MOST:
            raise ReviewError(
                gettext("A link works for 1 to %(most)d days.") % {"most": LINK_DAYS_MOST}, field="days"
            )
        secret = new_secret()
        with transaction.atomic():
            link = cls.objects.create(
                team=team,
                created_by=by,
                title=title.strip(),
                message=message.strip(),
                token_hash=secret_hash(secret),
                password=make_password(password) if password else "",
                expires_at=timezone.now() + timedelta(days=days),
            )
            link.videos.set(chosen)
            AuditEntry.record(
                AuditEntry.Kind.REVIEW_LINK_MADE,
                team=team,
                actor=by,
                title=link.title,
                videos=len(chosen),
                days=days,
                password=bool(password),
            )
        return link, secret

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.ACTIVE

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    def may_revoke(self, membership: Membership) -> bool:
        """The team's admins, and the person who made the link."""
        return membership.team_id == self.team_id and (
            membership.is_admin or membership.user_id == self.created_by_id
        )

    def revoke(self, by: User) -> bool:
        """Close the link at once; False when it was already revoked."""
        now = timezone.now()
        with transaction.atomic():
            won = ReviewLink.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
                revoked_at=now, revoked_by=by
            )
            if won:
                AuditEntry.record(
                    AuditEntry.Kind.REVIEW_LINK_REVOKED, team=self.team, actor=by, title=self.title
                )
        if won:
            self.revoked_at, self.revoked_by = now, by
        return won == 1

    def shown_videos(self) -> models.QuerySet[Generation]:
        """What the guest sees: the link's videos still finished and out of the trash, oldest first."""
        return self.videos.filter(team=self.team_id, state=State.SUCCEEDED, deleted_at__isnull=True).order_by(
            "created_at", "pk"
        )

    def shown_video(self, pk: Any) -> Generation | None:
        return self.shown_videos().filter(pk=pk).first()

    def note_visit(self) -> None:
        ReviewLink.objects.filter(pk=self.pk).update(last_visit_at=timezone.now())

    # --- The password -------------------------------------------------------------------------------------

    def unlock(self, password: str, address: str | None) -> bool:
        """Whether `password` is the link's; a wrong one is counted against the link and the address.
        TooManyTries, before the password is even checked, once either has had too many wrong ones."""
        with transaction.atomic():
            # The link's row, locked: tries at the same instant from many processes are counted in turn.
            list(ReviewLink.objects.select_for_update().filter(pk=self.pk).values_list("pk"))
            for window, failures in (
                (PASSWORD_TRIES_PER_LINK, LinkFailure.objects.filter(link=self)),
                (PASSWORD_TRIES_PER_ADDRESS, LinkFailure.objects.filter(link__isnull=False, address=address)),
            ):
                _hold(window, failures, "at")
            if check_password(password, self.password):
                return True
            LinkFailure.objects.create(link=self, address=address)
        return False

    # --- What the guest does ------------------------------------------------------------------------------

    def comment(
        self, generation: Generation, name: str, body: str, *, at_seconds: float | None = None
    ) -> Comment:
        """A guest's comment on one of the link's videos, on its timeline and told to the team."""
        name, body = _guest_name(name), body.strip()
        if not body:
            raise ReviewError(gettext("Write the comment first."), field="body")
        with transaction.atomic():
            self._check_still_open(generation)
            comment = Comment.objects.create(
                generation=generation, link=self, guest_name=name, body=body, at_seconds=at_seconds
            )
            generation.log(
                "client_commented", guest=name, link=self.title, link_id=str(self.pk), at_seconds=at_seconds
            )
            self._tell_team(generation, Notification.Kind.CLIENT_COMMENT, guest=name, comment=str(comment.pk))
        return comment

    def decide(
        self,
        generation: Generation,
        name: str,
        decision: str,
        *,
        comment: str = "",
        at_seconds: float | None = None,
    ) -> ClientVerdict:
        """The guest approves one of the link's videos or asks for changes (saying which, in a comment).
        A later verdict on the same video through the same link replaces the earlier one."""
        name, comment = _guest_name(name), comment.strip()
        if decision not in ClientVerdict.Decision.values:
            raise ReviewError(gettext("Choose approve or request changes."))
        if decision == ClientVerdict.Decision.CHANGES_REQUESTED and not comment:
            raise ReviewError(gettext("Say what should change, so the team knows."), field="comment")
        with transaction.atomic():
            self._check_still_open(generation)
            verdict, _created = ClientVerdict.objects.update_or_create(
                link=self,
                generation=generation,
                defaults={"decision": decision, "name": name, "comment": comment, "at": timezone.now()},
            )
            if comment:
                Comment.objects.create(
                    generation=generation, link=self, guest_name=name, body=comment, at_seconds=at_seconds
                )
            generation.log(
                f"client_{decision}", guest=name, link=self.title, link_id=str(self.pk), at_seconds=at_seconds
            )
            self._tell_team(generation, Notification.Kind.CLIENT_VERDICT, guest=name, decision=decision)
        return verdict

    def _check_still_open(self, generation: Generation) -> None:
        """Inside the guest's transaction: the link still opens (locked until it commits, so a revoke waits
        for it or wins before it), still covers the video, and the guest is within the posting rate."""
        if not ReviewLink.objects.usable().select_for_update().filter(pk=self.pk).exists():
            raise LinkClosed
        if self.shown_video(generation.pk) is None:
            raise LinkClosed
        # Counted from the timeline, where every comment and verdict (a verdict changed again included)
        # leaves its line: the verdicts' own rows keep only the latest.
        posts = Event.objects.filter(kind__startswith="client_", detail__link_id=str(self.pk))
        _hold(GUEST_POSTS_PER_LINK, posts, "at")

    def _tell_team(self, generation: Generation, kind: str, **detail: Any) -> None:
        Notification.send(
            [self.created_by, generation.created_by],
            team=self.team,
            kind=kind,
            generation=generation,
            link=self.title,
            **detail,
        )


def _check_videos(team: Team, chosen: list[Generation]) -> None:
    if not chosen:
        raise ReviewError(gettext("Choose at least one video to share."), field="videos")
    if len(chosen) > LINK_VIDEOS_MOST:
        raise ReviewError(
            gettext("A link shares at most %(most)d videos.") % {"most": LINK_VIDEOS_MOST}, field="videos"
        )
    shareable = Generation.objects.for_team(team).filter(
        pk__in=[video.pk for video in chosen], state=State.SUCCEEDED
    )
    if shareable.count() != len(chosen):
        raise ReviewError(gettext("Only the team's finished videos can be shared."), field="videos")


def _guest_name(name: str) -> str:
    name = " ".join(name.split())[:GUEST_NAME_MOST]
    if not name:
        raise ReviewError(gettext("Write your name, so the team knows who it is from."), field="name")
    return name


def _refusal(window: Window, rows: models.QuerySet[Any], column: str) -> RateLimited | None:
    """None if one more fits `window` beside `rows` made within it (by `column`)."""
    recent = rows.filter(**{f"{column}__gt": window.start()}).order_by(column)

    def nth(n: int) -> datetime:
        return recent.values_list(column, flat=True)[n]  # type: ignore[no-any-return]

    return window.refusal(1, recent.count, nth)


def _hold(window: Window, rows: models.QuerySet[Any], column: str) -> None:
    """TooManyTries unless one more fits `window` beside `rows` made within it (by `column`)."""
    refusal = _refusal(window, rows, column)
    if refusal is not None:
        raise TooManyTries(refusal)


class LinkFailure(models.Model):
    """A wrong password typed for a link, counted for the link's and the address's rate limits; or, with
    no link, an address that opened none (MISSES_PER_ADDRESS)."""

    link = models.ForeignKey(ReviewLink, null=True, on_delete=models.CASCADE, related_name="failures")
    address = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["link", "at"], name="link_failure_link"),
            models.Index(fields=["address", "at"], name="link_failure_address"),
        ]

    def __str__(self) -> str:
        what = f"wrong password for {self.link_id}" if self.link_id else "no link"
        return f"{what} at {self.at:%H:%M:%S}"

    @classmethod
    def prune(cls) -> int:
        """Forget the failures no rate limit counts any more (the tick calls it)."""
        longest = max(PASSWORD_TRIES_PER_LINK.span, PASSWORD_TRIES_PER_ADDRESS.span, MISSES_PER_ADDRESS.span)
        deleted, _kinds = cls.objects.filter(at__lt=timezone.now() - longest).delete()
        return deleted


class ClientVerdict(models.Model):
    """A client's verdict on one video, given through one link: theirs, shown to the team beside the team's
    own review, which it does not change."""

    class Decision(models.TextChoices):
        APPROVED = ReviewState.APPROVED.value, _("Approved")
        CHANGES_REQUESTED = ReviewState.CHANGES_REQUESTED.value, _("Changes requested")

    link = models.ForeignKey(ReviewLink, on_delete=models.CASCADE, related_name="verdicts")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="client_verdicts")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    name = models.CharField(max_length=GUEST_NAME_MOST)
    comment = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["link", "generation"], name="one_client_verdict_per_link"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.name} on {self.generation_id}"
