"""The numbers of the pipeline health page (/dashboard/pipeline/), read in a handful of queries.

The jobs' numbers are the team's own, trashed videos included: the trash hides a video from the gallery,
not from what the pipeline did (and its files still take room until they are purged). The upstream's
numbers (requests, errors, rate limits, pauses, callbacks) are the whole studio's, because every team
shares the same provider accounts.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.http import JsonResponse
from django.utils import formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext_lazy

from sorastudio.billing import charts
from sorastudio.billing.models import ProviderPause
from sorastudio.lib import capabilities
from sorastudio.studio.models import FINAL_STATES, LIVE_STATES, Event, Generation, State
from sorastudio.teams.models import Team

from . import providers
from .models import PollLease, UpstreamCall

# The windows the page offers for the jobs' outcomes, by the name used in its address (?window=7d).
WINDOWS = {
    "24h": (timedelta(hours=24), pgettext_lazy("a window of time", "Last 24 hours")),
    "7d": (timedelta(days=7), pgettext_lazy("a window of time", "Last 7 days")),
    "30d": (timedelta(days=30), pgettext_lazy("a window of time", "Last 30 days")),
}
DEFAULT_WINDOW = "24h"
# The charts' bars: one an hour over the last day, one a day over longer windows.
HOURLY = {"24h"}
# The generation times are computed in Python from the latest this many successes: plenty for a median
# and a 95th percentile, and a bounded read whatever the window.
TIMED_MOST = 5000


@dataclass(frozen=True)
class ProviderCalls:
    """One provider's requests in the last hour (simulated and real accounts apart)."""

    provider: str
    simulated: bool
    requests: int
    errors: int
    rate_limited: int

    @property
    def label(self) -> str:
        return str(capabilities.provider_label(self.provider))


@dataclass(frozen=True)
class Bucket:
    """An hour or a day of the window: the team's jobs that ended in it, and their typical time."""

    start: datetime  # in the studio's time zone
    succeeded: int
    failed: int
    median_seconds: float | None

    def key(self, hourly: bool) -> str:
        return self.start.isoformat() if hourly else self.start.date().isoformat()

    def label(self, hourly: bool) -> str:
        return (
            formats.time_format(self.start, "H:i")
            if hourly
            else formats.date_format(self.start, "SHORT_DATE_FORMAT")
        )


@dataclass(frozen=True)
class Health:
    window: str
    since: datetime
    # The team's unfinished jobs, now.
    queued: int
    live: int  # submitting, running or being saved
    oldest_unfinished: timedelta | None
    # The team's jobs that ended within the window.
    succeeded: int
    failed: int
    failures_by_code: list[tuple[str, int]]
    median_seconds: float | None
    p95_seconds: float | None
    timed: int  # how many successes the times were computed from
    # The studio's upstream traffic in the last hour.
    callbacks: int
    polls: int  # status requests (a batch read counts once)
    polled_jobs: int  # the jobs those status requests covered
    calls: list[ProviderCalls]
    pauses: list[ProviderPause]
    leases: list[PollLease]
    # The team's stored files.
    storage_bytes: int
    stored_videos: int
    posters: int
    # The window hour by hour or day by day, oldest first.
    timeline: list[Bucket]

    @property
    def hourly(self) -> bool:
        return self.window in HOURLY

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    @property
    def success_rate(self) -> float | None:
        """Percent of the jobs that ended in the window and succeeded; None when none ended."""
        return 100.0 * self.succeeded / self.finished if self.finished else None

    @property
    def upstream_errors(self) -> int:
        return sum(row.errors for row in self.calls)

    @property
    def rate_limited(self) -> int:
        return sum(row.rate_limited for row in self.calls)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted `values`: the smallest value at least `share` of them do not
    exceed. Exact on small samples (no interpolation), so a test can name the answer."""
    if not values:
        return None
    # Rounded first, so that a float's last bit (0.95 * 20 = 19.000000000000004?) cannot move the rank.
    rank = max(1, math.ceil(round(share * len(values), 9)))
    return values[rank - 1]


def read(team: Team, window: str = DEFAULT_WINDOW, *, now: datetime | None = None) -> Health:
    # Long: one query per figure of the page, then the Health they fill in; a straight line, no branches.
    now = now or timezone.now()
    if window not in WINDOWS:
        window = DEFAULT_WINDOW
    since = now - WINDOWS[window][0]
    hour_ago = now - timedelta(hours=1)
    jobs = Generation.objects.filter(team=team)

    unfinished = jobs.filter(state__in=LIVE_STATES).aggregate(
        queued=Count("pk", filter=Q(state=State.QUEUED)),
        live=Count("pk", filter=~Q(state=State.QUEUED)),
        oldest=Min("created_at"),
    )
    ended = jobs.filter(state__in=FINAL_STATES, finished_at__gte=since, finished_at__lte=now)
    by_code = ended.exclude(state=State.SUCCEEDED).values("error_code").annotate(n=Count("pk"))
    failures = sorted(((row["error_code"] or "unknown", row["n"]) for row in by_code), key=_most_first)
    succeeded = ended.filter(state=State.SUCCEEDED)
    # Demo videos (seed_demo) have invented timings: they would say nothing of how long the service takes.
    measured = succeeded.filter(demo=False).order_by("-finished_at")
    spans = list(measured.values_list("created_at", "finished_at")[:TIMED_MOST])
    seconds = sorted((done - made).total_seconds() for made, done in spans if done is not None)

    recent = UpstreamCall.objects.filter(at__gte=hour_ago, at__lte=now)
    polls = recent.filter(kind=UpstreamCall.Kind.STATUS).aggregate(n=Count("pk"), jobs=Sum("jobs"))
    per_provider = (
        recent.values("provider", "simulated")
        .annotate(
            requests=Count("pk"),
            errors=Count("pk", filter=Q(ok=False)),
            rate_limited=Count("pk", filter=Q(rate_limited=True)),
        )
        .order_by("provider", "simulated")
    )

    stored = jobs.filter(state=State.SUCCEEDED).exclude(video="")
    files = stored.aggregate(
        size=Sum("size_bytes"), videos=Count("pk"), posters=Count("pk", filter=~Q(poster=""))
    )
    return Health(
        window=window,
        since=since,
        queued=unfinished["queued"],
        live=unfinished["live"],
        oldest_unfinished=now - oldest if (oldest := unfinished["oldest"]) else None,
        succeeded=succeeded.count(),
        failed=sum(n for _code, n in failures),
        failures_by_code=failures,
        median_seconds=statistics.median(seconds) if seconds else None,
        p95_seconds=percentile(seconds, 0.95),
        timed=len(seconds),
        callbacks=Event.objects.filter(kind="callback", at__gte=hour_ago, at__lte=now).count(),
        polls=polls["n"],
        polled_jobs=polls["jobs"] or 0,
        calls=[ProviderCalls(**row) for row in per_provider],
        pauses=list(ProviderPause.active().select_related("paused_by").order_by("provider")),
        leases=list(PollLease.objects.order_by("provider")),
        storage_bytes=files["size"] or 0,
        stored_videos=files["videos"],
        posters=files["posters"],
        timeline=_timeline(ended, spans, since, now, hourly=window in HOURLY),
    )


def _timeline(
    ended: Any,
    spans: Sequence[tuple[datetime, datetime | None]],
    since: datetime,
    now: datetime,
    *,
    hourly: bool,
) -> list[Bucket]:
    """The window cut into hours or days (in TIME_ZONE): the outcomes counted by the database, the median
    time from the successes already read for the whole window's."""
    start = _bucket_of(since, hourly)
    steps = []
    while start <= now:
        steps.append(start)
        start = _next(start, hourly)
    trunc = TruncHour("finished_at") if hourly else TruncDay("finished_at")
    rows = (
        ended.annotate(bucket=trunc)
        .values("bucket")
        .annotate(
            ok=Count("pk", filter=Q(state=State.SUCCEEDED)), bad=Count("pk", filter=~Q(state=State.SUCCEEDED))
        )
    )
    counts = {row["bucket"]: (row["ok"], row["bad"]) for row in rows}
    times: dict[datetime, list[float]] = {}
    for made, done in spans:
        if done is not None:
            times.setdefault(_bucket_of(done, hourly), []).append((done - made).total_seconds())
    return [
        Bucket(
            start=step,
            succeeded=counts.get(step, (0, 0))[0],
            failed=counts.get(step, (0, 0))[1],
            median_seconds=statistics.median(times[step]) if step in times else None,
        )
        for step in steps
    ]


def _bucket_of(moment: datetime, hourly: bool) -> datetime:
    """The start of the hour or day `moment` is in, in the studio's time zone."""
    local = timezone.localtime(moment)
    if hourly:
        return local.replace(minute=0, second=0, microsecond=0)
    return timezone.make_aware(datetime.combine(local.date(), datetime.min.time()))


def _next(start: datetime, hourly: bool) -> datetime:
    if hourly:  # by the clock in UTC, so that a change to summer time neither skips nor repeats an hour
        return timezone.localtime(start + timedelta(hours=1))
    return timezone.make_aware(datetime.combine(start.date() + timedelta(days=1), datetime.min.time()))


def outcome_chart(numbers: Health) -> SafeString:
    """The jobs that ended in each hour or day of the window, succeeded and failed stacked."""
    hourly = numbers.hourly
    return charts.stacked_bars(
        chart_id="outcomes-chart",
        title=gettext("Jobs finished per hour") if hourly else gettext("Jobs finished per day"),
        description=gettext("%(succeeded)s succeeded and %(failed)s failed or timed out in the window.")
        % {"succeeded": numbers.succeeded, "failed": numbers.failed},
        categories=[charts.Category(b.key(hourly), b.label(hourly)) for b in numbers.timeline],
        series=[
            charts.Series(gettext("Succeeded"), [b.succeeded for b in numbers.timeline]),
            charts.Series(gettext("Failed or timed out"), [b.failed for b in numbers.timeline]),
        ],
        x_label=gettext("Hour") if hourly else gettext("Day"),
        y_label=gettext("Jobs"),
    )


def time_chart(numbers: Health) -> SafeString:
    """The median generation time of the successes of each hour or day, in whole seconds."""
    hourly = numbers.hourly
    return charts.stacked_bars(
        chart_id="times-chart",
        title=gettext("Median generation time per hour")
        if hourly
        else gettext("Median generation time per day"),
        description=gettext("The median time from the request to the saved video, in seconds."),
        categories=[charts.Category(b.key(hourly), b.label(hourly)) for b in numbers.timeline],
        series=[
            charts.Series(gettext("Median time"), [round(b.median_seconds or 0) for b in numbers.timeline])
        ],
        x_label=gettext("Hour") if hourly else gettext("Day"),
        y_label=gettext("Seconds"),
    )


def _most_first(row: tuple[str, int]) -> tuple[int, str]:
    return (-row[1], row[0])


def window_choices() -> list[tuple[str, str]]:
    return [(name, str(label)) for name, (_span, label) in WINDOWS.items()]


__all__ = [
    "DEFAULT_WINDOW",
    "WINDOWS",
    "Bucket",
    "Health",
    "ProviderCalls",
    "outcome_chart",
    "percentile",
    "read",
    "time_chart",
    "window_choices",
]


# --- /healthz ---------------------------------------------------------------------------------------------


def status() -> JsonResponse:
    """Database, queue and providers, as JSON; 503 when the studio cannot work. No secrets, no hosts."""
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True, "engine": connection.vendor}
    except Exception as exc:  # any failure is the answer
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
        return _health_response(checks)
    checks["queue"] = _queue_health()
    leases = {lease.provider: lease for lease in PollLease.objects.all()}
    for name in providers.usable():
        lease = leases.get(name)
        checks[f"provider:{name}"] = {
            "ok": not (lease and lease.last_error),
            "simulated": providers.is_simulated(name),
            "callbacks": bool(settings.PUBLIC_BASE_URL),
            "last_poll_at": lease.last_poll_at.isoformat() if lease and lease.last_poll_at else None,
            "last_error": "the last status poll failed" if lease and lease.last_error else None,
        }
    return _health_response(checks)


def _health_response(checks: dict[str, Any]) -> JsonResponse:
    # A failing status poll is reported but does not make the studio unhealthy: jobs wait and retry.
    healthy = checks["database"]["ok"] and checks.get("queue", {}).get("ok", False)
    response = JsonResponse({"ok": healthy, "checks": checks}, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def _queue_health() -> dict[str, Any]:
    from django_q.brokers import get_broker
    from django_q.models import Task

    try:
        pending = get_broker().queue_size()
        # Cluster stats live in a per-process cache with the ORM broker, so the last finished task is the
        # signal that some worker is alive.
        last_task = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
        live = Generation.objects.in_flight()
        oldest = live.order_by("created_at").values_list("created_at", flat=True).first()
        live_count = live.count()
    except Exception as exc:  # a broken broker is reported, not raised
        return {"ok": False, "error": exc.__class__.__name__}
    return {
        "ok": True,
        "broker": "redis" if settings.REDIS_URL else "orm",
        "pending_tasks": pending,
        "last_task_finished_at": last_task.isoformat() if last_task else None,
        "live_jobs": live_count,
        "oldest_live_seconds": int((timezone.now() - oldest).total_seconds()) if oldest else None,
    }
