"""In Chromium: a video's page as a review room. At 1366 px the comment list stands beside the player and
follows playback inside its own scroll; writing a comment pauses the video and pins it to the frame; the
keyboard plays, pauses, steps by a second or a frame and opens the comment box; the reference image and the
character clip the video was asked with are shown beside it. At 390 px it is one column, nothing sideways."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from playwright.sync_api import Page, ViewportSize

from sorastudio.studio.models import Comment, Generation, GenerationImage
from sorastudio.teams.models import Membership, Team
from tests.browser import FINISH, QUICK, BrowserTestCase, Player, expect
from tests.helpers import make_member, png_bytes

# The frame rate review.js takes until it has measured one: the simulator's.
FRAME = 1 / 24
WIDE: ViewportSize = {"width": 1366, "height": 900}

BOX = """e => {
  const r = e.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
}"""


@pytest.mark.browser
class TestReviewRoom(BrowserTestCase):
    simulator_seconds = 1.0

    def setUp(self) -> None:
        super().setUp()
        studio, _ = Team.objects.get_or_create(name="Studio")
        make_member("alice", studio, Membership.Role.CREATOR)
        self.bob = make_member("bob", studio, Membership.Role.REVIEWER)

    def open_video(self, prompt: str, *, comments: int = 0) -> tuple[Page, Player]:
        """alice makes a video, bob comments on it at 0:00.5, 0:01.5, … ; alice's page of it at 1366 px."""
        page = self.page
        self.log_in(page, "alice")
        pk, card = self.generate(page, prompt)
        self.wait_until_done(card)
        video = Generation.objects.get(pk=pk)
        for second in range(comments):
            body = f"Note {second}: the light shifts on the ridge, and the kite's tail loses its colour."
            Comment.add(video, self.bob, body, at_seconds=second + 0.5)
        page.set_viewport_size(WIDE)
        page.goto(f"/generations/{pk}/")
        player = Player(page, page.locator("#player"))
        player.wait_for_metadata()
        self.video = video
        return page, player

    @staticmethod
    def box(page: Page, selector: str) -> dict[str, float]:
        result: dict[str, float] = page.locator(selector).evaluate(BOX)
        return result

    @staticmethod
    def time(player: Player) -> float:
        return player.info()["time"]

    def wait_paused_at(self, page: Page, seconds: float, near: float = 0.01) -> None:
        page.wait_for_function(
            "([v, t, near]) => v.paused && !v.seeking && Math.abs(v.currentTime - t) < near",
            arg=[page.locator("#player").element_handle(), seconds, near],
            timeout=QUICK,
        )

    def press_on_page(self, page: Page, key: str) -> None:
        """A key pressed with nothing in particular focused, as after a click on the page's background."""
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press(key)

    def test_it_lists_the_comments_beside_the_player_and_follows_playback(self) -> None:
        page, player = self.open_video("A red kite over the dunes at noon", comments=9)
        stage, review = self.box(page, "#player-stage"), self.box(page, "#review")
        self.assertGreaterEqual(review["left"], stage["right"])
        self.assertLess(review["top"], stage["bottom"])
        # However many comments, the panel fits the first screen: its list scrolls instead.
        self.assertLessEqual(review["bottom"], WIDE["height"])
        comments = page.locator("#review .comments")
        self.assertTrue(comments.evaluate("l => l.scrollHeight > l.clientHeight"), "the list does not scroll")
        self.assertEqual(page.locator("#player-stage > #player + #marks").count(), 1)

        current = page.locator("#review .comments > li[aria-current=true]")
        expect(current).to_have_count(0)
        player.play()
        expect(current).to_contain_text("Note 0:", timeout=QUICK)
        expect(current).to_have_class("comment current")
        expect(current).to_contain_text("Note 1:", timeout=QUICK)
        player.pause()

        page_scroll = page.evaluate("() => window.scrollY")
        player.seek(8.7)
        expect(current).to_contain_text("Note 8:", timeout=QUICK)
        expect(current).to_have_count(1)
        expect(current).to_be_in_viewport()
        page.wait_for_function("l => l.scrollTop > 0", arg=comments.element_handle(), timeout=QUICK)
        self.assertEqual(page.evaluate("() => window.scrollY"), page_scroll, "the page scrolled")

        # A pinned time still seeks, and the list follows it back.
        page.locator("#review .comments > li").first.locator("a.at").click()
        expect(current).to_contain_text("Note 0:", timeout=QUICK)

    def test_writing_a_comment_pauses_the_video_and_pins_it_to_the_frame(self) -> None:
        page, player = self.open_video("A heron lifting off a pond")
        player.play()
        player.wait_until_past(1.2)
        box = page.get_by_label("Add a comment")
        box.click()
        page.wait_for_function("v => v.paused", arg=page.locator("#player").element_handle(), timeout=QUICK)
        paused = self.time(player)
        form = page.locator("form.new-comment")
        pin = form.get_by_label(f"Pin to 0:0{int(paused)}")
        expect(pin).to_be_checked(timeout=QUICK)
        pinned = float(form.locator("input[name=at_seconds]").input_value())
        self.assertAlmostEqual(pinned, paused, delta=0.006)
        box.press_sequentially("The heron's wing clips the frame")
        self.assertEqual(self.time(player), paused, "typing moved the player")
        page.get_by_role("button", name="Comment", exact=True).click()
        expect(page.locator(".comments .comment")).to_contain_text("The heron's wing clips the frame")
        stored = Comment.objects.get(generation=self.video)
        self.assertAlmostEqual(stored.at_seconds or 0, paused, delta=0.006)

        # Played again while the box keeps the focus: the next key typed holds the picture once more.
        box = page.get_by_label("Add a comment")
        box.focus()
        player.play()
        player.wait_until_past(paused + 0.3)
        box.press_sequentially("A")
        page.wait_for_function("v => v.paused", arg=page.locator("#player").element_handle(), timeout=QUICK)
        again = page.locator("form.new-comment").get_by_label(f"Pin to 0:0{int(self.time(player))}")
        expect(again).to_be_checked()

    def test_the_keyboard_plays_pauses_steps_and_opens_the_comment_box(self) -> None:
        page, player = self.open_video("A paper lantern drifting on a lake")
        handle = page.locator("#player").element_handle()
        self.press_on_page(page, " ")
        page.wait_for_function("v => !v.paused && v.currentTime > 0.1", arg=handle, timeout=QUICK)
        page.keyboard.press(" ")
        page.wait_for_function("v => v.paused", arg=handle, timeout=QUICK)

        # On the focused player a space is its own controls': it toggles once.
        page.locator("#player").focus()
        page.keyboard.press(" ")
        page.wait_for_function("v => !v.paused", arg=handle, timeout=QUICK)
        page.wait_for_timeout(300)
        self.assertFalse(handle.evaluate("v => v.paused"))
        self.press_on_page(page, "k")
        page.wait_for_function("v => v.paused", arg=handle, timeout=QUICK)

        player.seek(2)
        steps = ((".", 2 + FRAME), (".", 2 + 2 * FRAME), (",", 2 + FRAME), ("j", 1 + FRAME), ("l", 2 + FRAME))
        for key, to in steps:
            with self.subTest(key=key):
                page.keyboard.press(key)
                self.wait_paused_at(page, to, near=0.001)
        page.keyboard.press("k")
        self.wait_paused_at(page, 2 + FRAME, near=0.001)

        # Space on a focused control presses the control; the player stays as it is.
        shortcuts = page.locator("#shortcuts")
        shortcuts.locator("summary").focus()
        page.keyboard.press(" ")
        expect(shortcuts).to_have_attribute("open", "")
        expect(shortcuts).to_contain_text("Back or forward one frame")
        self.assertTrue(handle.evaluate("v => v.paused"))
        self.press_on_page(page, "?")
        expect(shortcuts).not_to_have_attribute("open", "")

        box = page.get_by_label("Add a comment")
        self.press_on_page(page, "m")
        expect(box).to_be_focused()
        expect(page.locator("form.new-comment").get_by_label("Pin to 0:02")).to_be_checked()
        # Keys typed into the box are the box's.
        page.keyboard.type("j. l,")
        expect(box).to_have_value("j. l,")
        self.wait_paused_at(page, 2 + FRAME, near=0.001)
        pinned = page.locator("form.new-comment input[name=at_seconds]").input_value()
        self.assertAlmostEqual(float(pinned), 2 + FRAME, delta=0.006)

        box.fill("")
        player.seek(0)
        player.play()
        self.press_on_page(page, "c")
        expect(box).to_be_focused()
        page.wait_for_function("v => v.paused", arg=handle, timeout=QUICK)
        # With a modifier, the key is the browser's.
        held = self.time(player)
        self.press_on_page(page, "Control+.")
        self.press_on_page(page, "Alt+l")
        page.wait_for_timeout(300)
        self.assertEqual(self.time(player), held)

    def test_a_review_with_a_drawing_grouped_marks_and_the_keyboard(self) -> None:
        page, player = self.open_video("A kite above the dunes")
        box = {"kind": "box", "colour": "yellow", "width": 0.005, "from": [0.3, 0.3], "to": [0.7, 0.7]}
        Comment.add(
            self.video, self.bob, "The tail, here.", at_seconds=1.0, drawing={"v": 1, "shapes": [box]}
        )
        Comment.add(self.video, self.bob, "And the light dips.", at_seconds=1.0)
        page.reload()
        player.wait_for_metadata()
        # Two comments at one moment: one mark with their count, listing both threads.
        group = page.locator("#marks .mark.group")
        expect(group).to_have_count(1)
        expect(group).to_contain_text("2")
        group.click()
        threads = page.locator(f"#{group.get_attribute('data-mark-list')}")
        expect(threads).to_be_visible()
        expect(threads.locator("li")).to_have_count(2)
        self.wait_paused_at(page, 1.0)

        overlay = page.locator("#player-stage .drawing-overlay")
        expect(overlay).to_be_visible()
        expect(overlay.locator("path.shape-box")).to_have_count(1)
        expect(page.locator(".comments .drawing-thumb")).to_have_count(1)
        # Stepping frame by frame near its moment keeps the drawing; a second on hides it, back shows it.
        self.press_on_page(page, ".")
        self.wait_paused_at(page, 1 + FRAME, near=0.001)
        expect(overlay).to_be_visible()
        self.press_on_page(page, "l")
        self.wait_paused_at(page, 2 + FRAME, near=0.001)
        expect(overlay).to_be_hidden()
        self.press_on_page(page, "j")
        self.press_on_page(page, ",")
        self.wait_paused_at(page, 1.0, near=0.001)
        expect(overlay).to_be_visible()

    def test_a_page_opened_while_the_video_is_made_becomes_a_review_room_when_it_ends(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        page.get_by_label("Orientation").select_option("portrait")
        pk = self.generate(page, "A lighthouse cat watching the waves")[0]
        page.set_viewport_size(WIDE)
        page.goto(f"/generations/{pk}/")
        expect(page.locator("#player")).to_be_visible(timeout=FINISH)
        expect(page.get_by_role("button", name="Ask for a review")).to_be_visible()
        stage, review = self.box(page, "#player-stage"), self.box(page, "#review")
        self.assertGreaterEqual(review["left"], stage["right"])
        shortcuts = page.locator("#shortcuts")
        expect(shortcuts).to_be_visible()
        Player(page, page.locator("#player")).wait_for_metadata()
        self.press_on_page(page, "l")
        self.wait_paused_at(page, 1)
        self.press_on_page(page, "c")
        expect(page.get_by_label("Add a comment")).to_be_focused()
        expect(page.locator("form.new-comment").get_by_label("Pin to 0:01")).to_be_checked()

    def test_it_shows_what_the_video_was_asked_with_beside_it(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        pk, card = self.generate(page, "A kite's shadow on the sand")
        self.wait_until_done(card)
        video = Generation.objects.get(pk=pk)
        GenerationImage.objects.create(
            generation=video, file=ContentFile(png_bytes(320, 180), name="kite.png"), content_type="image/png"
        )
        with video.video.open("rb") as source:
            clip = default_storage.save("characters/tests/pilot.mp4", File(source))
        Generation.objects.filter(pk=pk).update(character_clip=clip, character_start=1, character_end=3)
        page.set_viewport_size(WIDE)
        page.goto(f"/generations/{pk}/")

        references = page.get_by_role("complementary", name="Asked with")
        image = references.get_by_role("img", name="Reference image 1")
        expect(image).to_be_visible()
        page.wait_for_function("i => i.complete && i.naturalWidth === 320", arg=image.element_handle())
        thumbnail = references.locator("a.clip video")
        page.wait_for_function("v => v.readyState >= 1", arg=thumbnail.element_handle(), timeout=QUICK)
        expect(references.locator("a.clip")).to_contain_text("Character clip (1–3 s)")
        left, review = self.box(page, "#references"), self.box(page, "#review")
        self.assertLessEqual(left["right"], review["left"])
        self.assertLess(left["top"], review["bottom"])

        image.click()
        dialog = page.get_by_role("dialog", name="Reference")
        expect(dialog.locator("img")).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        references.locator("a.clip").click()
        page.wait_for_function(
            "v => v.readyState >= 1", arg=dialog.locator("video").element_handle(), timeout=QUICK
        )
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()

    def test_a_mark_for_two_comments_still_lists_both_in_the_room(self) -> None:
        page, player = self.open_video("A heron over the reeds")
        Comment.add(self.video, self.bob, "The wing clips the frame.", at_seconds=2.0)
        Comment.add(self.video, self.bob, "The reeds flicker.", at_seconds=2.4)
        page.reload()
        player.wait_for_metadata()
        mark = page.get_by_role("button", name="Go to 0:02, 2 comments")
        mark.click()
        threads = page.get_by_role("list", name="Comments at 0:02")
        expect(threads).to_be_in_viewport(timeout=QUICK)
        expect(threads.get_by_role("listitem")).to_have_count(2)
        self.wait_paused_at(page, 2)
        # The later of the two is the one passed last once the player reaches it.
        player.seek(2.5)
        current = page.locator("#review .comments > li[aria-current=true]")
        expect(current).to_contain_text("The reeds flicker.")

    def test_it_is_a_room_at_1366_px_and_one_column_at_390_in_every_look(self) -> None:
        self.open_video("A kite over the dunes at noon", comments=4)
        for look, page in self.in_every_look("bob", f"/generations/{self.video.pk}/", "#player"):
            with self.subTest(**look):
                stage, review = self.box(page, "#player-stage"), self.box(page, "#review")
                if look["width"] == 1366:
                    self.assertGreaterEqual(review["left"], stage["right"])
                    self.assertLessEqual(review["bottom"], 900)
                else:
                    self.assertGreaterEqual(review["top"], stage["bottom"])
                widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                self.assertLessEqual(widths[0], widths[1])

    def test_on_a_phone_it_is_one_column_with_nothing_sideways(self) -> None:
        page, player = self.open_video("A kite over the dunes at dusk", comments=3)
        page.set_viewport_size({"width": 390, "height": 844})
        stage, review = self.box(page, "#player-stage"), self.box(page, "#review")
        self.assertGreaterEqual(review["top"], stage["bottom"])
        widths: Any = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        self.assertLessEqual(widths[0], widths[1])
        # The list does not scroll on its own here: following playback leaves the page where it is.
        scroll = page.evaluate("() => window.scrollY")
        player.seek(2.6)
        expect(page.locator("#review .comments > li[aria-current=true]")).to_contain_text("Note 2:")
        self.assertEqual(page.evaluate("() => window.scrollY"), scroll)
