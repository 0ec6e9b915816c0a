"""The server-drawn SVG charts: well-formed, accessible, and drawing exactly the numbers they are given."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from django.test import SimpleTestCase

from sorastudio.billing.charts import Category, Series, nice_ceiling, stacked_bars, text_width

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [Category("2026-11-01", "1 Nov"), Category("2026-11-02", "2 Nov"), Category("2026-11-03", "3 Nov")]


def draw(**options: object) -> ET.Element:
    arguments: dict[str, object] = {
        "chart_id": "test-chart",
        "title": "Credits per day",
        "description": "What was spent.",
        "categories": DAYS,
        "series": [Series("alice", [10, 0, 5]), Series("bob <admin>", [20, 30, 0])],
        "x_label": "Day",
        "y_label": "Credits",
    }
    arguments.update(options)
    return ET.fromstring(str(stacked_bars(**arguments)))  # type: ignore[arg-type]  # noqa: S314


class NiceCeilingTests(SimpleTestCase):
    def test_it_rounds_up_to_one_two_or_five_times_a_power_of_ten(self) -> None:
        cases = {0: 1, 1: 1, 3: 5, 7: 10, 10: 10, 11: 20, 30: 50, 101: 200, 450: 500, 999: 1000}
        self.assertEqual({value: nice_ceiling(value) for value in cases}, cases)


class StackedBarsTests(SimpleTestCase):
    def test_it_is_an_image_named_by_its_title_and_description(self) -> None:
        svg = draw()
        self.assertEqual(svg.get("role"), "img")
        self.assertEqual(svg.get("aria-labelledby"), "test-chart-title")
        self.assertEqual(svg.get("aria-describedby"), "test-chart-desc")
        self.assertEqual(svg.find(f"{SVG}title").text, "Credits per day")  # type: ignore[union-attr]
        self.assertEqual(svg.find(f"{SVG}desc").text, "What was spent.")  # type: ignore[union-attr]

    def test_each_bar_carries_its_total_and_each_segment_its_value(self) -> None:
        svg = draw()
        bars = svg.findall(f".//{SVG}g[@class='bar']")
        self.assertEqual(
            [(bar.get("data-category"), bar.get("data-total")) for bar in bars],
            [("2026-11-01", "30"), ("2026-11-02", "30"), ("2026-11-03", "5")],
        )
        # Zero segments are not drawn.
        segments = [
            [(rect.get("data-series"), rect.get("data-value")) for rect in bar.findall(f"{SVG}rect")]
            for bar in bars
        ]
        self.assertEqual(
            segments,
            [[("alice", "10"), ("bob <admin>", "20")], [("bob <admin>", "30")], [("alice", "5")]],
        )

    def test_segments_stack_from_the_axis_in_proportion(self) -> None:
        svg = draw()
        first = svg.find(f".//{SVG}g[@data-category='2026-11-01']")
        assert first is not None
        alice, bob = first.findall(f"{SVG}rect")
        self.assertEqual(svg.get("data-top"), "50")  # the biggest bar is 30: the axis goes to 50
        # 10 and 20 of 50 on a 200-unit-high plot; bob's segment sits on top of alice's.
        self.assertEqual((float(alice.get("height", 0)), float(bob.get("height", 0))), (40.0, 80.0))
        self.assertEqual(float(bob.get("y", 0)) + 80.0, float(alice.get("y", 0)))

    def test_it_labels_the_axes_and_names_every_series_in_the_legend(self) -> None:
        svg = draw()
        labels = [text.text for text in svg.findall(f".//{SVG}text[@class='axis-label']")]
        self.assertEqual(labels, ["Credits", "Day"])
        legend = svg.find(f".//{SVG}g[@class='legend']")
        assert legend is not None
        self.assertEqual([text.text for text in legend.findall(f"{SVG}text")], ["alice", "bob <admin>"])

    def test_text_is_escaped(self) -> None:
        markup = str(
            stacked_bars(
                chart_id="x",
                title="<script>",
                description="",
                categories=DAYS[:1],
                series=[Series('"><b>', [1])],
                x_label="",
                y_label="",
            )
        )
        self.assertNotIn("<script>", markup)
        self.assertNotIn('"><b>', markup)

    def test_a_cap_is_one_line_across_the_chart_and_raises_the_axis_to_show_it(self) -> None:
        svg = draw(cap=80, cap_label="Daily limit")
        cap = svg.find(f".//{SVG}g[@class='cap']")
        assert cap is not None
        self.assertEqual(cap.get("data-cap"), "80")
        self.assertEqual(svg.get("data-top"), "100")
        self.assertIn("Daily limit 80", "".join(cap.itertext()))
        legend = svg.find(f".//{SVG}g[@class='legend']")
        assert legend is not None
        self.assertIn("Daily limit", [text.text for text in legend.findall(f"{SVG}text")])

    def test_caps_per_bar_are_drawn_over_the_bars_that_have_one(self) -> None:
        svg = draw(caps=[100, None, 40], cap_label="Limit")
        caps = [
            (bar.get("data-category"), line.get("data-cap"))
            for bar in svg.findall(f".//{SVG}g[@class='bar']")
            for line in bar.findall(f"{SVG}line[@class='cap']")
        ]
        self.assertEqual(caps, [("2026-11-01", "100"), ("2026-11-03", "40")])

    def test_without_a_cap_there_is_no_cap_line(self) -> None:
        svg = draw()
        self.assertEqual(svg.findall(f".//{SVG}*[@class='cap']"), [])

    def test_empty_data_still_draws_an_axis(self) -> None:
        svg = draw(series=[])
        self.assertEqual(svg.get("data-top"), "1")
        self.assertEqual(len(svg.findall(f".//{SVG}g[@class='bar']")), 3)
        self.assertEqual(svg.findall(f".//{SVG}rect"), [])

    def test_a_series_of_the_wrong_length_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            draw(series=[Series("alice", [1, 2])])

    def test_labels_under_many_bars_are_thinned_out(self) -> None:
        days = [Category(f"d{n}", f"L{n}") for n in range(90)]
        svg = draw(categories=days, series=[Series("alice", [1] * 90)])
        shown = [t.text for t in svg.findall(f"{SVG}text") if (t.text or "").startswith("L")]
        self.assertLessEqual(len(shown), 16)
        self.assertEqual(shown[:2], ["L0", "L6"])


class SizeAndLabelsTests(SimpleTestCase):
    def test_it_fills_the_width_it_is_given_and_keeps_its_proportions(self) -> None:
        svg = draw()
        self.assertEqual(svg.get("width"), "100%")
        self.assertIsNone(svg.get("height"))
        self.assertRegex(svg.get("viewBox") or "", r"^0 0 \d+ \d+$")

    def test_no_two_day_labels_overlap_however_many_days(self) -> None:
        for count in (7, 14, 30, 31, 90, 366):
            for label in ("30 Nov", "11月30日"):
                with self.subTest(days=count, label=label):
                    days = [Category(f"d{n}", label) for n in range(count)]
                    svg = draw(categories=days, series=[Series("alice", [1] * count)])
                    xs = [
                        float(t.get("x") or 0)
                        for t in svg.iter(f"{SVG}text")
                        if t.get("class") == "category-label"
                    ]
                    self.assertGreater(len(xs), 1)
                    widest = text_width(label, 11)
                    gaps = [b - a for a, b in itertools.pairwise(xs)]
                    self.assertGreaterEqual(min(gaps), widest, f"{len(xs)} labels {min(gaps):.1f} apart")
