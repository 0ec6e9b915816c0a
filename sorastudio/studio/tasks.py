"""The queue's work: submit jobs upstream, follow them with batched polls, archive results.

Every task takes a primary key, claims its job with a conditional UPDATE and is safe to run twice: a
duplicate delivery, a second worker or a callback racing a poll finds the claim taken and does nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django_q.conf import Conf
from django_q.tasks import async_task

from sorastudio.upstream.errors import UpstreamError

from . import media, providers
from .models import Generation, LedgerEntry, Notification, PollLease, ProviderPause, State
from .providers import Status, Upstream

log = logging.getLogger(__name__)
DOWNLOAD_CHUNK = 1024 * 1024


def backoff(attempt: int, hint: float | None = None) -> float:
    """Seconds to wait before attempt number `attempt + 1`: exponential with jitter, never below the
    upstream's own Retry-After."""
    delay = min(300.0, 5.0 * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)
    return max(delay, hint or 0.0)


def enqueue(func: str, *args: object) -> None:
    async_task(f"sorastudio.studio.tasks.{func}", *args, group=func)


def start(generation: Generation) -> None:
    """Hand a newly created job to the queue."""
    enqueue("submit", str(generation.pk))


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
        # Our claim was taken over (a recovery after a very slow call): the upstream now has a task that no
        # job points at. Loud, because it may have been charged.
        log.error("submit of %s lost its claim; upstream task %s belongs to no job", generation.pk, task_id)
        return
    kick(generation.provider)


def _submit_failed(generation: Generation, exc: UpstreamError) -> None:
    log.warning("submit of %s failed: %s", generation.pk, exc)
    if _out_of_credit(exc):
        # The studio's own account is empty: nothing this job did wrong. Stop sending to the provider until an
        # admin resumes it; the job waits in the queue with its credits still only reserved.
        ProviderPause.pause(generation.provider, reason=str(exc))
        generation.retry_later(State.SUBMITTING, 0, reason=exc.message, status=exc.status, code=exc.code)
        return
    if not _certainly_refused(exc):
        # The request may have been accepted (a read time-out, a success without a task id): sending it
        # again could make and charge the video twice, so the job stops here and says so.
        generation.mark_failed("submit_uncertain", exc.message, status=exc.status, trace_id=exc.trace_id)
        return
    if exc.retryable and generation.attempts < settings.SUBMIT_MAX_ATTEMPTS:
        generation.retry_later(
            State.SUBMITTING,
            backoff(generation.attempts, exc.retry_after),
            reason=exc.message,
            status=exc.status,
            code=exc.code,
        )
        return
    generation.mark_failed(exc.code or "submit_failed", exc.message, status=exc.status, trace_id=exc.trace_id)


def _out_of_credit(exc: UpstreamError) -> bool:
    """AceDataCloud's 403 `used_up`, Sora2API's 402: the account has no credit left."""
    return exc.code in ("used_up", "insufficient_credits") or exc.status == 402


def _certainly_refused(exc: UpstreamError) -> bool:
    """The upstream did not take the job: the request never reached it, or it answered with an error."""
    return not exc.sent or (exc.status is not None and exc.status >= 400)


# --- Following ------------------------------------------------------------------------------------------


def kick(provider: str) -> None:
    """Make sure somebody is following a provider's live jobs; cheap when a follower already runs."""
    enqueue("follow", provider)


def follow(provider: str) -> None:
    """Poll live jobs every POLL_INTERVAL seconds for a while, then hand over to a fresh task.

    django-q2's scheduler only runs every ~30 s, so the fast poll loop lives in a task that renews itself;
    a lease makes sure that however many are enqueued, one runs at a time, and the one-minute `tick`
    schedule restarts it if a worker died holding it.
    """
    holder = uuid.uuid4().hex
    interval = settings.POLL_INTERVAL
    if Conf.SYNC:
        # In-process (tests, Q_SYNC=1): one round, no sleeping; nothing else would ever run the next one.
        step(provider)
        return
    deadline = time.monotonic() + max(interval, min(120.0, settings.Q_TIMEOUT / 2))
    while time.monotonic() < deadline:
        if not PollLease.acquire(provider, holder, seconds=interval * 3 + settings.UPSTREAM_TIMEOUT):
            return
        if not step(provider):
            PollLease.release(provider, holder)
            # A job may have arrived between the last look and the release: look once more.
            if _followed().filter(provider=provider).exists():
                kick(provider)
            return
        time.sleep(interval)
    PollLease.release(provider, holder)
    kick(provider)


def tick() -> None:
    """The one-minute schedule: a safety net that restarts following after a crash or restart, and the
    purge of videos whose time in the trash is over."""
    live = _followed().values_list("provider", flat=True).distinct()
    for provider in set(live):
        kick(provider)
    LedgerEntry.settle_forgotten()
    Generation.objects.purge_expired()
    if connection.vendor == "sqlite":
        # Keeps SQLite's statistics fresh, so a filtered gallery page uses the index that fits the
        # filter rather than walking the whole team in date order. With a limit, ANALYZE samples about
        # a thousand rows per index: a few milliseconds, whatever the size of the tables.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")


def step(provider: str | None = None) -> bool:
    """One round of following: time out, recover, dispatch and poll (one provider's jobs, or every
    provider's). True while any of those jobs is live."""
    _time_out_old_jobs()
    _recover_abandoned_claims()
    _dispatch_due()
    names = (
        [provider]
        if provider
        else sorted(set(Generation.objects.being_followed().values_list("provider", flat=True)))
    )
    for name in names:
        _poll_running(name)
    live = _followed()
    return (live.filter(provider=provider) if provider else live).exists()


def _followed() -> QuerySet[Generation]:
    """Live jobs, apart from those waiting out an out-of-credit pause: nothing happens to them until an admin
    resumes their provider (which kicks it)."""
    paused = ProviderPause.paused_providers()
    return Generation.objects.in_flight().exclude(state=State.QUEUED, provider__in=paused)


def _time_out_old_jobs() -> None:
    # A job being archived is finished upstream (and paid for): its own attempt budget ends it, not the
    # clock, or a slow download of a made video would be reported as "timed out".
    limit = timezone.now() - timedelta(seconds=settings.GENERATION_TIMEOUT)
    late = Generation.objects.in_flight().exclude(state=State.ARCHIVING).filter(created_at__lt=limit)
    # Waiting out an out-of-credit pause is not the upstream being slow: those jobs are left alone.
    late = late.exclude(ProviderPause.sheltered(limit))
    for generation in late:
        generation.mark_failed(
            "timed_out",
            f"No result after {settings.GENERATION_TIMEOUT // 60} minutes.",
            state=State.TIMED_OUT,
        )


def _recover_abandoned_claims() -> None:
    """A worker killed in the middle of a submit leaves its job in `submitting`: give it back to the queue.
    "Abandoned" is generous (a slow upload of large images is not abandoned), and a submit that does
    finish after all cannot overwrite the new claim (see Generation.mark_submitted)."""
    stale = timezone.now() - timedelta(seconds=max(600.0, settings.UPSTREAM_TIMEOUT * 4))
    for generation in Generation.objects.filter(
        state=State.SUBMITTING, upstream_task_id="", claimed_at__lt=stale
    ):
        generation.retry_later(State.SUBMITTING, 0, reason="worker stopped during submit")


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
        (State.QUEUED, "submit", Q(upstream_task_id="") & ~Q(provider__in=paused)),
        (State.ARCHIVING, "archive", free),
    ):
        ready = Generation.objects.filter(due & undispatched & extra, state=state)
        for pk in ready.values_list("pk", flat=True)[:200]:
            if ready.filter(pk=pk).update(dispatched_at=moment):
                enqueue(task, str(pk))


def _poll_running(provider: str) -> None:
    running = Generation.objects.being_followed().filter(provider=provider)
    for simulated in (True, False):
        jobs = running.filter(simulated=simulated).only(
            "pk", "upstream_task_id", "upstream_phase", "simulated"
        )
        by_task = {g.upstream_task_id: g for g in jobs}
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
            apply_status(by_task[task_id], status)


def apply_status(generation: Generation, status: Status) -> None:
    if status.phase == "succeeded":
        if generation.mark_upstream_succeeded(status.video_url, status.trace_id):
            enqueue("archive", str(generation.pk))
    elif status.phase == "failed":
        generation.mark_failed(
            status.error_code or "generation_failed",
            status.error_message,
            trace_id=status.trace_id,
        )
    elif status.phase in ("pending", "processing"):
        generation.note_phase(status.phase)


def refresh(pk: str, source: str = "callback") -> None:
    """Re-read one job from the upstream. Callbacks land here: the posted body is never trusted."""
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


# --- Archiving ------------------------------------------------------------------------------------------


class _TempFile(File):
    """A file that is already on local disk: FileSystemStorage moves it into place with one rename, so a
    reader never sees a half-written video."""

    def temporary_file_path(self) -> str:
        return str(self.name)


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
    try:
        with providers.upstream(generation.provider, generation.simulated) as upstream:
            _archive_with_fresh_link(generation, upstream)
    except UpstreamError as exc:
        log.warning("archive of %s failed: %s", pk, exc)
        if exc.retryable and generation.attempts < settings.ARCHIVE_MAX_ATTEMPTS:
            generation.retry_later(
                State.ARCHIVING, backoff(generation.attempts, exc.retry_after), reason=exc.message
            )
            return
        generation.mark_failed(
            exc.code if exc.code == "link_expired" else "archive_failed", exc.message, status=exc.status
        )
    except media.NotAVideo as exc:
        generation.mark_failed("archive_failed", f"The downloaded file is not a playable video: {exc}")
    except Exception as exc:
        # A full disk, a storage outage, a file PyAV cannot read: retried within the same budget, then
        # ended plainly, never left holding its claim.
        log.exception("archive of %s failed", pk)
        if generation.attempts < settings.ARCHIVE_MAX_ATTEMPTS:
            generation.retry_later(
                State.ARCHIVING, backoff(generation.attempts), reason=exc.__class__.__name__
            )
            return
        generation.mark_failed("archive_failed", f"The video could not be stored ({exc.__class__.__name__}).")


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
        Generation.objects.filter(pk=generation.pk).update(video_url=status.video_url)
        generation.log("link_refreshed")
        _archive_from(generation, upstream, status.video_url)


def _archive_from(generation: Generation, upstream: Upstream, url: str) -> None:
    digest = hashlib.sha256()
    size = 0
    with _scratch(".mp4") as video_tmp, _scratch(".jpg") as poster_tmp:
        with upstream.download(url) as response, video_tmp.open("wb") as out:
            for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        info = media.probe_video(video_tmp)
        media.write_poster(video_tmp, poster_tmp)
        stem = f"{generation.team_id}/{generation.pk}"
        video_name = _store(f"videos/{stem}.mp4", video_tmp)
        poster_name = _store(f"posters/{stem}.jpg", poster_tmp)
    won = generation.mark_archived(
        video=video_name,
        poster=poster_name,
        info={
            "sha256": digest.hexdigest(),
            "size_bytes": size,
            "video_duration": info.duration,
            "width": info.width,
            "height": info.height,
        },
    )
    if not won:
        # The job ended another way meanwhile (failed by an admin, say): keep no files nobody points at.
        for name in (video_name, poster_name):
            default_storage.delete(name)


def _store(name: str, path: Path) -> str:
    # Names are per job, so a second run replaces the first run's file instead of leaving a copy beside it.
    if default_storage.exists(name):
        default_storage.delete(name)
    with path.open("rb") as fh:
        stored = default_storage.save(name, _TempFile(fh, name=str(path)))
    # A moved temporary file is gone; a copied one is removed by _scratch.
    return stored


# --- Mail -----------------------------------------------------------------------------------------------


def email_notifications(ids: list[str]) -> None:
    """Mail each notification to its person, if they gave an address. Each is claimed by a conditional
    UPDATE first, so a task delivered twice mails once; a mail that fails is logged and not retried (the
    notification is still under the bell)."""
    waiting = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).exclude(user__email="")
    for notification in waiting.select_related("user", "team", "generation", "actor"):
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True)
        if not claimed.update(emailed_at=timezone.now()):
            continue
        try:
            send_mail(
                subject=f"{notification.team.name}: {notification.text}",
                message=_email_body(notification),
                from_email=None,
                recipient_list=[notification.user.email],
            )
        except Exception as exc:  # any SMTP or network failure: the bell still has it
            # The class name only: an SMTP error can quote the server's reply to our login.
            log.warning("mailing notification %s failed: %s", notification.pk, exc.__class__.__name__)


def _email_body(notification: Notification) -> str:
    lines = [notification.text]
    if settings.PUBLIC_BASE_URL:
        path = reverse("studio:open_notification", args=[notification.pk])
        lines += ["", gettext("Open it in the studio: %(link)s") % {"link": settings.PUBLIC_BASE_URL + path}]
    lines += ["", "-- ", gettext("Sora Studio, team %(team)s") % {"team": notification.team.name}]
    return "\n".join(lines) + "\n"
