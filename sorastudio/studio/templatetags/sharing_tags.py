"""Client review links on the team's pages: `{% client_verdicts generation as verdicts %}`,
`{{ link|link_state }}`."""

from __future__ import annotations

from typing import Any

from django import template

from sorastudio.studio.models import ClientVerdict, Generation, ReviewLink

register = template.Library()


@register.simple_tag
def client_verdicts(generation: Generation) -> list[ClientVerdict]:
    """What clients said of the video, newest first, each with the link they came through."""
    found: Any = ClientVerdict.objects.filter(generation=generation, link__team=generation.team_id)
    return list(found.select_related("link"))


@register.filter
def link_state(link: ReviewLink) -> str:
    """Active, expired or revoked, in the reader's language."""
    return str(ReviewLink.State(link.state).label)
