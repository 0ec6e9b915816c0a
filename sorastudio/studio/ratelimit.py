"""The per-person limit on how many jobs the form may ask for in a sliding window (``SUBMIT_RATE_LIMIT``).

It is counted from the jobs in the database, not from a counter in one process, so it holds however many
web processes answer; deleted jobs count too (deleting does not give back what was asked of the upstream).
Two submits in the same instant may both pass the check: a rate limit bounds abuse, while the credits that
must never be overspent are guarded under a lock by the quotas (billing.Budget).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .models import Generation


@dataclass(frozen=True)
class RateLimited:
    limit: int
    window: timedelta
    retry_at: datetime | None  # None: the request alone is larger than the limit

    @property
    def message(self) -> str:
        period = _duration(self.window)
        if self.retry_at is None:
            return ngettext(
                "You can ask for at most %(limit)d video in %(period)s; ask for fewer at once.",
                "You can ask for at most %(limit)d videos in %(period)s; ask for fewer at once.",
                self.limit,
            ) % {"limit": self.limit, "period": period}
        wait = max(self.retry_at - timezone.now(), timedelta(seconds=1))
        return ngettext(
            "You have asked for %(limit)d video in the last %(period)s; try again in %(wait)s.",
            "You have asked for %(limit)d videos in the last %(period)s; try again in %(wait)s.",
            self.limit,
        ) % {"limit": self.limit, "period": period, "wait": _duration(wait)}


def check(user: Any, jobs: int) -> RateLimited | None:
    """None if ``user`` may ask for ``jobs`` more jobs now; otherwise why not, and until when."""
    if settings.SUBMIT_RATE_LIMIT is None:
        return None
    limit, seconds = settings.SUBMIT_RATE_LIMIT
    window = timedelta(seconds=seconds)
    if jobs > limit:
        return RateLimited(limit, window, None)
    since = timezone.now() - window
    recent = Generation.objects.filter(created_by=user, created_at__gt=since).order_by("created_at")
    over = recent.count() + jobs - limit
    if over <= 0:
        return None
    # Room for this request comes back when the `over`-th oldest job of the window leaves it.
    freed = recent.values_list("created_at", flat=True)[over - 1]
    return RateLimited(limit, window, freed + window)


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds < 60:
        count = max(1, math.ceil(seconds))
        return ngettext("%(count)d second", "%(count)d seconds", count) % {"count": count}
    if seconds < 2 * 3600:
        count = math.ceil(seconds / 60)
        return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}
    if seconds < 2 * 86400:
        count = math.ceil(seconds / 3600)
        return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}
    count = math.ceil(seconds / 86400)
    return gettext("%(count)d days") % {"count": count}
