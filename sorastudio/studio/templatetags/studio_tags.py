from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.cache import caches
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext

from sorastudio.studio.browser_text import browser_text

register = template.Library()

CARD = "studio/index.html#card"
# What a kept card holds where each viewer's own CSRF token goes: random, so that no prompt can contain it
# (kept cards live in this process's memory only, see settings.CACHES).
TOKEN_STAND_IN = f"csrf-stand-in-{secrets.token_hex(16)}"


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


@register.simple_tag(takes_context=True)
def gallery_card(context: template.Context, generation: Any) -> SafeString:
    """A gallery card: CARD rendered for `generation`. Rendering 24 cards was most of a gallery page's
    time, and a finished card no longer changes by itself, so its HTML is kept (in the "template_fragments"
    cache) and used again for as long as its key matches. The key holds everything the card shows
    (Generation.card_facts), how long ago the video was made as it reads ("3 days ago"), the language,
    and whether the viewer may delete it. The viewer's CSRF token is never kept: a stand-in takes its
    place and is replaced on the way out. A live card (its progress moves every second) is always
    rendered afresh."""
    token = context.get("csrf_token")
    if generation.is_live or not token:
        return _render_card(context, generation, token)
    facts = (
        generation.card_facts(),
        naturaltime(generation.created_at),
        get_language(),
        deletable(context, generation),
    )
    key = "card:" + hashlib.blake2b(repr(facts).encode(), digest_size=20).hexdigest()
    kept: str | None = caches["template_fragments"].get(key)
    if kept is None:
        kept = _render_card(context, generation, TOKEN_STAND_IN)
        caches["template_fragments"].set(key, str(kept))
    token = conditional_escape(str(token))
    return mark_safe(kept.replace(TOKEN_STAND_IN, token))  # noqa: S308 - the template's own output


@register.simple_tag(takes_context=True)
def deletable(context: template.Context, generation: Any) -> bool:
    """Whether the viewer may move this video to the trash: the card offers Delete, and its tick lets the
    selection toolbar offer it, only then (the views check again)."""
    return bool(context["request"].membership.may_delete(generation.created_by_id))


def _render_card(context: template.Context, generation: Any, token: Any) -> SafeString:
    card = context.template.engine.get_template(CARD)  # type: ignore[union-attr]
    with context.push(generation=generation, csrf_token=token):
        return card.render(context)
