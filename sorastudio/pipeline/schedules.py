"""The queue's one schedule: tasks.tick every minute, which restarts following after a crash, dispatches
what is due, recovers what was abandoned and prunes old records. It is made (or brought up to date) after
every `migrate`, from the function itself, so renaming or moving the task cannot leave a schedule behind
that names a function that is gone."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_migrate

from . import tasks

TICK = "sorastudio-tick"


def connect() -> None:
    post_migrate.connect(_ensure, dispatch_uid="sorastudio.pipeline.schedules")


def _ensure(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if sender.name != "sorastudio.pipeline":
        return  # post_migrate is sent once per app: once is enough
    ensure(using)


def ensure(using: str = "default") -> None:
    from django_q.models import Schedule

    Schedule.objects.using(using).update_or_create(
        name=TICK,
        defaults={
            "func": f"{tasks.tick.__module__}.{tasks.tick.__qualname__}",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
