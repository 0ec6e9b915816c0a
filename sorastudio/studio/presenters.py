"""How a video and its timeline read to people: the labels of its settings, its settings in a line, what
went wrong in plain words, and how far along a live job probably is. The models keep the facts (states,
transitions, what was asked); the pages, the `generate` command and the template filters of
templatetags/generation_tags.py put them into words here."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from sorastudio.lib import capabilities
from sorastudio.upstream.errors import REFUSAL_CODE

from .models import TYPICAL_KIND, Event, Generation, State

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# Plain words for the error codes creators meet most; anything else falls back to the upstream's message
# (which is shown as it came, untranslated). The keys are the upstream's codes, except that a refusal is
# stored as REFUSAL_CODE whatever code it came with (see upstream.errors.is_refusal).
ERROR_EXPLANATIONS: dict[str, StrOrPromise] = {
    REFUSAL_CODE: _(
        "The video was refused because the prompt or a reference seems to show a real person or a "
        "protected brand. Describe an invented character instead and try again."
    ),
    "used_up": _("The studio's account with the video service has run out of credit. Tell an admin."),
    "invalid_token": _("The studio's API key was refused by the video service. Tell an admin."),
    "token_expired": _("The studio's API key has expired. Tell an admin."),
    "bad_request": _("The video service did not accept these settings."),
    "too_many_requests": _("The video service was busy for too long. Try again in a few minutes."),
    "api_error": _("The video service had an internal problem while making this video. Try again."),
    "generation_failed": _("The video service could not finish this video. Try again or change the prompt."),
    "link_expired": _("The finished video could no longer be downloaded from the video service."),
    "archive_failed": _("The video was made but could not be saved to the studio's storage."),
    "download_refused": _(
        "The video service's link to the finished video pointed somewhere the studio does not download "
        "from, so the video was not saved."
    ),
    "download_too_large": _("The finished video was larger than the studio accepts, so it was not saved."),
    "download_too_slow": _("The finished video took too long to download, so it was not saved."),
    "timed_out": _("The video service took too long, so the studio gave up waiting."),
    "submit_failed": _("The studio could not reach the video service to start this video."),
    "submit_uncertain": _(
        "The video service did not confirm that it received this video, so the studio did not send it "
        "again (that could make and charge it twice). Use Re-run to try once more."
    ),
}

# Orientations by name: capitalised on a video's page, lower case in its one-line summary.
ORIENTATION_NAMES: dict[str, StrOrPromise] = {"landscape": _("Landscape"), "portrait": _("Portrait")}
ORIENTATION_WORDS: dict[str, StrOrPromise] = {
    "landscape": pgettext_lazy("orientation, in a line of settings", "landscape"),
    "portrait": pgettext_lazy("orientation, in a line of settings", "portrait"),
}

# The timeline's words for each kind of event; the keys are the kinds stored in Event.kind.
EVENT_LABELS: dict[str, StrOrPromise] = {
    "created": pgettext_lazy("event in a video's timeline", "Asked for"),
    "submitted": pgettext_lazy("event in a video's timeline", "Sent to the video service"),
    "callback": pgettext_lazy("event in a video's timeline", "Called back by the video service"),
    "adopted": pgettext_lazy("event in a video's timeline", "Found at the video service after a restart"),
    "polled": pgettext_lazy("event in a video's timeline", "Progress read from the video service"),
    "resync": pgettext_lazy("event in a video's timeline", "Re-read from the video service"),
    "retry": pgettext_lazy("event in a video's timeline", "Will try again"),
    "upstream_succeeded": pgettext_lazy("event in a video's timeline", "Made by the video service"),
    "link_refreshed": pgettext_lazy("event in a video's timeline", "Fetched a fresh download link"),
    "archived": pgettext_lazy("event in a video's timeline", "Saved to the studio's storage"),
    "charged": pgettext_lazy("event in a video's timeline", "Credits charged"),
    "released": pgettext_lazy("event in a video's timeline", "Credits given back"),
    "rerun": pgettext_lazy("event in a video's timeline", "Rerun"),
    "failed": pgettext_lazy("event in a video's timeline", "Failed"),
    "timed_out": pgettext_lazy("event in a video's timeline", "Timed out"),
    "review_requested": pgettext_lazy("event in a video's timeline", "Asked for a review"),
    "approved": pgettext_lazy("event in a video's timeline", "Approved"),
    "changes_requested": pgettext_lazy("event in a video's timeline", "Asked for changes"),
    "rejected": pgettext_lazy("event in a video's timeline", "Rejected"),
    "commented": pgettext_lazy("event in a video's timeline", "Commented"),
    "comment_resolved": pgettext_lazy("event in a video's timeline", "Resolved a comment"),
    "comment_reopened": pgettext_lazy("event in a video's timeline", "Reopened a comment"),
    "deleted": pgettext_lazy("event in a video's timeline", "Moved to the trash"),
    "restored": pgettext_lazy("event in a video's timeline", "Restored from the trash"),
}

# The upstream's own word for a job's progress, as the timeline and "Resync from provider" show it.
PHASE_LABELS: dict[str, StrOrPromise] = {
    "pending": pgettext_lazy("a job's phase at the video service", "waiting to start"),
    "processing": pgettext_lazy("a job's phase at the video service", "being made"),
    "succeeded": pgettext_lazy("a job's phase at the video service", "made"),
    "failed": pgettext_lazy("a job's phase at the video service", "failed"),
    "unknown": pgettext_lazy("a job's phase at the video service", "not known to the service (yet)"),
}


# --- A video's settings ---------------------------------------------------------------------------------


def model_label(generation: Generation) -> str:
    return capabilities.MODELS.get(generation.model, generation.model)


def size_label(generation: Generation) -> str:
    return str(capabilities.SIZE_LABELS.get(generation.size, generation.size))


def orientation_label(generation: Generation) -> str:
    return str(ORIENTATION_NAMES.get(generation.orientation, generation.orientation.capitalize()))


def quality_label(generation: Generation) -> str:
    return str(capabilities.QUALITY_LABELS.get(generation.quality, generation.quality))


def provider_label(generation: Generation) -> str:
    return capabilities.provider_label(generation.provider)


def character_clip_label(generation: Generation) -> str:
    """An uploaded character clip's file name, for the video's page."""
    return PurePosixPath(generation.character_clip.name or "").name


def reference_links(generation: Generation) -> list[dict[str, str]]:
    """The reference images asked for by address, as links named by their site: the page shows them
    without fetching them, so that no one else's server learns who looks at the video."""
    links = []
    for url in generation.image_urls:
        parts = urlsplit(url or "")
        if parts.scheme in ("http", "https") and parts.hostname:
            links.append({"url": url, "host": parts.hostname})
    return links


def summary(generation: Generation) -> str:
    """The settings in a line, the way a creator reads them."""
    acedata = generation.provider == capabilities.ACEDATA
    parts = [model_label(generation) if acedata else provider_label(generation)]
    if generation.version and acedata:
        parts.append(f"v{generation.version}")
    parts.append(gettext("%(seconds)s s") % {"seconds": generation.duration})
    if generation.size:
        parts.append(size_label(generation))
    if generation.quality:
        parts.append(quality_label(generation))
    if generation.orientation:
        parts.append(str(ORIENTATION_WORDS.get(generation.orientation, generation.orientation)))
    if generation.watermark:
        parts.append(gettext("watermark “%(text)s”") % {"text": generation.watermark})
    return pgettext("between the settings in a line", " · ").join(parts)


def explanation(generation: Generation) -> str:
    """What went wrong, in plain words, and whether the upstream had the job."""
    if generation.error_code in ERROR_EXPLANATIONS:
        return str(ERROR_EXPLANATIONS[generation.error_code])
    return generation.error_message or gettext("Something went wrong while making this video.")


# --- Its timeline ---------------------------------------------------------------------------------------


# A client's steps, through a review link: the client has no account, so the name they gave is in the line.
CLIENT_EVENT_LABELS: dict[str, StrOrPromise] = {
    "client_commented": pgettext_lazy(
        "event in a video's timeline", "Commented by %(name)s (client, via “%(link)s”)"
    ),
    "client_approved": pgettext_lazy(
        "event in a video's timeline", "Approved by %(name)s (client, via “%(link)s”)"
    ),
    "client_changes_requested": pgettext_lazy(
        "event in a video's timeline", "Changes asked for by %(name)s (client, via “%(link)s”)"
    ),
}


def event_label(event: Event) -> str:
    if event.kind in CLIENT_EVENT_LABELS:
        link = event.detail.get("link") or gettext("a client link")
        return str(CLIENT_EVENT_LABELS[event.kind]) % {"name": event.detail.get("guest", ""), "link": link}
    return str(EVENT_LABELS.get(event.kind, event.kind.replace("_", " ").capitalize()))


def phase_label(phase: str) -> str:
    """The upstream's word for a job's progress (`pending`, `processing`...) as people read it."""
    return str(PHASE_LABELS.get(phase, phase))


def event_phase_label(event: Event) -> str:
    return phase_label(str(event.detail.get("phase") or ""))


# --- How far along a live job is ------------------------------------------------------------------------

_TYPICAL_CACHE: dict[tuple[Any, ...], tuple[float, float]] = {}


def timing_kind(generation: Generation) -> tuple[Any, ...]:
    """What makes jobs take alike long: the values of TYPICAL_KIND, in that order."""
    return tuple(getattr(generation, name) for name in TYPICAL_KIND)


def _alike(kind: tuple[Any, ...]) -> Q:
    return Q(**dict(zip(TYPICAL_KIND, kind, strict=True)))


def _known_typical(kind: tuple[Any, ...]) -> float | None:
    cached = _TYPICAL_CACHE.get(kind)
    return cached[1] if cached and cached[0] > time.monotonic() else None


# A run shorter than this from submit to made did not really go through a video service: the simulator at
# SIMULATOR_SECONDS=0, or demo videos made in-process before seed_demo marked them as demo.
PLAUSIBLE_SECONDS = 1.0


def _real_runs() -> Q:
    """The runs an estimate learns from, "real" runs: finished successfully, not demo data (seed_demo's
    rows, whose timings are invented), taken by the video service and made by it (both moments known),
    and plausibly long (at least PLAUSIBLE_SECONDS between them). They are measured from submit to made:
    the span a live job's bar counts, without the time it waited in the studio's queue."""
    return Q(
        state=State.SUCCEEDED,
        demo=False,
        submitted_at__isnull=False,
        upstream_finished_at__gte=F("submitted_at") + timedelta(seconds=PLAUSIBLE_SECONDS),
    )


def typical_seconds(generation: Generation) -> float:
    """How long a job like this (same service, simulated or not, model, version and length) usually takes
    to be made, from this studio's own real runs (_real_runs) when it has some.
    Every live card asks this every two seconds, so the answer is kept for a minute per kind of job."""
    kind = timing_kind(generation)
    known = _known_typical(kind)
    if known is not None:
        return known
    recent = (
        Generation.objects.filter(_alike(kind), _real_runs())
        .order_by("-created_at")
        .values_list("submitted_at", "upstream_finished_at")[:20]
    )
    return _remember_typical(
        generation, [(done - start).total_seconds() for start, done in recent if start and done]
    )


def prime_typical_seconds(generations: list[Generation]) -> None:
    """Work out how long each kind of job among these live ones usually takes, in one query for them
    all: a page of live cards then costs one query (once a minute), not one per kind."""
    kinds = {timing_kind(g): g for g in generations if g.is_live and _known_typical(timing_kind(g)) is None}
    if not kinds:
        return
    same_kind = Q()
    for kind in kinds:
        same_kind |= _alike(kind)
    recent = (
        Generation.objects.filter(same_kind, _real_runs())
        .annotate(
            rank=models.Window(
                models.functions.RowNumber(),
                partition_by=[F(name) for name in TYPICAL_KIND],
                order_by=F("created_at").desc(),
            )
        )
        .filter(rank__lte=20)
        .values_list(*TYPICAL_KIND, "submitted_at", "upstream_finished_at")
    )
    spans: dict[tuple[Any, ...], list[float]] = {kind: [] for kind in kinds}
    for *kind, start, done in recent:
        spans[tuple(kind)].append((done - start).total_seconds())
    for kind, example in kinds.items():
        _remember_typical(example, spans[kind])


def _remember_typical(generation: Generation, spans: list[float]) -> float:
    if len(spans) >= 3:
        typical = max(5.0, statistics.median(spans))
    elif generation.simulated:
        typical = max(5.0, settings.SIMULATOR_SECONDS + 3)
    else:
        typical = float(capabilities.TYPICAL_SECONDS.get((generation.model, generation.duration), 120))
    _TYPICAL_CACHE[timing_kind(generation)] = (time.monotonic() + 60, typical)
    return typical


def waiting(generation: Generation) -> bool:
    """Whether a live job waits rather than being made: queued in the studio (its turn, or its service
    paused out of credit), or taken by the video service but still in its line (running, phase pending)."""
    if generation.state == State.QUEUED:
        return True
    return generation.state == State.RUNNING and generation.upstream_phase == "pending"


def making_started(generation: Generation, now: datetime) -> datetime | None:
    """When the video service began on a live job, which its bar counts from: its submit (the moment it
    was asked for, for a job from before submits were recorded), or now for one being sent this moment;
    None while it waits."""
    if waiting(generation):
        return None
    if generation.state == State.SUBMITTING:
        return now
    return generation.submitted_at or generation.created_at


def progress(generation: Generation, now: Any = None) -> dict[str, Any]:
    """A live job's estimated progress: its percent (never 0 nor 100 while live), whether it is slow
    (half as long again as usual) and the typical time it is measured against, counted from when it
    began to be made. A job that waits (see `waiting`) has no progress: `waiting` is true, with its
    `place` in line when the page read it (GenerationQuerySet.with_queue_places), and nothing else."""
    now = now or timezone.now()
    started = making_started(generation, now)
    if started is None:
        return {"waiting": True, "place": getattr(generation, "queue_place", None)}
    elapsed = max((now - started).total_seconds(), 0.0)
    typical = typical_seconds(generation)
    percent = 99 if generation.state == State.ARCHIVING else min(95, int(100 * elapsed / typical))
    return {"percent": max(percent, 2), "slow": elapsed > 1.5 * typical, "typical": typical}
