"""A drawing on a frame as the browser sends it: what is kept (known shapes, the palette's colours, numbers
clamped to the frame), every refusal, and the limits on shapes, points and size."""

from __future__ import annotations

import json
import math
from typing import Any

from django.test import SimpleTestCase

from sorastudio.lib import drawing
from sorastudio.lib.drawing import DrawingError, arrow_head, clean, parse

UNREADABLE = "The drawing could not be read: clear it and draw it again."


def pen(*points: Any, **fields: Any) -> dict[str, Any]:
    return {"kind": "pen", "colour": "red", "width": 0.006, "points": [list(p) for p in points], **fields}


def line(
    kind: str = "arrow", start: Any = (0.1, 0.1), end: Any = (0.5, 0.5), **fields: Any
) -> dict[str, Any]:
    return {"kind": kind, "colour": "blue", "width": 0.006, "from": list(start), "to": list(end), **fields}


def of(*shapes: Any) -> dict[str, Any]:
    return {"v": 1, "shapes": list(shapes)}


class KeptTests(SimpleTestCase):
    def test_it_keeps_pen_strokes_arrows_and_boxes(self) -> None:
        value = of(pen((0.1, 0.2), (0.15, 0.25)), line("arrow"), line("box", (0.2, 0.3), (0.6, 0.7)))
        self.assertEqual(parse(json.dumps(value)), value)

    def test_it_reads_nothing_drawn_as_no_drawing(self) -> None:
        for text in ("", "   ", json.dumps(of())):
            with self.subTest(text=text):
                self.assertIsNone(parse(text))

    def test_it_clamps_coordinates_to_the_frame_and_rounds_them(self) -> None:
        kept = clean(of(pen((-0.5, 1.7), (0.123456789, 2)), line("box", (-1, 0), (3, 0.5))))
        assert kept is not None
        self.assertEqual(kept["shapes"][0]["points"], [[0.0, 1.0], [0.1235, 1.0]])
        self.assertEqual((kept["shapes"][1]["from"], kept["shapes"][1]["to"]), ([0.0, 0.0], [1.0, 0.5]))

    def test_it_clamps_the_width_and_gives_one_when_missing(self) -> None:
        thin, thick, missing = pen((0, 0), width=0), pen((0, 0), width=5), pen((0, 0))
        del missing["width"]
        kept = clean(of(thin, thick, missing))
        assert kept is not None
        self.assertEqual(
            [shape["width"] for shape in kept["shapes"]], [drawing.THINNEST, drawing.THICKEST, drawing.WIDTH]
        )

    def test_it_keeps_a_single_point_as_a_dot(self) -> None:
        self.assertEqual(clean(of(pen((0.5, 0.5))))["shapes"][0]["points"], [[0.5, 0.5]])  # type: ignore[index]

    def test_it_takes_whole_numbers_as_coordinates(self) -> None:
        self.assertEqual(clean(of(line("box", (0, 0), (1, 1))))["shapes"][0]["to"], [1.0, 1.0])  # type: ignore[index]


class RefusedTests(SimpleTestCase):
    def assert_unreadable(self, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value)
        with self.assertRaisesMessage(DrawingError, UNREADABLE):
            parse(text)

    def test_it_refuses_what_is_not_json_or_not_a_drawing(self) -> None:
        values: list[Any] = ["{", "not json", "[]", "3", "null", '"a drawing"', {"shapes": []}, {"v": 1}]
        for value in values:
            with self.subTest(value=value):
                self.assert_unreadable(value)

    def test_it_refuses_another_version_or_extra_keys(self) -> None:
        for value in ({"v": 2, "shapes": []}, {"v": True, "shapes": []}, {"v": "1", "shapes": []}):
            with self.subTest(value=value):
                self.assert_unreadable(value)
        self.assert_unreadable({"v": 1, "shapes": [], "title": "<script>"})
        self.assert_unreadable({"v": 1, "shapes": {"0": pen((0, 0))}})

    def test_it_refuses_unknown_kinds_and_keys(self) -> None:
        for shape in (
            {**pen((0, 0)), "kind": "circle"},
            {**pen((0, 0)), "kind": None},
            {**pen((0, 0)), "onclick": "alert(1)"},
            {**line(), "points": [[0, 0]]},
            {"kind": "arrow", "colour": "red", "from": [0, 0]},
            {"kind": "pen", "colour": "red"},
            "pen",
            None,
        ):
            with self.subTest(shape=shape):
                self.assert_unreadable(of(shape))

    def test_it_refuses_a_colour_outside_the_palette(self) -> None:
        for colour in ("#ff0000", "rgb(255,0,0)", "Red", "red;fill:url(x)", "", None, 1):
            with self.subTest(colour=colour):
                self.assert_unreadable(of(pen((0, 0), colour=colour)))

    def test_it_refuses_numbers_that_are_not_finite_or_not_numbers(self) -> None:
        for text in ("NaN", "Infinity", "-Infinity", "1e999"):
            with self.subTest(text=text):
                self.assert_unreadable(
                    f'{{"v": 1, "shapes": [{{"kind": "pen", "colour": "red", "points": [[{text}, 0]]}}]}}'
                )
        for value in ("0.5", True, None, [0.5], {"x": 1}):
            with self.subTest(value=value):
                self.assert_unreadable(of(pen((value, 0.5))))
                self.assert_unreadable(of(pen((0.5, 0.5), width=value)))
        self.assertRaises(DrawingError, clean, of(pen((math.nan, 0))))
        self.assertRaises(DrawingError, clean, of(line(end=(math.inf, 0))))

    def test_it_refuses_points_that_are_not_pairs(self) -> None:
        for points in ([], [[0.1]], [[0.1, 0.2, 0.3]], [0.1, 0.2], "0.1,0.2", None):
            with self.subTest(points=points):
                self.assert_unreadable(of({"kind": "pen", "colour": "red", "points": points}))
        self.assert_unreadable(of(line(start=(0.1,))))

    def test_it_refuses_json_nested_too_deep(self) -> None:
        self.assert_unreadable("[" * 15_000 + "]" * 15_000)


class LimitTests(SimpleTestCase):
    def test_it_allows_as_many_shapes_as_the_limit_and_no_more(self) -> None:
        most = drawing.MOST_SHAPES
        self.assertEqual(len(clean(of(*[pen((0, 0))] * most))["shapes"]), most)  # type: ignore[index]
        with self.assertRaisesMessage(DrawingError, f"at most {most} shapes, and this one has {most + 1}"):
            clean(of(*[pen((0, 0))] * (most + 1)))

    def test_it_allows_as_many_points_in_a_stroke_as_the_limit_and_no_more(self) -> None:
        most = drawing.MOST_POINTS
        self.assertEqual(len(clean(of(pen(*[(0.5, 0.5)] * most)))["shapes"][0]["points"]), most)  # type: ignore[index]
        with self.assertRaisesMessage(DrawingError, f"A pen stroke can have at most {most} points"):
            clean(of(pen(*[(0.5, 0.5)] * (most + 1))))

    def test_it_refuses_a_drawing_too_large_before_reading_it(self) -> None:
        text = json.dumps(of(pen((0.5, 0.5)))).replace("{", "{" + " " * drawing.MOST_CHARS, 1)
        with self.assertRaisesMessage(DrawingError, "The drawing is too detailed to keep"):
            parse(text)
        # Just at the limit is read.
        fitting = json.dumps(of(pen((0.5, 0.5))))
        fitting = fitting.replace("{", "{" + " " * (drawing.MOST_CHARS - len(fitting)), 1)
        self.assertEqual(len(fitting), drawing.MOST_CHARS)
        self.assertIsNotNone(parse(fitting))


class ArrowHeadTests(SimpleTestCase):
    def test_it_draws_the_barbs_back_from_the_tip_on_either_side(self) -> None:
        (lx, ly), (rx, ry) = arrow_head((0.0, 0.0), (100.0, 0.0), 2.0)
        self.assertLess(lx, 100)
        self.assertAlmostEqual(lx, rx)
        self.assertAlmostEqual(ly, -ry)
        self.assertAlmostEqual(math.dist((lx, ly), (100, 0)), 12.0)

    def test_a_short_arrow_has_a_shorter_head_and_a_dot_has_none(self) -> None:
        left, _ = arrow_head((0.0, 0.0), (10.0, 0.0), 2.0)
        self.assertAlmostEqual(math.dist(left, (10, 0)), 6.0)
        self.assertEqual(arrow_head((5.0, 5.0), (5.0, 5.0), 2.0), [(5.0, 5.0), (5.0, 5.0)])
