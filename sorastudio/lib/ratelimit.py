"""The counting of a sliding-window limit (``limit`` jobs in any ``span``): whether a request for more fits
beside those already in the window, and if not, when room for it comes back. What is counted, and under
which lock, is the caller's (``studio.ratelimit``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext, ngettext


@dataclass(eq=False)  # an exception keeps its identity
class RateLimited(Exception):
    """Past the limit: what `Window.refusal` returns."""

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


@dataclass(frozen=True)
class Window:
    limit: int
    span: timedelta

    @classmethod
    def of(cls, rate: tuple[int, int] | None) -> Window | None:
        """The window of a rate as settings read it (count, seconds); None for no limit."""
        return None if rate is None else cls(rate[0], timedelta(seconds=rate[1]))

    def start(self) -> datetime:
        """What was asked for after this moment is in the window."""
        return timezone.now() - self.span

    def refusal(
        self, asked: int, count: Callable[[], int], nth_oldest: Callable[[int], datetime]
    ) -> RateLimited | None:
        """None if `asked` more fit beside the `count()` already in the window; otherwise why not, and until
        when. ``nth_oldest(i)`` is when the i-th oldest (from 0) of those was asked for. Both are called
        only when needed: a request larger than the limit counts nothing."""
        if asked > self.limit:
            return RateLimited(self.limit, self.span, None)
        over = count() + asked - self.limit
        if over <= 0:
            return None
        # Room for this request comes back when the `over`-th oldest of the window leaves it.
        return RateLimited(self.limit, self.span, nth_oldest(over - 1) + self.span)


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
