"""The per-person limit on how many jobs the form may ask for in a sliding window (``SUBMIT_RATE_LIMIT``).

It is counted from the jobs in the database, not from a counter in one process, so it holds however many
web processes answer; deleted jobs count too (deleting does not give back what was asked of the upstream).
`check` is the early answer the form gives before it stores anything; `hold` is the one that counts: it runs
in the transaction that creates the jobs, under a lock on the person's row, so submits in the same instant
(from any process, in any of the person's teams) are counted one after another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .models import Generation


@dataclass(eq=False)  # an exception keeps its identity
class RateLimited(Exception):
    """Past the limit: raised by `hold`, returned by `check`."""

    limit: int
    window: timedelta
    retry_at: datetime | None  # None: the request alone is larger than the limit

    def __str__(self) -> str:
        return self.message

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


def hold(user: Any, jobs: int) -> None:
    """Lock the person's row until the transaction ends, then check that `jobs` more fit the limit, or raise
    RateLimited. Call it inside the transaction that creates the jobs, before Budget.hold.

    The count is of the person's jobs in every team, so the team's row that Budget.hold locks is not enough:
    the same person submitting in two teams at once would hold two different team locks and both pass. Jobs
    are made under a person's name only by that person, through here (the exempt `generate` command and
    soak aside), so their row is what guards the count. The lock is held until the jobs are committed, and
    the count is a statement run after the lock is granted, so under PostgreSQL's READ COMMITTED it sees
    every job of the submit that held it before. Locks are taken in one order, the person's row and then
    the team's, so two submits never wait for each other in a circle. FOR NO KEY UPDATE does not block
    rows that merely point at the person; on SQLite the IMMEDIATE transaction lets one writer in at a time."""
    if settings.SUBMIT_RATE_LIMIT is None:
        return
    no_key = bool(connection.features.has_select_for_no_key_update)
    people = get_user_model().objects.select_for_update(no_key=no_key).filter(pk=user.pk)
    list(people.values_list("pk"))
    if (refusal := check(user, jobs)) is not None:
        raise refusal


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
