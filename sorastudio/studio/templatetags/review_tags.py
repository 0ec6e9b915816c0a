"""The review's template helpers: marks along the player's bar, who may resolve a comment, compare links,
and the drawings on a frame, drawn as SVG."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from sorastudio.lib import drawing as drawings
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


# A frame of unknown size is drawn as the common one: only its shape matters, and 16:9 is the usual.
FALLBACK_FRAME = (1280, 720)


def frame_of(generation: Generation) -> tuple[int, int]:
    """The video's frame in pixels, the space its drawings are drawn in (their shares scaled to it)."""
    if generation.width and generation.height:
        return generation.width, generation.height
    return FALLBACK_FRAME


@register.filter
def frame_box(generation: Generation) -> str:
    """The SVG viewBox of the video's frame."""
    width, height = frame_of(generation)
    return f"0 0 {width} {height}"


@register.filter
def frame_ratio(generation: Generation) -> str:
    """The frame's shape, for CSS's aspect-ratio."""
    width, height = frame_of(generation)
    return f"{width} / {height}"


@register.simple_tag
def drawing_tools() -> dict[str, Any]:
    """What the drawing tools offer and allow: the palette's colours (name, value, label) and the limits
    the server keeps, so that draw.js stops before a drawing would be refused."""
    return {
        "palette": [
            {"name": name, "value": value, "label": drawings.COLOUR_NAMES[name]}
            for name, value in drawings.PALETTE.items()
        ],
        "most_shapes": drawings.MOST_SHAPES,
        "most_points": drawings.MOST_POINTS,
        "most_chars": drawings.MOST_CHARS,
        "width": str(drawings.WIDTH),  # for a script: never localised
    }


@register.filter
def drawn(threads: Iterable[Comment]) -> list[Comment]:
    """The comments with a drawing and a moment, threads and their replies (already fetched), in order."""
    found = []
    for thread in threads:
        for comment in (thread, *thread.replies.all()):
            if comment.drawing and comment.at_seconds is not None:
                found.append(comment)
    return found


@register.simple_tag
def drawing_shapes(drawing: drawings.Drawing | None, generation: Generation) -> SafeString:
    """The shapes of a drawing as SVG elements in the frame's pixels. Only numbers and the palette's own
    colours reach the markup: the drawing was checked (lib.drawing.clean) before it was stored, and is
    read here again as numbers and names."""
    try:
        checked = drawings.clean(drawing) if drawing else None
    except drawings.DrawingError:
        # Stored some other way than through Comment.add (by hand, say): shown as nothing rather than trusted.
        checked = None
    if checked is None:
        return SafeString("")
    width, height = frame_of(generation)
    return format_html_join("", "{}", ((_shape(shape, width, height),) for shape in checked["shapes"]))


def _shape(shape: dict[str, Any], width: int, height: int) -> SafeString:
    colour = drawings.PALETTE[shape["colour"]]
    stroke = shape["width"] * width
    if shape["kind"] == "pen":
        points = [(x * width, y * height) for x, y in shape["points"]]
        # One point is a dot: a line to itself, which the round cap draws.
        path = _path([points[0], *points] if len(points) == 1 else points)
    else:
        start = (shape["from"][0] * width, shape["from"][1] * height)
        end = (shape["to"][0] * width, shape["to"][1] * height)
        if shape["kind"] == "box":
            path = _path([start, (end[0], start[1]), end, (start[0], end[1]), start]) + " Z"
        else:
            left, right = drawings.arrow_head(start, end, stroke)
            path = f"{_path([start, end])} {_path([left, end, right])}"
    return format_html(
        '<path class="shape shape-{}" d="{}" stroke="{}" stroke-width="{}" fill="none" '
        'stroke-linecap="round" stroke-linejoin="round"/>',
        shape["kind"],
        path,
        colour,
        f"{stroke:.1f}",
    )


def _path(points: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in points)
