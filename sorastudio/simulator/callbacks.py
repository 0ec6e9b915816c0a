"""The simulator calling the studio back, for both simulated APIs: each passes only the body of its own
callback (and of a forged one); when and how often it is sent, the address check and the bookkeeping are
the same.

Callbacks run on timer threads (faults.schedule_callbacks), outside any request, which also rolls the
dice for the callback faults: duplicate, late, forged and missing. Webhooks are best effort, upstream and
here alike: a callback lost with its process is made up for by the studio's polling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from . import faults
from .models import SimTask

log = logging.getLogger(__name__)

TIMEOUT = 10.0

Body = dict[str, Any]


def allowed(url: str) -> bool:
    """The simulator takes no real credentials, so it only ever calls the studio itself back: it must not
    become a way to make this server send requests to any address a caller names."""
    own = [base for base in (settings.PUBLIC_BASE_URL, settings.SIMULATOR_BASE_URL) if base]
    return any(url.startswith(base + "/") for base in own)


def deliver(provider: str, task_id: str, body: Callable[[SimTask], Body], *, again: bool = False) -> None:
    """Post the finished task's callback, `body(task)`, once; `again` sends it even if it went out before
    (the duplicate_callback fault)."""
    close_old_connections()
    try:
        task = SimTask.objects.get(pk=task_id, provider=provider)
        if task.callback_sent_at and not again:
            return
        if not allowed(task.callback_url):
            log.warning("simulator callback to a foreign address refused")
            return
        httpx.post(task.callback_url, json=body(task), timeout=TIMEOUT)
        SimTask.objects.filter(pk=task_id).update(callback_sent_at=timezone.now())
    except Exception:
        log.warning("simulator callback for %s failed", task_id, exc_info=True)
    finally:
        close_old_connections()


def forge(provider: str, task_id: str, body: Callable[[str], Body]) -> None:
    """The `forged_callback` fault: what anyone on the network could post to a job's callback address.
    `body(task_id)` lies (succeeded, with faults.FORGED_VIDEO_URL) and names another finished task of the
    same API; a second copy goes to a token no job has."""
    close_old_connections()
    try:
        task = SimTask.objects.get(pk=task_id, provider=provider)
        if not allowed(task.callback_url):
            return
        other = (
            SimTask.objects.filter(provider=provider, outcome__in=["succeeded", "failed"])
            .exclude(pk=task_id)
            .order_by("-created_at")
            .first()
        )
        lie = body(other.id if other else task.id)
        for url in (task.callback_url, faults.unknown_token_url(task.callback_url)):
            httpx.post(url, json=lie, timeout=TIMEOUT)
    except Exception:
        log.warning("simulator forged callback for %s failed", task_id, exc_info=True)
    finally:
        close_old_connections()
