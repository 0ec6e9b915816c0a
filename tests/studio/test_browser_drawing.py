"""In Chromium, on real videos made by the queue worker on the simulator: bob pauses alice's video, draws a
box and a pen stroke on the frame with the mouse and posts them with his comment; the drawing shows beside
the comment and over the video at that moment only; and on the compare page each video's drawings show
over it while the shared position passes their moment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page

from sorastudio.studio.models import Comment, Generation
from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, Player, expect
from tests.helpers import make_member

# Where a share of the frame (0..1 of its width and height) is on the screen: the canvas's viewBox is the
# frame, letterboxed in the player's box as the picture is.
ON_SCREEN = """([svg, x, y]) => {
  const [, , w, h] = svg.getAttribute("viewBox").split(" ").map(Number);
  const p = new DOMPoint(x * w, y * h).matrixTransform(svg.getScreenCTM());
  return [p.x, p.y];
}"""
SAME_BOX = """([a, b]) => {
  const [p, q] = [a.getBoundingClientRect(), b.getBoundingClientRect()];
  return Math.abs(p.left - q.left) < 1 && Math.abs(p.top - q.top) < 1
    && Math.abs(p.width - q.width) < 1 && Math.abs(p.height - q.height) < 1;
}"""


@pytest.mark.browser
class TestDrawing(BrowserTestCase):
    simulator_seconds = 1.0

    def setUp(self) -> None:
        super().setUp()
        studio, _ = Team.objects.get_or_create(name="Studio")
        make_member("alice", studio, Membership.Role.CREATOR)
        make_member("bob", studio, Membership.Role.REVIEWER)

    def submit(self, page: Page, prompt: str) -> str:
        pk, card = self.generate(page, prompt)
        self.wait_until_done(card)
        return pk

    @staticmethod
    def drag(page: Page, points: list[tuple[float, float]]) -> None:
        """Press the mouse at the first of `points` (shares of the frame), move through the others, let go."""
        page.locator(".drawing-canvas").scroll_into_view_if_needed()
        canvas = page.locator(".drawing-canvas").element_handle()
        on_screen = [page.evaluate(ON_SCREEN, [canvas, x, y]) for x, y in points]
        page.mouse.move(*on_screen[0])
        page.mouse.down()
        for x, y in on_screen[1:]:
            page.mouse.move(x, y, steps=4)
        page.mouse.up()

    @staticmethod
    def drawn(page: Page) -> Any:
        return json.loads(page.locator("input[name=drawing]").input_value() or "null")

    def test_it_draws_on_the_paused_frame_and_shows_the_drawing_at_that_moment(self) -> None:
        alice = self.page
        self.log_in(alice, "alice")
        pk = self.submit(alice, "A red kite over the dunes at noon")

        page = self.new_page()
        self.log_in(page, "bob")
        page.goto(f"/generations/{pk}/")
        player = Player(page, page.locator("#player"))
        player.wait_for_metadata()
        player.seek(3)
        player.play()

        page.get_by_role("button", name="Draw on the frame").click()
        expect(page.get_by_role("button", name="Stop drawing")).to_have_attribute("aria-pressed", "true")
        page.wait_for_function("v => v.paused", arg=page.locator("#player").element_handle(), timeout=QUICK)
        moment = round(player.info()["time"], 2)
        tools = page.get_by_role("toolbar", name="Drawing tools")
        expect(tools).to_be_visible()
        canvas = page.locator(".drawing-canvas")
        expect(canvas).to_be_visible()
        self.assertTrue(
            page.evaluate(SAME_BOX, [canvas.element_handle(), page.locator("#player").element_handle()])
        )

        # Laid over the stage, leaving the player and its marks side by side.
        expect(page.locator("#player-stage > #player + #marks")).to_have_count(1)
        tools.get_by_role("button", name="Box").click()
        tools.get_by_role("button", name="Yellow").click()
        self.drag(page, [(0.25, 0.25), (0.6, 0.6)])
        tools.get_by_role("button", name="Pen").click()
        tools.get_by_role("button", name="Red").click()
        self.drag(page, [(0.1, 0.8), (0.2, 0.7), (0.3, 0.8)])
        # A stroke too many, undone.
        self.drag(page, [(0.5, 0.1), (0.9, 0.1)])
        self.assertEqual(len(self.drawn(page)["shapes"]), 3)
        tools.get_by_role("button", name="Undo").click()

        box, stroke = self.drawn(page)["shapes"]
        self.assertEqual(
            (box["kind"], box["colour"], stroke["kind"], stroke["colour"]), ("box", "yellow", "pen", "red")
        )
        for got, wanted in (
            (box["from"], (0.25, 0.25)),
            (box["to"], (0.6, 0.6)),
            (stroke["points"][0], (0.1, 0.8)),
        ):
            self.assertAlmostEqual(got[0], wanted[0], delta=0.01)
            self.assertAlmostEqual(got[1], wanted[1], delta=0.01)
        self.assertGreater(len(stroke["points"]), 3)
        expect(canvas.locator("path")).to_have_count(2)

        # The comment is pinned where it was drawn.
        pin = page.get_by_label("Pinned to 0:03, where you drew")
        expect(pin).to_be_checked()
        expect(pin).to_be_disabled()
        # Put aside, the drawing waits at its moment and keeps the comment pinned there.
        page.get_by_role("button", name="Stop drawing").click()
        expect(tools).to_be_hidden()
        player.seek(7)
        expect(canvas).to_be_hidden()
        expect(page.get_by_label("Pinned to 0:03, where you drew")).to_be_checked()
        pinned = float(page.locator("form.new-comment input[name=at_seconds]").input_value())
        self.assertAlmostEqual(pinned, moment, delta=0.011)
        player.seek(moment)
        expect(canvas).to_be_visible()
        expect(canvas.locator("path")).to_have_count(2)

        # A comment refused (no text yet) keeps its drawing, there to post once the text is written.
        page.get_by_role("button", name="Comment", exact=True).click()
        expect(page.locator("#comment-body-error")).to_have_text("Write the comment first.", timeout=QUICK)
        expect(canvas.locator("path")).to_have_count(2)
        self.assertEqual([shape["kind"] for shape in self.drawn(page)["shapes"]], ["box", "pen"])
        expect(page.get_by_label("Pinned to 0:03, where you drew")).to_be_checked()
        self.assertFalse(Comment.objects.exists())
        page.get_by_label("Add a comment").fill("The kite's tail leaves the frame here.")
        page.get_by_role("button", name="Comment", exact=True).click()

        comment = page.locator(".comments .comment").filter(has_text="The kite's tail leaves the frame here.")
        expect(comment).to_be_visible(timeout=QUICK)
        expect(comment.locator(".drawing-thumb svg path")).to_have_count(2)
        expect(comment.get_by_role("img", name="Drawing at 0:03")).to_be_visible()
        saved = Comment.objects.get()
        self.assertAlmostEqual(saved.at_seconds or 0, moment, delta=0.05)
        self.assertEqual([shape["kind"] for shape in saved.drawing["shapes"]], ["box", "pen"])  # type: ignore[index]

        # The form starts afresh; the drawing now shows over the video, where it was drawn, and only there.
        expect(page.get_by_role("button", name="Draw on the frame")).to_have_attribute(
            "aria-pressed", "false"
        )
        expect(tools).to_be_hidden()
        expect(canvas).to_be_hidden()
        self.assertEqual(page.locator("input[name=drawing]").input_value(), "")
        over = page.get_by_role("img", name="Drawing by bob at 0:03")
        expect(over).to_be_visible()
        self.assertTrue(
            page.evaluate(SAME_BOX, [over.element_handle(), page.locator("#player").element_handle()])
        )
        player.seek(7)
        expect(over).to_be_hidden()
        player.seek(0.5)
        expect(over).to_be_hidden()
        player.seek(moment + 0.3)
        expect(over).to_be_visible()

        page.reload()
        player.wait_for_metadata()
        expect(over).to_be_hidden()
        page.locator(".drawing-thumb").click()
        expect(over).to_be_visible(timeout=QUICK)
        page.wait_for_function("v => v.paused", arg=page.locator("#player").element_handle())
        player.seek(6)
        expect(over).to_be_hidden()
        comment.locator("a.at").click()
        expect(over).to_be_visible(timeout=QUICK)

    def test_compare_shows_each_videos_drawing_at_its_moment(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        first = self.submit(page, "A paper lantern drifting on a lake")
        page.goto(f"/generations/{first}/")
        page.get_by_role("button", name="Re-run").click()
        expect(page).to_have_url(f"{self.live_server_url}/", timeout=QUICK)
        second = str(Generation.objects.filter(parent__pk=first).latest("created_at").pk)
        self.wait_until_done(page.locator(f"#card-{second}"))
        bob = Membership.objects.get(user__username="bob").user
        box = {"kind": "box", "colour": "green", "from": [0.2, 0.2], "to": [0.5, 0.5]}
        for pk, at in ((first, 2.0), (second, 5.0)):
            Comment.add(
                Generation.objects.get(pk=pk), bob, "Here.", at_seconds=at, drawing={"v": 1, "shapes": [box]}
            )

        page.goto(f"/compare/?ids={first}&ids={second}")
        for pk in (first, second):
            Player(page, page.locator(f"video[src='/generations/{pk}/video.mp4']")).wait_for_metadata()
        on_first = page.locator("[data-drawings-for=compare-video-1]").get_by_role(
            "img", name="Drawing by bob at 0:02"
        )
        on_second = page.locator("[data-drawings-for=compare-video-2]").get_by_role(
            "img", name="Drawing by bob at 0:05"
        )
        expect(on_first).to_be_hidden()
        expect(on_second).to_be_hidden()

        position = page.get_by_label("Position in every video")
        position.fill("2")
        expect(on_first).to_be_visible(timeout=QUICK)
        expect(on_second).to_be_hidden()
        self.assertTrue(
            page.evaluate(
                SAME_BOX, [on_first.element_handle(), page.locator("#compare-video-1").element_handle()]
            )
        )
        position.fill("5")
        expect(on_second).to_be_visible(timeout=QUICK)
        expect(on_first).to_be_hidden()

        # While the two play together, the second's drawing shows as they pass its moment, then goes.
        position.fill("4")
        expect(on_second).to_be_hidden(timeout=QUICK)
        page.get_by_role("button", name="Play all").click()
        expect(on_second).to_be_visible(timeout=QUICK)
        expect(on_second).to_be_hidden(timeout=QUICK)

    def test_it_draws_with_a_finger_on_a_phone(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        pk = self.submit(page, "A paper boat in the rain")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"/generations/{pk}/")
        Player(page, page.locator("#player")).wait_for_metadata()
        page.get_by_role("button", name="Draw on the frame").click()
        canvas = page.locator(".drawing-canvas")
        canvas.scroll_into_view_if_needed()
        handle = canvas.element_handle()
        points = [page.evaluate(ON_SCREEN, [handle, x, y]) for x, y in ((0.2, 0.5), (0.5, 0.3), (0.8, 0.5))]
        scrolled = page.evaluate("() => window.scrollY")

        touch = page.context.new_cdp_session(page)
        touch.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
        for kind, (x, y) in zip(
            ("touchStart", "touchMove", "touchMove", "touchEnd"), [*points, points[-1]], strict=True
        ):
            touch.send(
                "Input.dispatchTouchEvent",
                {"type": kind, "touchPoints": [] if kind == "touchEnd" else [{"x": x, "y": y}]},
            )

        # The finger drew; it did not scroll the page.
        stroke = self.drawn(page)["shapes"][0]
        self.assertEqual(stroke["kind"], "pen")
        self.assertGreaterEqual(len(stroke["points"]), 2)
        self.assertAlmostEqual(stroke["points"][0][0], 0.2, delta=0.02)
        self.assertAlmostEqual(stroke["points"][-1][0], 0.8, delta=0.02)
        self.assertEqual(page.evaluate("() => window.scrollY"), scrolled)
        self.assertFalse(page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"))
