"""A reviewer's drawing on a frame of a video, as vectors: pen strokes, arrows and boxes in a few named
colours, their coordinates shares (0..1) of the frame's width and height so that the drawing scales with
whatever shows the frame (the player, a thumbnail).

    {"v": 1, "shapes": [
        {"kind": "pen", "colour": "red", "width": 0.006, "points": [[0.1, 0.2], [0.15, 0.22]]},
        {"kind": "arrow", "colour": "yellow", "width": 0.006, "from": [0.5, 0.5], "to": [0.7, 0.4]},
        {"kind": "box", "colour": "blue", "width": 0.006, "from": [0.2, 0.2], "to": [0.4, 0.5]}]}

What a browser sends is read by `parse` and checked strictly by `clean`, which returns a new drawing made
only of what it knows: known kinds and keys, colours by name from PALETTE (never a CSS value, so nothing
typed reaches a page's markup), finite numbers clamped to the frame, and limits on the shapes, the points of
a stroke and the whole text."""

from __future__ import annotations

import json
import math
from typing import Any

from django.utils.translation import gettext, gettext_lazy

VERSION = 1
# At most, per drawing: shapes, points in one pen stroke, and characters of its JSON as sent.
MOST_SHAPES = 60
MOST_POINTS = 600
MOST_CHARS = 40_000
# A stroke's width as a share of the frame's width, and the one the page draws with.
THINNEST, THICKEST, WIDTH = 0.002, 0.03, 0.006
# Coordinates are kept to a ten-thousandth of the frame: finer than a pixel of a 4K frame.
PLACES = 4

KINDS = ("pen", "arrow", "box")
# The colours a drawing may use, by name; the pages draw with these values and nothing else.
PALETTE: dict[str, str] = {
    "red": "#ff3b30",
    "yellow": "#ffcc00",
    "green": "#34c759",
    "blue": "#0a84ff",
    "white": "#ffffff",
}
COLOUR_NAMES = {
    "red": gettext_lazy("Red"),
    "yellow": gettext_lazy("Yellow"),
    "green": gettext_lazy("Green"),
    "blue": gettext_lazy("Blue"),
    "white": gettext_lazy("White"),
}
_KEYS = {"pen": {"kind", "colour", "width", "points"}, "arrow": {"kind", "colour", "width", "from", "to"}}
_KEYS["box"] = _KEYS["arrow"]

Drawing = dict[str, Any]


class DrawingError(ValueError):
    """Why a drawing was refused, in words for the person who drew it."""


def _unreadable() -> DrawingError:
    # What the page's own drawing tool never sends: someone made it by hand.
    return DrawingError(gettext("The drawing could not be read: clear it and draw it again."))


def parse(text: str) -> Drawing | None:
    """The drawing a form sent as JSON text, checked by `clean`; None when nothing was drawn."""
    text = text.strip()
    if not text:
        return None
    if len(text) > MOST_CHARS:
        raise DrawingError(
            gettext("The drawing is too detailed to keep: undo a few strokes, or draw them shorter.")
        )
    try:
        # NaN and Infinity are not JSON, though Python reads them: refused with the rest.
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise _unreadable() from None
    return clean(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def clean(value: Any) -> Drawing | None:
    """A checked copy of `value` with only the keys it knows; None for a drawing without shapes."""
    if not isinstance(value, dict) or set(value) != {"v", "shapes"} or not isinstance(value["shapes"], list):
        raise _unreadable()
    if value["v"] != VERSION or isinstance(value["v"], bool):
        raise _unreadable()
    shapes = value["shapes"]
    if len(shapes) > MOST_SHAPES:
        raise DrawingError(
            gettext("A drawing can have at most %(most)s shapes, and this one has %(count)s: undo a few.")
            % {"most": MOST_SHAPES, "count": len(shapes)}
        )
    if not shapes:
        return None
    return {"v": VERSION, "shapes": [_shape(shape) for shape in shapes]}


def _shape(shape: Any) -> dict[str, Any]:
    if not isinstance(shape, dict) or shape.get("kind") not in KINDS:
        raise _unreadable()
    kind = shape["kind"]
    if not set(shape) <= _KEYS[kind] or not _KEYS[kind] - {"width"} <= set(shape):
        raise _unreadable()
    colour = shape["colour"]
    if not isinstance(colour, str) or colour not in PALETTE:
        raise _unreadable()
    width = min(THICKEST, max(THINNEST, _number(shape.get("width", WIDTH))))
    clean: dict[str, Any] = {"kind": kind, "colour": colour, "width": round(width, PLACES)}
    if kind == "pen":
        clean["points"] = _points(shape["points"])
    else:
        clean["from"], clean["to"] = _point(shape["from"]), _point(shape["to"])
    return clean


def _points(points: Any) -> list[list[float]]:
    if not isinstance(points, list) or not points:
        raise _unreadable()
    if len(points) > MOST_POINTS:
        raise DrawingError(
            gettext("A pen stroke can have at most %(most)s points: draw it in shorter strokes.")
            % {"most": MOST_POINTS}
        )
    return [_point(point) for point in points]


def _point(point: Any) -> list[float]:
    if not isinstance(point, list) or len(point) != 2:
        raise _unreadable()
    return [round(min(1.0, max(0.0, _number(share))), PLACES) for share in point]


def _number(value: Any) -> float:
    # A bool is an int to Python, but never a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _unreadable()
    try:
        number = float(value)
    except OverflowError:  # JSON's integers have no bound: one of 400 digits is no float
        raise _unreadable() from None
    if not math.isfinite(number):
        raise _unreadable()
    return number


def arrow_head(
    start: tuple[float, float], tip: tuple[float, float], width: float
) -> list[tuple[float, float]]:
    """The two ends of an arrow's head at `tip`, in the frame's pixels (where angles are true): its barbs
    stay the same shape however long the arrow is, and shorter than it."""
    length = math.dist(start, tip)
    if length == 0:
        return [tip, tip]
    barb = min(length * 0.6, max(width * 4, 12.0))
    angle = math.atan2(tip[1] - start[1], tip[0] - start[0])
    return [
        (tip[0] - barb * math.cos(angle + side), tip[1] - barb * math.sin(angle + side))
        for side in (math.pi / 7, -math.pi / 7)
    ]
