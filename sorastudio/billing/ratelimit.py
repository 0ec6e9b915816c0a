"""The per-person limit on how many jobs the form may ask for in a sliding window (``SUBMIT_RATE_LIMIT``);
the window's counting is ``lib.ratelimit``'s.

It is counted from the jobs in the database, not from a counter in one process, so it holds however many
web processes answer; deleted jobs count too (deleting does not give back what was asked of the upstream).
`check` is the early answer the form gives before it stores anything; `hold` is the one that counts: it runs
in the transaction that creates the jobs, under a lock on the person's row, so submits in the same instant
(from any process, in any of the person's teams) are counted one after another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from sorastudio.lib.ratelimit import RateLimited, Window
from sorastudio.studio.models import Generation

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def check(user: User, jobs: int) -> RateLimited | None:
    """None if ``user`` may ask for ``jobs`` more jobs now; otherwise why not, and until when."""
    window = Window.of(settings.SUBMIT_RATE_LIMIT)
    if window is None:
        return None
    recent = Generation.objects.filter(created_by=user, created_at__gt=window.start()).order_by("created_at")
    return window.refusal(jobs, recent.count, lambda n: recent.values_list("created_at", flat=True)[n])


def hold(user: User, jobs: int) -> None:
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
