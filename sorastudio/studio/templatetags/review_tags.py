"""The review's template helpers: marks along the player's bar, who may resolve a comment, compare links."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.translation import gettext

from sorastudio.studio.models import Comment, Generation
from sorastudio.studio.review_forms import COMPARE_MOST
from sorastudio.teams.models import Membership

register = template.Library()


@register.filter
def percent_of(value: float | None, total: float | None) -> str:
    """`value` as a percentage of `total`, for a position along a bar (CSS wants a dot, never a comma)."""
    if value is None or not total:
        return "0"
    return f"{max(0.0, min(100.0, 100 * value / total)):.2f}"


@register.filter
def commenter(comment: Comment) -> str:
    """Who wrote a comment: a member's username, or the name a client gave through a review link."""
    if comment.author is not None:
        return comment.author.get_username()
    return gettext("%(name)s (client)") % {"name": comment.guest_name}


@register.filter
def seconds(value: float | None) -> str:
    """A moment for the scripts and the media fragment (#t=3.00), not localised."""
    return "" if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class MarkGroup:
    """The pinned threads that share one mark on the player's bar, at the earliest one's moment."""

    at_seconds: float
    threads: list[Comment]

    @property
    def resolved(self) -> bool:
        return all(thread.resolved_at for thread in self.threads)


@register.filter
def mark_groups(threads: Iterable[Comment]) -> list[MarkGroup]:
    """The pinned threads grouped by moment, in the threads' order, so that two comments at the same
    moment make one mark with their count instead of one dot hiding the other.

    A moment is a whole second: that is how the page writes it (0:03) and where a mark seeks to, so two
    comments in the same second are, for the reader, at the same moment; a share of the duration (1%) would
    merge, in a long video, moments people tell apart."""
    groups: dict[int, list[Comment]] = {}
    for thread in threads:
        if thread.at_seconds is not None:
            groups.setdefault(int(thread.at_seconds), []).append(thread)
    return [MarkGroup(min(t.at_seconds or 0.0 for t in pinned), pinned) for pinned in groups.values()]


@register.filter
def may_resolve(comment: Comment, membership: Membership) -> bool:
    return comment.may_resolve(membership)


@register.simple_tag
def compare_url(generation: Generation, others: Generation | Iterable[Generation] | None) -> str:
    """The compare page for `generation` beside the finished ones of `others` (one video, or several, the
    first ones first), four in all at most; empty when there is nothing to compare it with."""
    if not others:
        return ""
    candidates: Iterable[Generation] = [others] if isinstance(others, Generation) else others
    videos = [generation, *(v for v in candidates if v.succeeded and v.deleted_at is None)]
    if not generation.succeeded or len(videos) < 2:
        return ""
    query: list[tuple[str, Any]] = [("ids", str(video.pk)) for video in videos[:COMPARE_MOST]]
    return f"{reverse('studio:compare')}?{urlencode(query)}"
