from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.translation import ngettext

from sorastudio.studio.browser_text import browser_text

register = template.Library()


@register.simple_tag
def studio_text() -> dict[str, str]:
    """The scripts' messages in the active language, for base.html to hand them over as JSON."""
    return browser_text()


@register.filter
def clock(value: timedelta | float | None) -> str:
    """A duration as m:ss (or h:mm:ss), the way a player shows it."""
    if value is None:
        return ""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def filesize(value: int | None) -> str:
    if not value:
        return ""
    size = float(value)
    if size < 1024:
        return ngettext("%(count)s byte", "%(count)s bytes", int(size)) % {"count": int(size)}
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    return ""
