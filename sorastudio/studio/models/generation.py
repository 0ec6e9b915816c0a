"""A video and its life: what was asked, its states and their transitions, its review state, its trash,
its reference images and its timeline (Event)."""

from __future__ import annotations

import base64
import functools
import logging
import re
import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.utils.translation import gettext

from sorastudio.lib import capabilities
from sorastudio.teams.models import Membership, Team
from sorastudio.upstream.errors import REFUSAL_CODE

from .characters import Character
from .notifications import Notification
from .review import Comment, Favourite
from .states import (
    DECISIONS,
    DECISIONS_NEEDING_A_REASON,
    LIVE_STATES,
    ReviewError,
    ReviewState,
    State,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The roles whose members decide on videos (Membership.can_review), as a query needs them.
REVIEWING_ROLES = (Membership.Role.REVIEWER, Membership.Role.ADMIN)


logger = logging.getLogger(__name__)

# The fields that make two jobs alike in how long they take.
TYPICAL_KIND = ("provider", "simulated", "model", "version", "duration")


def _followed(task_id: str, trace_id: str) -> dict[str, Any]:
    """A submitting job's changes once the upstream has its task: running, and followed by that task id."""
    return {
        "state": State.RUNNING,
        "upstream_task_id": task_id,
        "trace_id": trace_id,
        "upstream_phase": "pending",
        "submitted_at": timezone.now(),
        "claimed_at": None,
        "attempts": 0,
        "next_attempt_at": None,
    }


# What a gallery card shows of its video (GenerationQuerySet.for_cards).
CARD_COLUMNS = (
    *("id", "team", "created_by", "state", "upstream_phase", "upstream_task_id", "trace_id"),
    *("error_code", "error_message", "prompt", "created_at", "submitted_at", "finished_at", "group"),
    "variation",
    *("review_state", "video", "poster", "video_duration", "size", "quality", "orientation", "watermark"),
    *TYPICAL_KIND,
)
# What with_flags_for and billing's with_charges add to each row: with CARD_COLUMNS and the author's name,
# all a card can read.
CARD_FLAGS = ("is_favourite", "open_comments", "settled_as", "reserved_credits", "provider_paused")
# A gallery page links to each of its cards' addresses, and reverse() costs tens of microseconds a call:
# each route is reversed once per URL prefix with a stand-in key, which is then replaced by the real one.
CARD_LINKS = ("generation", "video", "poster", "rerun", "delete", "favourite")
_KEY_STAND_IN = uuid.UUID(int=0)


@functools.lru_cache(maxsize=128)
def _route_with_stand_in(name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(name, args=[_KEY_STAND_IN], urlconf=urlconf)


def address_of(name: str, pk: uuid.UUID) -> str:
    """reverse(name, args=[pk]) for a route whose only argument is a uuid key, at a fraction of its cost."""
    pattern = _route_with_stand_in(name, get_script_prefix(), get_urlconf())
    return pattern.replace(str(_KEY_STAND_IN), str(pk))


class GenerationQuerySet(models.QuerySet["Generation"]):
    def for_team(self, team: Team | None) -> GenerationQuerySet:
        """The team's videos, without the ones in its trash: what every page of the studio works on."""
        if team is None:
            return self.none()
        return self.filter(team=team, deleted_at__isnull=True)

    def in_trash(self, team: Team | None) -> GenerationQuerySet:
        if team is None:
            return self.none()
        return self.filter(team=team, deleted_at__isnull=False)

    def waiting_for(self, user: User) -> GenerationQuerySet:
        """In review and asked of `user` (or of any reviewer), and not their own video."""
        return (
            self.filter(review_state=ReviewState.IN_REVIEW)
            .filter(Q(review_requested_of=user) | Q(review_requested_of__isnull=True))
            .exclude(created_by=user)
        )

    def came_back_to(self, user: User) -> GenerationQuerySet:
        """`user`'s videos that a reviewer has decided on."""
        return self.filter(created_by=user, review_state__in=DECISIONS)

    def for_cards(self) -> GenerationQuerySet:
        """Only the columns a gallery card shows, with its author's name: a page reads and converts 24 rows
        of them at every request. (A card that comes to use another column would cost a query per card:
        tests/studio/test_gallery.py counts a page's queries.)"""
        return self.select_related("created_by").only(*CARD_COLUMNS, "created_by__username")

    def with_flags_for(self, user: User) -> GenerationQuerySet:
        """Each video's per-person and count facts for the gallery's cards, in the same query."""
        favourite = Favourite.objects.filter(generation=models.OuterRef("pk"), user=user)
        open_comments = (
            Comment.objects.filter(generation=models.OuterRef("pk"), resolved_at__isnull=True)
            .order_by()
            .values("generation")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(
            is_favourite=models.Exists(favourite),
            open_comments=models.functions.Coalesce(
                models.Subquery(open_comments, output_field=models.IntegerField()), 0
            ),
        )

    def with_queue_places(self) -> GenerationQuerySet:
        """Each queued job's place in line (1 is next; None for a job not queued): among the studio's
        queued jobs for the same service (provider, and simulated or not), by when they were asked for,
        the order the dispatcher sends them in. In the page's own query, not one per card."""
        ahead = (
            Generation.objects.filter(
                state=State.QUEUED,
                provider=models.OuterRef("provider"),
                simulated=models.OuterRef("simulated"),
            )
            .filter(
                Q(created_at__lt=models.OuterRef("created_at"))
                | Q(created_at=models.OuterRef("created_at"), id__lt=models.OuterRef("id"))
            )
            .order_by()
            .values("provider")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        place = models.functions.Coalesce(models.Subquery(ahead, output_field=models.IntegerField()), 0) + 1
        return self.annotate(
            queue_place=models.Case(
                models.When(state=State.QUEUED, then=place), output_field=models.IntegerField()
            )
        )

    def in_flight(self) -> GenerationQuerySet:
        return self.filter(state__in=LIVE_STATES)

    def being_followed(self) -> GenerationQuerySet:
        """Jobs the upstream is working on: these are what the batch poll asks about."""
        return self.filter(state=State.RUNNING).exclude(upstream_task_id="")

    def newest_first(self) -> GenerationQuerySet:
        return self.order_by("-created_at", "-id")

    def purge_expired(self) -> int:
        """Delete for good the videos whose time in their team's trash is over, with their stored files,
        except files another row still uses (re-runs and kept images share them). Returns how many went."""
        now = timezone.now()
        trashed = self.filter(deleted_at__isnull=False)
        purged = 0
        teams = Team.objects.filter(pk__in=trashed.values("team")).values_list("pk", "trash_days")
        for team_id, days in teams:
            expired = trashed.filter(team_id=team_id, deleted_at__lte=now - timedelta(days=days))
            while rows := list(expired.values_list("pk", "video", "poster", "character_clip")[:PURGE_BATCH]):
                pks = [pk for pk, *_files in rows]
                with transaction.atomic():
                    files = {name for _pk, *names in rows for name in names if name}
                    images = GenerationImage.objects.filter(generation__in=pks)
                    files.update(images.values_list("file", flat=True))
                    Generation.objects.filter(pk__in=pks).delete()
                    unused = files - _files_in_use(files)
                    transaction.on_commit(lambda unused=unused: _delete_files(unused))  # type: ignore[misc]
                purged += len(pks)
        return purged


# Videos purged per transaction: short transactions, and lists of ids well within SQLite's limits.
PURGE_BATCH = 200


def _files_in_use(names: set[str]) -> set[str]:
    """Which of these stored files a row (a video, its reference images, a saved character) still names."""
    used: set[str] = set()
    chosen = sorted(names)
    for start in range(0, len(chosen), PURGE_BATCH):
        chunk = chosen[start : start + PURGE_BATCH]
        for field in ("video", "poster", "character_clip"):
            used.update(Generation.objects.filter(**{f"{field}__in": chunk}).values_list(field, flat=True))
        used.update(GenerationImage.objects.filter(file__in=chunk).values_list("file", flat=True))
        used.update(Character.objects.filter(clip__in=chunk).values_list("clip", flat=True))
    return used


def _delete_files(names: set[str]) -> None:
    for name in sorted(names):
        try:
            default_storage.delete(name)
        except Exception:  # OSError on disk; botocore's errors (not OSErrors) on S3
            # Left behind, not fatal: the rows are gone, and a stray file harms nobody.
            logger.warning("could not delete the purged file %s", name, exc_info=True)


class Generation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="generations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generations"
    )
    provider = models.CharField(max_length=20, default=capabilities.ACEDATA)
    # True when the job went to the built-in simulator rather than a real account.
    simulated = models.BooleanField(default=False)
    # Made by `manage.py seed_demo`, whose timings are invented: no estimate or health figure learns from it.
    demo = models.BooleanField(default=False)

    # What was asked, with the API's own field names.
    prompt = models.TextField()
    model = models.CharField(max_length=40)
    version = models.CharField(max_length=10, default="1.0")
    duration = models.PositiveSmallIntegerField()
    size = models.CharField(max_length=20)
    orientation = models.CharField(max_length=20, blank=True)
    image_urls = models.JSONField(default=list, blank=True)
    character_url = models.URLField(max_length=2000, blank=True)
    character_start = models.PositiveSmallIntegerField(null=True, blank=True)
    character_end = models.PositiveSmallIntegerField(null=True, blank=True)
    # An uploaded clip (kept in our storage, sent as a signed link) and the saved character used, if any.
    character_clip = models.FileField(upload_to="characters/%Y/%m/", blank=True, max_length=300)
    character = models.ForeignKey(
        "Character", null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )
    # Sora2API's options (its aspectRatio is kept in `orientation`).
    quality = models.CharField(max_length=10, blank=True)
    watermark = models.CharField(max_length=capabilities.WATERMARK_MAX, blank=True)

    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED, db_index=True)
    upstream_phase = models.CharField(max_length=20, blank=True)
    upstream_task_id = models.CharField(max_length=200, blank=True, db_index=True)
    trace_id = models.CharField(max_length=200, blank=True)
    callback_token = models.CharField(max_length=64, unique=True, default="", editable=False)

    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When a follower last put this job's next task on the queue: a crowded queue is not flooded with
    # copies while the first one waits for a worker.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # Whether the upstream had accepted the job when it failed: the basis for "you were not charged".
    error_after_submit = models.BooleanField(default=False)

    video_url = models.TextField(blank=True)
    # The request exactly as it went upstream (inline images shortened, the callback token hidden).
    sent_payload = models.JSONField(default=dict, blank=True)

    # How this job relates to others: the job it re-runs, the submit it came from (variations share a
    # group), and the batch of prompts it was part of.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    group = models.UUIDField(null=True, blank=True, db_index=True)
    variation = models.PositiveSmallIntegerField(default=1)
    batch = models.UUIDField(null=True, blank=True, db_index=True)

    # The team's review of the finished video: who was asked, and the last decision.
    review_state = models.CharField(
        max_length=20, choices=ReviewState.choices, default=ReviewState.NEW, db_index=True
    )
    review_requested_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    # Soft delete: the video waits in the team's trash for `Team.trash_days`, then it is purged.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    upstream_finished_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    video = models.FileField(upload_to="videos/%Y/%m/", blank=True, max_length=300)
    poster = models.FileField(upload_to="posters/%Y/%m/", blank=True, max_length=300)
    video_duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        indexes = [
            # The gallery: a team's visible videos, newest first, paged by (created_at, id).
            models.Index(
                fields=["team", "-created_at", "-id"],
                name="gen_team_gallery",
                condition=Q(deleted_at__isnull=True),
            ),
            # The filters people use most, each in the gallery's own order so a page stops after 24 rows.
            models.Index(
                fields=["team", "review_state", "-created_at", "-id"],
                name="gen_team_review",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["team", "created_by", "-created_at", "-id"],
                name="gen_team_author",
                condition=Q(deleted_at__isnull=True),
            ),
            # The trash and its purge look only at deleted videos, a small part of the table.
            models.Index(fields=["deleted_at"], name="gen_trash", condition=Q(deleted_at__isnull=False)),
            models.Index(fields=["state", "next_attempt_at"], name="gen_state_due"),
            # The pipeline health page: a team's jobs that ended within a window.
            models.Index(fields=["team", "finished_at"], name="gen_team_finished"),
        ]

    def __str__(self) -> str:
        return f"{self.prompt[:40]} ({self.state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.callback_token:
            self.callback_token = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return address_of("studio:generation", self.pk)

    @cached_property
    def links(self) -> dict[str, str]:
        """The addresses a gallery card links to, by the last part of their route's name."""
        return {name: address_of(f"studio:{name}", self.pk) for name in CARD_LINKS}

    # --- Reading ------------------------------------------------------------------------------------------

    def card_facts(self) -> tuple[Any, ...]:
        """Everything of this video a gallery card can show: the columns read for it, its author's name and
        the flags of with_flags_for. Two equal answers make the same card for the same viewer at the same
        moment, which is what lets a finished card's HTML be kept (studio_tags.gallery_card)."""
        loaded = tuple(
            (field.attname, self.__dict__[field.attname])
            for field in self._meta.concrete_fields
            if field.attname in self.__dict__
        )
        author = self._state.fields_cache.get("created_by")
        flags = tuple(getattr(self, name, None) for name in CARD_FLAGS)
        return loaded, author.get_username() if author else None, flags

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == State.SUCCEEDED and bool(self.video)

    @property
    def failed(self) -> bool:
        return self.state in (State.FAILED, State.TIMED_OUT)

    @property
    def refused(self) -> bool:
        """Failed because the upstream would not make what it shows: only a changed request can work."""
        return self.failed and self.error_code == REFUSAL_CODE

    def elapsed(self, now: Any = None) -> timedelta:
        end = self.finished_at or now or timezone.now()
        return max(end - self.created_at, timedelta(0))

    def download_name(self) -> str:
        stem = slugify(self.prompt)[:60].strip("-") or "video"
        return f"{stem}-{self.model}-{self.duration}s.mp4"

    def reference_images(self, *, inline: bool) -> list[str]:
        """The reference images in order: given addresses first, then uploads, either inline as base64
        data URIs (for APIs that take them) or as signed addresses under the studio's public URL."""
        images = [url for url in self.image_urls if url]
        for upload in self.uploads.all():
            if inline:
                with upload.file.open("rb") as fh:
                    encoded = base64.b64encode(fh.read()).decode("ascii")
                images.append(f"data:{upload.content_type};base64,{encoded}")
            else:
                images.append(upload.public_url())
        return images

    def form_initial(self) -> dict[str, Any]:
        """The form's fields, filled from this job: for "edit & retry"."""
        initial = self.params()
        initial["image_urls"] = "\n".join(u for u in self.image_urls if not u.startswith("data:"))
        initial["character"] = str(self.character_id) if self.character_id else ""
        initial["keep_image"] = [str(image.pk) for image in self.uploads.all()]
        # An uploaded clip not saved as a character comes again by this job's id (GenerationForm.kept_clip).
        initial["keep_clip"] = str(self.pk) if self.character_clip and not self.character_id else ""
        if self.provider == capabilities.SORA2API:
            initial["aspect_ratio"] = initial.pop("orientation")
        return initial

    # --- Changing state -----------------------------------------------------------------------------------
    # Every transition is a conditional UPDATE on the states it moves from (named by each verb, never "any
    # live state"); the row count says whether this caller won, so two workers (or a worker and a callback)
    # never both act. The UPDATE, its timeline event, its ledger entry and its notification are one
    # transaction: a worker that dies between them leaves none of them written (a notification's mail goes
    # out only once it commits).

    def _transition(self, from_states: tuple[str, ...], where: Q | None = None, **changes: Any) -> bool:
        changes.setdefault("updated_at", timezone.now())
        rows = Generation.objects.filter(pk=self.pk, state__in=from_states)
        if where is not None:
            rows = rows.filter(where)
        won = rows.update(**changes) == 1
        if won:
            for name, value in changes.items():
                if not hasattr(value, "resolve_expression"):
                    setattr(self, name, value)
            self.refresh_from_db(fields=["attempts", "state"])
        return won

    def holds_claim(self) -> Q:
        """The job is still held by the claim this copy of it took (its `claimed_at` is the claim's token): a
        worker whose claim went stale and was taken over must not end the job under the new holder."""
        return Q(claimed_at=self.claimed_at)

    def claim_for_submit(self) -> bool:
        # A job that has an upstream task id is never submitted again, whatever its state says; and a job
        # waiting out a backoff (or the upstream's Retry-After) is not taken early by a duplicate task.
        now = timezone.now()
        return self._transition(
            (State.QUEUED,),
            where=Q(upstream_task_id="") & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)),
            state=State.SUBMITTING,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )

    def mark_submitted(self, task_id: str, trace_id: str = "", sent: dict[str, Any] | None = None) -> bool:
        """Save the upstream's task id, only if this job is still held by the claim that submitted it: a
        claim taken over meanwhile must not be overwritten."""
        with transaction.atomic():
            won = self._transition(
                (State.SUBMITTING,),
                where=self.holds_claim(),
                sent_payload=sent or {},
                **_followed(task_id, trace_id),
            )
            if won:
                self.log("submitted", task_id=task_id, trace_id=trace_id)
        return won

    def adopt_task(self, task_id: str, trace_id: str = "") -> bool:
        """Take on the upstream task a killed worker's submit made but never saved (see tasks.adopt). Only a
        job still in `submitting` without a task id: one put back in the queue could be claimed and sent
        again meanwhile, and one already failed as uncertain stays as it was settled."""
        with transaction.atomic():
            won = self._transition(
                (State.SUBMITTING,), where=Q(upstream_task_id=""), **_followed(task_id, trace_id)
            )
            if won:
                self.log("adopted", task_id=task_id, trace_id=trace_id)
        return won

    def retry_later(
        self, from_state: str, delay: float, reason: str, *, where: Q | None = None, **detail: Any
    ) -> bool:
        """Put a claimed job back to wait for another attempt after `delay` seconds (`where`: the claim
        that gives it back must still be the job's)."""
        back_to = State.QUEUED if from_state == State.SUBMITTING else from_state
        with transaction.atomic():
            won = self._transition(
                (from_state,),
                where,
                state=back_to,
                claimed_at=None,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                # The task that was on the queue for it has run: the next one is dispatched when the delay
                # is over, not a minute after the last dispatch (see tasks._dispatch_due).
                dispatched_at=None,
            )
            if won:
                self.log("retry", reason=_redact(reason)[:300], delay=round(delay, 1), **detail)
        return won

    def note_phase(self, phase: str, *, polled: bool = False) -> None:
        """Remember the upstream's own word for a live job's progress. A batch poll that moves it adds a
        line to the timeline; polls that find nothing new do not, or the timeline would be all polls."""
        if phase == self.upstream_phase:
            return
        running = Generation.objects.filter(pk=self.pk, state=State.RUNNING)
        with transaction.atomic():
            changed = running.exclude(upstream_phase=phase).update(upstream_phase=phase)
            self.upstream_phase = phase
            if changed and polled:
                self.log("polled", phase=phase)

    def mark_upstream_succeeded(self, video_url: str, trace_id: str = "") -> bool:
        with transaction.atomic():
            won = self._transition(
                (State.RUNNING,),
                state=State.ARCHIVING,
                upstream_phase="succeeded",
                video_url=video_url,
                trace_id=trace_id or self.trace_id,
                upstream_finished_at=timezone.now(),
                claimed_at=None,
                attempts=0,
                next_attempt_at=None,
            )
            if won:
                self.log("upstream_succeeded")
        return won

    def claim_for_archive(self, stale_after: float) -> bool:
        now = timezone.now()
        free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - timedelta(seconds=stale_after))
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        return self._transition(
            (State.ARCHIVING,),
            where=free & due,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )

    def mark_archived(self, *, video: str, poster: str, info: dict[str, Any]) -> bool:
        """Point the job at the files this archive attempt stored: only while the attempt's claim is still
        the job's. An archiver whose claim went stale and was taken over loses here (and deletes what it
        stored), whichever of the two finishes first."""
        now = timezone.now()
        with transaction.atomic():
            won = self._transition(
                (State.ARCHIVING,),
                where=self.holds_claim(),
                state=State.SUCCEEDED,
                video=video,
                poster=poster,
                archived_at=now,
                finished_at=now,
                claimed_at=None,
                next_attempt_at=None,
                # The signed upstream link has done its job; it is a credential, so it is not kept.
                video_url="",
                **info,
            )
            if won:
                self.log("archived", sha256=info.get("sha256", ""), size_bytes=info.get("size_bytes"))
                Notification.send(
                    [self.created_by], team=self.team, kind=Notification.Kind.READY, generation=self
                )
        return won

    def mark_failed(
        self,
        code: str,
        message: str,
        *,
        from_states: tuple[str, ...],
        status: int | None = None,
        trace_id: str = "",
        state: str = State.FAILED,
        where: Q | None = None,
    ) -> bool:
        """End the job as failed (or timed out) from one of `from_states`, which the caller names: each path
        that fails a job knows which states it may end (a submit's failure ends only its own submitting
        claim, a status read only a running job), so none ends a job another path is in the middle of."""
        now = timezone.now()
        with transaction.atomic():
            won = self._transition(
                from_states,
                where,
                state=state,
                error_code=code[:60],
                error_message=_redact(message)[:2000],
                error_status=status,
                trace_id=trace_id or self.trace_id,
                error_after_submit=bool(self.upstream_task_id) or code == "submit_uncertain",
                video_url="",
                finished_at=now,
                claimed_at=None,
                next_attempt_at=None,
            )
            if won:
                self.log(state, code=code, message=_redact(message)[:300], status=status)
                Notification.send(
                    [self.created_by], team=self.team, kind=Notification.Kind.FAILED, generation=self
                )
        return won

    def log(self, kind: str, *, actor: User | None = None, **detail: Any) -> None:
        """A line on the video's timeline; `actor` is the person who did it (none for the pipeline)."""
        Event.objects.create(generation=self, kind=kind, actor=actor, detail=detail)

    # --- Review -------------------------------------------------------------------------------------------

    @property
    def can_ask_for_review(self) -> bool:
        """Finished, and not waiting for a review nor decided (except "changes requested": fixed, it is
        asked again; a rejected video is re-run instead)."""
        return self.succeeded and self.review_state in (ReviewState.NEW, ReviewState.CHANGES_REQUESTED)

    def review_rights(self, membership: Membership) -> dict[str, bool]:
        """What the person of `membership` may do in this video's review: its creator asks for one (an
        admin may for them); reviewers and admins decide, a reviewer never on their own video."""
        own = membership.user_id == self.created_by_id
        return {
            "ask": own or membership.is_admin,
            "decide": membership.can_review,
            "decide_own": own and membership.can_review and not membership.is_admin,
        }

    def possible_reviewers(self) -> Any:
        """Whom the creator can ask: the team's reviewers and admins, except the creator."""
        from django.contrib.auth import get_user_model

        return (
            get_user_model()
            .objects.filter(memberships__team=self.team_id, memberships__role__in=REVIEWING_ROLES)
            .exclude(pk=self.created_by_id)
            .order_by("username")
        )

    def comment_threads(self) -> list[Comment]:
        """The comments in order, each with its replies (threads are one level deep)."""
        replies = models.Prefetch("replies", queryset=Comment.objects.select_related("author"))
        return list(
            self.comments.filter(parent=None)
            .select_related("author", "resolved_by")
            .prefetch_related(replies)
        )

    def ask_for_review(self, by: User, reviewer: Any = None) -> None:
        """Ask a reviewer (or, with none named, every reviewer of the team) to look at this video."""
        if not self.succeeded or self.deleted_at:
            raise ReviewError(gettext("Only a finished video can be reviewed."))
        if reviewer is not None and reviewer == self.created_by:
            raise ReviewError(gettext("Ask someone else: nobody reviews their own video."), field="reviewer")
        if reviewer is not None and not self.possible_reviewers().filter(pk=reviewer.pk).exists():
            # Checked here too: a notification to someone outside the team would show them the video.
            raise ReviewError(gettext("Ask one of the team's reviewers."), field="reviewer")
        asked_from = (ReviewState.NEW, ReviewState.IN_REVIEW, ReviewState.CHANGES_REQUESTED)
        with transaction.atomic():
            won = (
                Generation.objects.filter(
                    pk=self.pk, review_state__in=asked_from, deleted_at__isnull=True
                ).update(
                    review_state=ReviewState.IN_REVIEW,
                    review_requested_of=reviewer,
                    updated_at=timezone.now(),
                )
                == 1
            )
            if not won:
                raise ReviewError(gettext("This video has already been decided on."))
            self.review_state = ReviewState.IN_REVIEW
            self.review_requested_of = reviewer
            self.log("review_requested", actor=by, reviewer=reviewer.get_username() if reviewer else "")
            if reviewer is not None:
                asked = [reviewer]
            else:
                asked = [m.user for m in self.team.memberships.select_related("user") if m.can_review]
            Notification.send(
                [u for u in asked if u != self.created_by],
                team=self.team,
                kind=Notification.Kind.REVIEW_REQUESTED,
                generation=self,
                actor=by,
            )

    def decide(
        self,
        by: User,
        decision: str,
        *,
        comment: str = "",
        at_seconds: float | None = None,
        seen: str | None = None,
    ) -> Comment | None:
        """A reviewer's decision, with the comment that explains it (required unless approving). The
        decision applies only to the review state this reviewer saw (`seen`, by default the one this
        object was loaded with): a decision made meanwhile by someone else is not silently overwritten."""
        comment = comment.strip()
        self._check_decision(by, decision, comment)
        now = timezone.now()
        with transaction.atomic():
            won = (
                Generation.objects.filter(
                    pk=self.pk, review_state=seen or self.review_state, deleted_at__isnull=True
                ).update(review_state=decision, reviewed_by=by, reviewed_at=now, updated_at=now)
                == 1
            )
            if not won:
                raise ReviewError(
                    gettext("Someone else reviewed this video meanwhile: their decision is shown above.")
                )
            self.review_state = decision
            self.reviewed_by = by
            self.reviewed_at = now
            note = None
            if comment:
                note = Comment.objects.create(
                    generation=self, author=by, body=comment, at_seconds=at_seconds, decision=decision
                )
            self.log(decision, actor=by, at_seconds=at_seconds)
            Notification.send(
                [self.created_by],
                team=self.team,
                kind=Notification.Kind.REVIEW_RETURNED,
                generation=self,
                actor=by,
                decision=decision,
            )
        return note

    def _check_decision(self, by: User, decision: str, comment: str) -> None:
        """ReviewError, with the reason, unless `by` may make this decision on this video now."""
        if decision not in DECISIONS:
            raise ReviewError(gettext("Choose approve, request changes or reject."))
        if not self.succeeded or self.deleted_at:
            raise ReviewError(gettext("Only a finished video can be reviewed."))
        membership = self.team.memberships.filter(user=by).first()
        if membership is None or not membership.can_review:
            raise ReviewError(gettext("Only the team's reviewers and admins decide on videos."))
        if by == self.created_by and not membership.is_admin:
            raise ReviewError(gettext("You made this video, so another reviewer decides on it."))
        if decision in DECISIONS_NEEDING_A_REASON and not comment:
            raise ReviewError(
                gettext("Say why in a comment, so the creator knows what to change."), field="comment"
            )

    # --- Trash --------------------------------------------------------------------------------------------

    def soft_delete(self, by: User) -> bool:
        """Move a finished video to the team's trash (a live one must finish first)."""
        if self.is_live:
            return False
        now = timezone.now()
        won = (
            Generation.objects.filter(pk=self.pk, deleted_at__isnull=True)
            .exclude(state__in=LIVE_STATES)
            .update(deleted_at=now, deleted_by=by, updated_at=now)
            == 1
        )
        if won:
            self.deleted_at, self.deleted_by = now, by
            self.log("deleted", actor=by)
        return won

    def restore(self, by: User) -> bool:
        """Take a video back out of the trash, while the team's retention period lasts."""
        if self.deleted_at is None or self.purge_after() <= timezone.now():
            return False
        won = (
            Generation.objects.filter(pk=self.pk, deleted_at=self.deleted_at).update(
                deleted_at=None, deleted_by=None, updated_at=timezone.now()
            )
            == 1
        )
        if won:
            self.deleted_at = self.deleted_by = None
            self.log("restored", actor=by)
        return won

    def purge_after(self) -> Any:
        assert self.deleted_at is not None
        return self.deleted_at + timedelta(days=self.team.trash_days)

    def params(self) -> dict[str, Any]:
        """Everything that was asked, to ask again."""
        return {name: getattr(self, name) for name in PARAM_FIELDS}


PARAM_FIELDS = (
    "provider",
    "prompt",
    "model",
    "version",
    "duration",
    "size",
    "orientation",
    "image_urls",
    "character_url",
    "character_start",
    "character_end",
    "quality",
    "watermark",
)


_SIGNATURE = re.compile(r"([?&](?:sig|signature|token|key)=)[^&\s]+", re.IGNORECASE)


def _redact(text: str) -> str:
    """Signed links in upstream messages are credentials: keep them out of the database and logs."""
    return _SIGNATURE.sub(r"\1…", text)


class GenerationImage(models.Model):
    """A reference image uploaded from the creator's computer, kept in our storage and sent as base64."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="uploads")
    position = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="references/%Y/%m/", max_length=300)
    content_type = models.CharField(max_length=40)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"reference image {self.position + 1} of {self.generation_id}"

    def public_url(self) -> str:
        """A signed address the upstream can fetch this image from, for APIs that only take URLs."""
        from django.core import signing

        token = signing.dumps(self.pk, salt="reference-image")
        base = settings.PUBLIC_BASE_URL or settings.SIMULATOR_BASE_URL
        return base + reverse("reference_image", args=[token])


class Event(models.Model):
    """One line of a job's timeline: submitted, called back, retried, archived, failed."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30)
    # Who did it, for what people do (review, comments, trash); empty for the pipeline's own steps.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        # The pipeline health page counts the last hour's callbacks across the studio.
        indexes = [models.Index(fields=["kind", "at"], name="event_kind_at")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%H:%M:%S}"

    @property
    def moment(self) -> float | None:
        """The moment of the video this event is about (a pinned comment or decision), if any."""
        value = self.detail.get("at_seconds")
        return float(value) if isinstance(value, int | float) else None
