"""The bell of the top bar: how many of a person's notifications are unread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .models import Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class Bell:
    """What the bell in the top bar shows: the unread count and, when it rose, the newest unread
    notification (for bell.js to show as the browser's own)."""

    unread: int
    newest: Notification | None = None


def bell_for(user: User, seen: int | None = None) -> Bell:
    """The bell for every page is one COUNT query. Its refreshes say what they showed before (`seen`), and
    only when the count rose is the newest unread notification looked up too."""
    unread = Notification.objects.for_user(user).unread()
    count = unread.count()
    if seen is None or count <= seen:
        return Bell(unread=count)
    return Bell(unread=count, newest=unread.select_related("generation", "actor").first())
