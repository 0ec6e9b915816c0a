"""The character picker's template helpers: the team's saved characters and the rules for a clip."""

from __future__ import annotations

from typing import Any

from django import template

from sorastudio.studio import characters

register = template.Library()


@register.simple_tag
def saved_characters(team: Any) -> list[Any]:
    """The team's saved characters, by name (none without a team)."""
    return characters.saved(team)


@register.simple_tag
def clip_rules() -> dict[str, Any]:
    """What an uploaded clip may be, for the file input and its hint."""
    return {
        "accept": characters.CLIP_ACCEPT,
        "max_seconds": characters.CLIP_MAX_SECONDS,
        "max_mb": characters.CLIP_MAX_BYTES // (1024 * 1024),
    }
