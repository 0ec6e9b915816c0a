"""The simulator's few places to wait: web threads it may keep waiting (a held request, a late answer) and
the encodes it may run at once, so that a test or a soak that asks too much gets a quick "come back later"
instead of a server with every thread asleep."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

_SEMAPHORES_LOCK = threading.Lock()
_SEMAPHORES: dict[tuple[str, int], threading.BoundedSemaphore] = {}


def _semaphore(kind: str, size: int) -> threading.BoundedSemaphore:
    # One per (kind, size): a changed setting (in tests) gets a fresh one instead of a resized one.
    with _SEMAPHORES_LOCK:
        return _SEMAPHORES.setdefault((kind, size), threading.BoundedSemaphore(size))


@contextmanager
def holding() -> Iterator[float | None]:
    """A slot to keep a web thread waiting in: yields the seconds it may wait, or None when every slot is
    taken, and the caller must answer at once."""
    slots = _semaphore("holds", settings.SIMULATOR_MAX_HOLDS)
    if not slots.acquire(blocking=False):
        yield None
        return
    try:
        yield settings.SIMULATOR_HOLD_SECONDS
    finally:
        slots.release()


class Busy(Exception):
    """Every render slot stayed taken: the client is to come back later."""


@contextmanager
def render_slot() -> Iterator[None]:
    """One of SIMULATOR_MAX_RENDERS encodes. Without a free one, the request waits for one only if it gets
    a hold slot (and for as long as a hold lasts); otherwise, or if none frees up meanwhile, Busy."""
    slots = _semaphore("renders", settings.SIMULATOR_MAX_RENDERS)
    if not slots.acquire(blocking=False):
        with holding() as seconds:
            if seconds is None or not slots.acquire(timeout=seconds):
                raise Busy
    try:
        yield
    finally:
        slots.release()
