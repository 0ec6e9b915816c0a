"""The queue's work: submit jobs upstream, follow them with batched polls, archive results.

Every task takes a primary key, claims its job with a conditional UPDATE and is safe to run twice: a
duplicate delivery, a second worker or a callback racing a poll finds the claim taken and does nothing.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from sorastudio.billing.models import LedgerEntry, ProviderPause, provider_resumed
from sorastudio.lib import media, storage
from sorastudio.pipeline import outcomes
from sorastudio.studio.models import Event, Generation, LinkFailure, State
from sorastudio.upstream import downloads
from sorastudio.upstream.errors import UpstreamError

from . import providers
from .models import PollLease, UpstreamCall
from .providers import Status, Upstream

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)
DOWNLOAD_CHUNK = 1024 * 1024


def backoff(attempt: int, hint: float | None = None) -> float:
    """Seconds to wait before attempt number `attempt + 1`: exponential with jitter, never below the
    upstream's own Retry-After."""
    delay = min(300.0, 5.0 * 2.0 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)
    return max(delay, hint or 0.0)


def enqueue(func: Callable[..., None], *args: object) -> None:
    """Queue one of this module's tasks, by reference: the name the queue stores is the function's own."""
    async_task(func, *args, group=func.__name__)


def start(generation: Generation) -> None:
    """Hand a newly created job to the queue."""
    enqueue(submit, str(generation.pk))


# --- Submitting -----------------------------------------------------------------------------------------


def submit(pk: str) -> None:
    generation = Generation.objects.filter(pk=pk).first()
    if generation is None or ProviderPause.is_paused(generation.provider):
        return  # a paused provider's jobs wait in the queue until an admin resumes it
    if not generation.claim_for_submit():
        return
    try:
        with providers.upstream(generation.provider, generation.simulated) as upstream:
            task_id, trace_id = upstream.submit(generation)
            sent = upstream.sent
    except UpstreamError as exc:
        _submit_failed(generation, exc)
        return
    # The task id is saved before anything else happens, so this job is never submitted twice.
    if not generation.mark_submitted(task_id, trace_id, sent):
        if Generation.objects.filter(pk=generation.pk, upstream_task_id=task_id).exists():
            return  # adopted meanwhile from its callback (see `adopt`): the same task, nothing lost
        # Our claim was taken over (a recovery after a very slow call): the upstream now has a task that no
        # job points at. Loud, because it may have been charged.
        log.error("submit of %s lost its claim; upstream task %s belongs to no job", generation.pk, task_id)
        return
    kick(generation.provider)


def _submit_failed(generation: Generation, exc: UpstreamError) -> None:
    log.warning("submit of %s failed: %s", generation.pk, exc)
    # Only this worker's own claim, still without a task id, is ended or put back: a callback may have
    # adopted the task meanwhile (see tasks.adopt), or the claim been ended as abandoned.
    unsubmitted = Q(upstream_task_id="") & generation.holds_claim()
    if _out_of_credit(exc):
        # The studio's own account is empty: nothing this job did wrong. Stop sending to the provider until an
        # admin resumes it; the job waits in the queue with its credits still only reserved.
        ProviderPause.pause(generation.provider, reason=str(exc))
        generation.retry_later(
            State.SUBMITTING, 0, reason=exc.message, where=unsubmitted, status=exc.status, code=exc.code
        )
        return
    if not _certainly_refused(exc):
        # The request may have been accepted (a read time-out, a success without a task id): sending it
        # again could make and charge the video twice, so the job stops here and says so.
        outcomes.failed(
            generation,
            "submit_uncertain",
            exc.message,
            from_states=(State.SUBMITTING,),
            status=exc.status,
            trace_id=exc.trace_id,
            where=unsubmitted,
        )
        return
    if exc.retryable and generation.attempts < settings.SUBMIT_MAX_ATTEMPTS:
        generation.retry_later(
            State.SUBMITTING,
            backoff(generation.attempts, exc.retry_after),
            reason=exc.message,
            where=unsubmitted,
            status=exc.status,
            code=exc.code,
        )
        return
    outcomes.failed(
        generation,
        exc.code or "submit_failed",
        exc.message,
        from_states=(State.SUBMITTING,),
        status=exc.status,
        trace_id=exc.trace_id,
        where=unsubmitted,
    )


def _out_of_credit(exc: UpstreamError) -> bool:
    """AceDataCloud's 403 `used_up`, Sora2API's 402: the account has no credit left."""
    return exc.code in ("used_up", "insufficient_credits") or exc.status == 402


def _certainly_refused(exc: UpstreamError) -> bool:
    """The upstream did not take the job: the request never reached it, or it answered with an error."""
    return not exc.sent or (exc.status is not None and exc.status >= 400)


# --- Following ------------------------------------------------------------------------------------------


def kick(provider: str) -> None:
    """Make sure somebody is following a provider's live jobs: a follower is queued unless one holds the
    lease (a follower that ends looks once more after letting it go, so no job is left unfollowed)."""
    if not PollLease.objects.filter(provider=provider, expires_at__gt=timezone.now()).exists():
        enqueue(follow, provider)


def connect() -> None:
    """Listen to billing: a resumed provider's waiting jobs go to the queue at once, not at the next tick."""
    provider_resumed.connect(_kick_resumed, dispatch_uid="sorastudio.pipeline.kick_resumed")


def _kick_resumed(sender: Any, provider: str, **kwargs: Any) -> None:
    kick(provider)


def follow(provider: str) -> None:
    """Poll live jobs every POLL_INTERVAL seconds for a while, then hand over to a fresh task.

    django-q2's scheduler only runs every ~30 s, so the fast poll loop lives in a task that renews itself;
    a lease makes sure that however many are enqueued, one runs at a time, and the one-minute `tick`
    schedule restarts it if a worker died holding it.

    With callbacks (PUBLIC_BASE_URL set) the rounds still come every POLL_INTERVAL (time-outs, due retries),
    but their status read is only the safety net for lost callbacks (see `step`); between rounds the
    follower watches for callbacks and reads the jobs they woke together, one batched read for all of them.
    """
    holder = uuid.uuid4().hex
    interval = settings.POLL_INTERVAL
    if Conf.SYNC:
        # In-process (tests, Q_SYNC=1): one round, no sleeping; nothing else would ever run the next one.
        step(provider)
        return
    deadline = time.monotonic() + max(interval, min(120.0, settings.Q_TIMEOUT / 2))
    wakes = Wakes(provider) if settings.PUBLIC_BASE_URL else None
    next_safety_read = time.monotonic()
    while time.monotonic() < deadline:
        if not PollLease.acquire(provider, holder, seconds=interval * 3 + settings.UPSTREAM_TIMEOUT):
            return
        read = Read.ALL
        if wakes is not None:
            read = Read.NONE
            if time.monotonic() >= next_safety_read:
                read, next_safety_read = Read.OLD, time.monotonic() + settings.CALLBACK_POLL_INTERVAL
        if not step(provider, read=read):
            PollLease.release(provider, holder)
            # A job may have arrived between the last look and the release: look once more.
            if _followed().filter(provider=provider).exists():
                kick(provider)
            return
        if wakes is None:
            time.sleep(interval)
        else:
            wakes.watch(seconds=interval)
    PollLease.release(provider, holder)
    kick(provider)


def wake(provider: str) -> None:
    """A callback came for one of the provider's jobs (its "callback" event is already written): the
    running follower finds it within a second, or one is started."""
    kick(provider)


class Wakes:
    """The callbacks a follower has still to act on. A callback proves nothing (its body is not signed), so
    it is only a "callback" event on its job: the follower collects its provider's woken running jobs for
    WAKE_GATHER seconds after the first one, then re-reads all of them from the upstream in one batched
    read, whatever the callbacks said. A callback lost on the way is caught by the safety read."""

    CHECK_EVERY = 0.25
    WAKE_GATHER = 0.5
    # Each look goes this far back before the previous one began, so that an event written just before a
    # newer one but committed after it is not missed; the ids seen keep an event from waking its job twice.
    OVERLAP = 10.0

    def __init__(self, provider: str) -> None:
        self.provider = provider
        # A follower taking over first looks back a whole safety interval: callbacks that came while nobody
        # watched (a busy queue can delay the next follower) still wake their jobs.
        self.last_look = timezone.now() - timedelta(seconds=settings.CALLBACK_POLL_INTERVAL)
        self.seen: dict[int, datetime] = {}
        self.pending: set[str] = set()
        self.first_pending = 0.0

    def watch(self, seconds: float) -> None:
        """Collect and read woken jobs for `seconds`."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(self.CHECK_EVERY, left))
            self.collect()
            if self.pending and time.monotonic() - self.first_pending >= self.WAKE_GATHER:
                self.read()

    def collect(self) -> None:
        # From before the previous look, however long ago it was (a slow batched read delays the next).
        floor = self.last_look - timedelta(seconds=self.OVERLAP)
        self.last_look = timezone.now()
        events = Event.objects.filter(
            kind="callback",
            at__gt=floor,
            generation__provider=self.provider,
            generation__state=State.RUNNING,
        ).values_list("pk", "generation_id", "at")
        for pk, generation_id, at in events:
            if pk in self.seen:
                continue
            self.seen[pk] = at
            if not self.pending:
                self.first_pending = time.monotonic()
            self.pending.add(str(generation_id))
        self.seen = {pk: at for pk, at in self.seen.items() if at > floor}

    def read(self) -> None:
        woken = Generation.objects.being_followed().filter(provider=self.provider, pk__in=self.pending)
        self.pending = set()
        _read(self.provider, woken)


def tick() -> None:
    """The one-minute schedule: a safety net that restarts following after a crash or restart, the purge
    of videos whose time in the trash is over, and of the records kept only for a while."""
    live = _followed().values_list("provider", flat=True).distinct()
    for provider in set(live):
        kick(provider)
    LedgerEntry.settle_forgotten()
    Generation.objects.purge_expired()
    UpstreamCall.prune(days=7)
    LinkFailure.prune()
    if connection.vendor == "sqlite":
        # Keeps SQLite's statistics fresh, so a filtered gallery page uses the index that fits the
        # filter rather than walking the whole team in date order. With a limit, ANALYZE samples about
        # a thousand rows per index: a few milliseconds, whatever the size of the tables.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")


class Read(enum.Enum):
    """Whose statuses a round of following reads from the upstream."""

    ALL = "all"  # every running job: a follower that no callback can wake
    OLD = "old"  # the safety net of a follower that callbacks wake: only jobs running for longer than
    # CALLBACK_POLL_INTERVAL, whose callback may have been lost
    NONE = "none"  # nobody's: between safety reads, callbacks say which jobs to read


def step(provider: str | None = None, *, read: Read = Read.ALL) -> bool:
    """One round of following: time out, recover, dispatch and poll (one provider's jobs, or every
    provider's), reading the statuses `read` names. True while any of those jobs is live."""
    _time_out_old_jobs()
    _recover_abandoned_claims()
    _dispatch_due()
    names = (
        [provider]
        if provider
        else sorted(set(Generation.objects.being_followed().values_list("provider", flat=True)))
    )
    submitted_before = timezone.now() - timedelta(seconds=settings.CALLBACK_POLL_INTERVAL)
    for name in names if read is not Read.NONE else []:
        _poll_running(name, submitted_before if read is Read.OLD else None)
    live = _followed()
    return (live.filter(provider=provider) if provider else live).exists()


def _followed() -> QuerySet[Generation]:
    """Live jobs, apart from those waiting out an out-of-credit pause: nothing happens to them until an admin
    resumes their provider (which kicks it)."""
    paused = ProviderPause.paused_providers()
    return Generation.objects.in_flight().exclude(state=State.QUEUED, provider__in=paused)


def _time_out_old_jobs() -> None:
    """End the jobs past GENERATION_TIMEOUT: a queued job counted from its creation, a running one from
    the upstream taking it. Never a job being submitted: its request may be reaching the upstream, which
    would make and bill the video, so it is left to its worker (which saves the task id, or ends it as
    submit_uncertain) or, if the worker died, to the abandoned-claim recovery, which keeps the charge.
    Never a job being archived: it is finished upstream (and paid for), and its own attempt budget ends
    it, or a slow download of a made video would be reported as "timed out"."""
    limit = timezone.now() - timedelta(seconds=settings.GENERATION_TIMEOUT)
    # Counting a running job from its submit means that one that waited its turn in the queue (or whose
    # clock passed while it was being sent) is not ended, and its credits given back, a moment after the
    # upstream took it and began making (and billing) the video.
    late = Q(state=State.QUEUED, created_at__lt=limit) | Q(
        Q(submitted_at__lt=limit) | Q(submitted_at__isnull=True, created_at__lt=limit), state=State.RUNNING
    )
    # Waiting out an out-of-credit pause is not the upstream being slow: those jobs are left alone.
    late &= ~ProviderPause.sheltered(limit)
    for generation in Generation.objects.filter(late):
        # The same conditions again in the UPDATE itself: a queued job claimed meanwhile is left to its
        # submit, a running one that finished meanwhile to its archive.
        outcomes.failed(
            generation,
            "timed_out",
            f"No result after {settings.GENERATION_TIMEOUT // 60} minutes.",
            from_states=(State.QUEUED, State.RUNNING),
            where=late,
            state=State.TIMED_OUT,
        )


def _recover_abandoned_claims() -> None:
    """A worker killed in the middle of a submit leaves its job in `submitting` with no task id. Its request
    may have reached the upstream, which may be making (and billing) the video: sending it again could
    make it twice, so the job ends as `submit_uncertain`, settled like any uncertain submit. With callbacks,
    the upstream's callback usually comes first and the job is adopted instead (see `adopt`).
    "Abandoned" is generous (a slow upload of large images is not abandoned), and a submit that does
    finish after all cannot overwrite the ending (see Generation.mark_submitted)."""
    stale = timezone.now() - timedelta(
        seconds=max(float(settings.SUBMIT_STALE_AFTER), settings.UPSTREAM_TIMEOUT * 4)
    )
    abandoned = Q(upstream_task_id="", claimed_at__lt=stale)
    for generation in Generation.objects.filter(abandoned, state=State.SUBMITTING):
        # State and claim are checked again in the UPDATE: a submit that saved its task id (or was put back
        # in the queue and claimed afresh) since the look above is not ended.
        outcomes.failed(
            generation,
            "submit_uncertain",
            "The worker stopped while sending this job, so it is not known whether the video service took "
            "it; it is not sent again, so that it cannot be made and charged twice.",
            from_states=(State.SUBMITTING,),
            where=abandoned,
        )


def _dispatch_due() -> None:
    """Enqueue the submits and archives that are due and not already waiting on the queue. The
    conditional UPDATE of `dispatched_at` lets one follower enqueue a job once a minute at most."""
    moment = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment)
    undispatched = Q(dispatched_at__isnull=True) | Q(
        dispatched_at__lt=moment - timedelta(seconds=max(60.0, settings.Q_TIMEOUT))
    )
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=moment - timedelta(seconds=settings.Q_TIMEOUT))
    paused = ProviderPause.paused_providers()
    for state, task, extra in (
        (State.QUEUED, submit, Q(upstream_task_id="") & ~Q(provider__in=paused)),
        (State.ARCHIVING, archive, free),
    ):
        ready = Generation.objects.filter(due & undispatched & extra, state=state)
        for pk in ready.values_list("pk", flat=True)[:200]:
            if ready.filter(pk=pk).update(dispatched_at=moment):
                enqueue(task, str(pk))


def _poll_running(provider: str, submitted_before: datetime | None = None) -> None:
    running = Generation.objects.being_followed().filter(provider=provider)
    if submitted_before is not None:
        running = running.filter(submitted_at__lt=submitted_before)
    _read(provider, running)


def _read(provider: str, jobs: QuerySet[Generation]) -> None:
    """Read these running jobs' statuses: one batched read (per POLL_BATCH_SIZE) for the simulated ones and
    one for the real ones."""
    for simulated in (True, False):
        chosen = jobs.filter(simulated=simulated).only(
            "pk", "upstream_task_id", "upstream_phase", "simulated"
        )
        by_task = {g.upstream_task_id: g for g in chosen}
        if by_task:
            _poll(provider, simulated, by_task)


def _poll(provider: str, simulated: bool, by_task: dict[str, Generation]) -> None:
    try:
        with providers.upstream(provider, simulated) as upstream:
            statuses = upstream.statuses(list(by_task))
    except UpstreamError as exc:
        # A failed poll changes nothing: the next round asks again, and the time-out bounds the wait.
        log.warning("batch poll failed: %s", exc)
        PollLease.note(provider, error=str(exc))
        return
    PollLease.note(provider)
    for task_id, status in statuses.items():
        if task_id in by_task:
            apply_status(by_task[task_id], status, polled=True)


def apply_status(generation: Generation, status: Status, *, polled: bool = False) -> None:
    if status.phase == "succeeded":
        if outcomes.upstream_succeeded(generation, status.video_url, status.trace_id):
            enqueue(archive, str(generation.pk))
    elif status.phase == "failed":
        outcomes.failed(
            generation,
            status.error_code or "generation_failed",
            status.error_message,
            from_states=(State.RUNNING,),
            trace_id=status.trace_id,
        )
    elif status.phase in ("pending", "processing"):
        generation.note_phase(status.phase, polled=polled)


def adopt(pk: str, task_id: str) -> None:
    """A callback came for a job that has no task id: its worker was killed after the upstream took the
    submit and before the task id was saved. The callback's body proves nothing, so the task it names is
    read from the upstream and adopted only if the upstream's own record of it carries this job's callback
    token. Without this, the job would end as `submit_uncertain` (see _recover_abandoned_claims)."""
    generation = Generation.objects.filter(pk=pk).first()
    if generation is None or generation.upstream_task_id or generation.state != State.SUBMITTING:
        return
    status = None
    for attempt in (1, 2):  # the callback's sender is waiting: one quick second try at most
        try:
            with providers.upstream(generation.provider, generation.simulated) as upstream:
                status = upstream.retrieve(task_id)
            break
        except UpstreamError as exc:
            log.warning("adopting %s for %s failed: %s", task_id, pk, exc)
            if not exc.retryable or attempt == 2:
                return
            time.sleep(min(exc.retry_after or 1.0, 2.0))
    if status is None or not providers.made_for(status, generation.callback_token):
        log.warning("callback for %s named task %s, which was not made for it", pk, task_id)
        return
    if generation.adopt_task(status.task_id or task_id, status.trace_id):
        apply_status(generation, status)
        kick(generation.provider)


def refresh(pk: str, source: str = "callback") -> None:
    """Re-read one job from the upstream. Callbacks no longer come here (they wake the follower, which reads
    the woken jobs together); kept for the refresh tasks still on a queue from before."""
    generation = Generation.objects.filter(pk=pk).first()
    if generation is None or generation.state != State.RUNNING or not generation.upstream_task_id:
        return
    try:
        with providers.upstream(generation.provider, generation.simulated) as upstream:
            status = upstream.retrieve(generation.upstream_task_id)
    except UpstreamError as exc:
        log.warning("refresh of %s after %s failed: %s", pk, source, exc)
        return
    apply_status(generation, status)


@dataclass(frozen=True)
class Resynced:
    """What a resync read upstream, for the person who asked."""

    phase: str = ""  # the upstream's word: pending, processing, succeeded, failed, unknown
    error_code: str = ""  # the upstream's reason for a failed job
    problem: str = ""  # why nothing could be read
    state_before: str = ""
    state_after: str = ""

    @property
    def moved(self) -> bool:
        return self.state_before != self.state_after


def resync(pk: str, *, by: User | None = None) -> Resynced:
    """Re-read one job's task from its upstream now: the video page's "Resync from provider".

    What is read is applied as a callback's refresh applies it (apply_status), so only a running job can
    move, through the same conditional transitions; a finished job is never reopened, the person is only
    shown the upstream's view of it. Run inline, not queued: one read of one task, bounded by
    UPSTREAM_TIMEOUT, and the answer is what the person clicked for."""
    generation = Generation.objects.get(pk=pk)
    before = generation.state
    if not generation.upstream_task_id:
        return Resynced(problem="not_submitted", state_before=before, state_after=before)
    try:
        with providers.upstream(generation.provider, generation.simulated) as upstream:
            status = upstream.retrieve(generation.upstream_task_id)
    except UpstreamError as exc:
        log.warning("resync of %s failed: %s", pk, exc)
        problem = exc.code or (f"http_{exc.status}" if exc.status else "no_answer")
        generation.log("resync", actor=by, problem=problem)
        return Resynced(problem=problem, state_before=before, state_after=before)
    generation.log("resync", actor=by, phase=status.phase, error_code=status.error_code)
    if generation.state == State.RUNNING:
        apply_status(generation, status)
    after = Generation.objects.values_list("state", flat=True).get(pk=pk)
    return Resynced(status.phase, status.error_code, state_before=before, state_after=after)


# --- Archiving ------------------------------------------------------------------------------------------


@contextmanager
def _scratch(suffix: str) -> Iterator[Path]:
    folder = settings.DATA_DIR / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def archive(pk: str) -> None:
    generation = Generation.objects.filter(pk=pk).first()
    if generation is None or not generation.claim_for_archive(stale_after=settings.Q_TIMEOUT):
        return
    archive_claimed(generation)


def archive_claimed(generation: Generation) -> None:
    """Copy a claimed job's video into storage and end it. Every ending (archived, retried, failed) holds
    only while this attempt's claim is still the job's: an archiver that was slow past the claim's
    staleness, and whose job another one took over, changes nothing when it finally gets here."""
    pk = generation.pk
    mine = generation.holds_claim()
    try:
        with providers.upstream(generation.provider, generation.simulated) as upstream:
            _archive_with_fresh_link(generation, upstream)
    except UpstreamError as exc:
        log.warning("archive of %s failed: %s", pk, exc)
        # A download the guard refused keeps its own code, so the card says why (downloads.CODES).
        code = exc.code if exc.code in ("link_expired", *downloads.CODES) else "archive_failed"
        _retry_or_fail_archive(
            generation,
            mine,
            retryable=exc.retryable,
            retry_after=exc.retry_after,
            reason=exc.message,
            code=code,
            message=exc.message,
            status=exc.status,
        )
    except media.NotAVideo as exc:
        # A CDN can answer 200 with an error page; the made (and paid for) video deserves another download.
        _retry_or_fail_archive(
            generation,
            mine,
            reason=f"not a playable video: {exc}",
            code="archive_failed",
            message=f"The downloaded file is not a playable video: {exc}",
        )
    except Exception as exc:
        # A full disk, a storage outage, a file PyAV cannot read: retried within the same budget, then
        # ended plainly, never left holding its claim.
        log.exception("archive of %s failed", pk)
        _retry_or_fail_archive(
            generation,
            mine,
            reason=exc.__class__.__name__,
            code="archive_failed",
            message=f"The video could not be stored ({exc.__class__.__name__}).",
        )


def _retry_or_fail_archive(
    generation: Generation,
    mine: Q,
    *,
    retryable: bool = True,
    retry_after: float | None = None,
    reason: str,
    code: str,
    message: str,
    **transition: Any,
) -> None:
    """Another try later while the attempts last (and the problem may pass), else the job fails; both only
    while `mine`, this attempt's claim, still holds."""
    if retryable and generation.attempts < settings.ARCHIVE_MAX_ATTEMPTS:
        generation.retry_later(
            State.ARCHIVING, backoff(generation.attempts, retry_after), reason=reason, where=mine
        )
        return
    outcomes.failed(generation, code, message, from_states=(State.ARCHIVING,), where=mine, **transition)


def _archive_with_fresh_link(generation: Generation, upstream: Upstream) -> None:
    try:
        _archive_from(generation, upstream, generation.video_url)
    except UpstreamError as exc:
        if exc.code != "link_expired":
            raise
        # Signed links expire; a fresh retrieve usually hands out a new one. One more try, then give up.
        status = upstream.retrieve(generation.upstream_task_id)
        if status.phase != "succeeded" or not status.video_url:
            raise
        held = Generation.objects.filter(generation.holds_claim(), pk=generation.pk, state=State.ARCHIVING)
        with transaction.atomic():
            if held.update(video_url=status.video_url):
                generation.log("link_refreshed")
        _archive_from(generation, upstream, status.video_url)


def _archive_from(generation: Generation, upstream: Upstream, url: str) -> None:
    digest = hashlib.sha256()
    size = 0
    stored: list[str] = []
    with _scratch(".mp4") as video_tmp, _scratch(".jpg") as poster_tmp:
        with upstream.download(url) as response, video_tmp.open("wb") as out:
            for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        info = media.probe_video(video_tmp)
        media.write_poster(video_tmp, poster_tmp)
        # Each attempt stores under names of its own, so two archivers of one job (one whose claim went
        # stale, one that took it over) never write, replace or delete each other's files.
        stem = f"{generation.team_id}/{generation.pk}-{uuid.uuid4().hex[:12]}"
        won = False
        try:
            stored.append(storage.store_file(f"videos/{stem}.mp4", video_tmp))
            stored.append(storage.store_file(f"posters/{stem}.jpg", poster_tmp))
            won = generation.mark_archived(
                video=stored[0],
                poster=stored[1],
                info={
                    "sha256": digest.hexdigest(),
                    "size_bytes": size,
                    "video_duration": info.duration,
                    "width": info.width,
                    "height": info.height,
                },
            )
        finally:
            if not won:
                # The job ended another way meanwhile (failed by an admin, archived by the worker that took
                # over a stale claim), or storing failed halfway: keep none of the files this attempt wrote.
                _discard(stored)


def _discard(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # OSError on disk; botocore's errors on S3: a stray file harms nobody
            log.warning("could not delete %s, stored by an archive attempt that lost", name, exc_info=True)
