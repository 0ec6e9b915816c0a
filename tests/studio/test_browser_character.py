"""The character picker in Chromium: pick a clip, play it, mark the character's part with the player's
"Set start here" / "Set end here", be stopped plainly when the part is too long, keep the clip across an
options switch, loop the marked part, and find the clip's signed link and the times upstream."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File

from sorastudio.simulator.models import SimTask
from sorastudio.simulator.render import render_video
from sorastudio.studio import characters
from sorastudio.studio.models import Character, Generation
from sorastudio.teams.models import Team
from tests.browser import QUICK, BrowserTestCase, Player, expect, wait_for

# Playwright's sync API keeps an event loop in this thread; the tests' own ORM calls are plain and blocking.

# Remembers how far the player got and whether it came back to the start, while it loops the marked part.
RECORD_LOOP = """v => {
  window.__loop = {furthest: 0, back: false};
  v.addEventListener("timeupdate", () => {
    const loop = window.__loop;
    loop.furthest = Math.max(loop.furthest, v.currentTime);
    if (loop.furthest > 2.5 && v.currentTime < 1.6) loop.back = true;
  });
}"""
FILE_NAMES = "input => [...input.files].map((file) => file.name)"


@pytest.mark.browser
class TestCharacterPicker(BrowserTestCase):
    simulator_seconds = 1.0

    def setUp(self) -> None:
        super().setUp()
        self.member("alice", "Harbour")
        self.clip = Path(self.data_dir) / "clay-fox.mp4"
        if not self.clip.exists():
            render_video(self.clip, prompt="A clay fox", width=320, height=180, seconds=8)

    def test_it_marks_the_part_on_the_clip_and_sends_both_upstream(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        fieldset = page.locator("fieldset.character")
        expect(fieldset.get_by_text("Clips showing real people are refused")).to_be_visible()
        start = page.get_by_label("Appears at (s)")
        end = page.get_by_label("Until (s)")
        message = fieldset.locator("[data-clip-message]")
        span = fieldset.locator("[data-clip-span]")

        page.get_by_label("Or pick a clip from your computer").set_input_files(str(self.clip))
        player = Player(page, fieldset.locator("video"))
        self.assertAlmostEqual(player.wait_for_metadata()["duration"], 8, delta=0.1)
        expect(fieldset.locator("[data-clip-length]")).to_have_text("8.0 s")
        expect(message).to_have_text(re.compile("press “Set start here”"))
        player.play()
        player.wait_until_past(0.3)
        player.pause()

        # The player's time is taken to the nearest whole second, and the message says so.
        player.seek(1.2)
        page.get_by_role("button", name="Set start here").click()
        expect(start).to_have_value("1")
        expect(message).to_have_text(
            "The player was at 1.2 s, taken as 1 s: the service takes whole seconds. "
            "Start: 1 s. Now set the end 1 to 3 seconds later, between 2 and 4 s."
        )

        # Five seconds is too long: said plainly, shown on the bar, and not put in the form.
        player.seek(6)
        page.get_by_role("button", name="Set end here").click()
        expect(message).to_have_text(
            "The part must last 1 to 3 seconds, and this would be 5 s: move the end to between 2 and 4 s."
        )
        expect(span).to_have_class(re.compile(r"\brefused\b"))
        expect(end).to_have_value("")
        expect(start).to_have_value("1")
        expect(page.get_by_role("button", name="Play the marked part")).to_be_disabled()

        player.seek(3)
        page.get_by_role("button", name="Set end here").click()
        expect(end).to_have_value("3")
        expect(start).to_have_value("1")
        expect(message).to_have_text("Marked: 1 s to 3 s (2 s). “Play the marked part” to check it.")
        expect(span).not_to_have_class(re.compile(r"\brefused\b"))
        self.assertEqual(span.evaluate("s => [s.style.left, s.style.width]"), ["12.5%", "25%"])

        # Switching the model re-renders the options: the clip, the times and the player come back.
        page.get_by_label("Model", exact=True).select_option("sora-2-pro")
        expect(page.locator("#id_duration option[value='25']")).to_be_enabled(timeout=QUICK)
        clip_input = page.get_by_label("Or pick a clip from your computer")
        page.wait_for_function("i => i.files.length > 0", arg=clip_input.element_handle(), timeout=QUICK)
        self.assertEqual(clip_input.evaluate(FILE_NAMES), ["clay-fox.mp4"])
        expect(start).to_have_value("1")
        expect(end).to_have_value("3")
        player = Player(page, fieldset.locator("video"))
        player.wait_for_metadata()
        expect(message).to_have_text(re.compile(r"^Marked: 1 s to 3 s"))

        # "Play the marked part" goes round from 1 s to 3 s until stopped.
        player.video.evaluate(RECORD_LOOP)
        page.get_by_role("button", name="Play the marked part").click()
        page.wait_for_function("() => window.__loop.back", timeout=QUICK)
        loop: dict[str, Any] = page.evaluate("() => window.__loop")
        self.assertLess(loop["furthest"], 3.4)
        page.get_by_role("button", name="Stop playing the part").click()
        page.wait_for_function("v => v.paused", arg=player.video.element_handle(), timeout=QUICK)

        pk, card = self.generate(page, "A clay fox waving at the camera")
        self.wait_until_done(card)
        generation = Generation.objects.get(pk=pk)
        self.assertEqual(generation.model, "sora-2-pro")
        wait_for(lambda: SimTask.objects.filter(pk=generation.upstream_task_id).exists())
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request
        self.assertEqual((sent["character_start"], sent["character_end"]), (1, 3))
        self.assertTrue(sent["character_url"].startswith(f"{self.live_server_url}/clips/"), sent)
        fetched = page.context.request.get(sent["character_url"])
        self.assertEqual(fetched.status, 200)
        self.assertEqual(fetched.body(), self.clip.read_bytes())
        # The form is fresh for the next video: no clip, no times.
        expect(start).to_have_value("")
        expect(page.get_by_label("Or pick a clip from your computer")).to_have_value("")

    def test_a_saved_character_fills_the_times_and_plays_its_clip(self) -> None:
        with self.clip.open("rb") as fh:
            stored = characters.store_clip(File(fh, name="clay-fox.mp4"))
        fox = Character.objects.create(
            team=Team.objects.get(name="Harbour"), name="Clay Fox", clip=stored, start=2, end=4
        )
        page = self.page
        self.log_in(page, "alice")
        page.get_by_label("Use a saved character").select_option(label="Clay Fox (2–4 s)")
        expect(page.get_by_label("Appears at (s)")).to_have_value("2")
        expect(page.get_by_label("Until (s)")).to_have_value("4")
        fieldset = page.locator("fieldset.character")
        player = Player(page, fieldset.locator("video"))
        self.assertAlmostEqual(player.wait_for_metadata()["duration"], 8, delta=0.1)
        expect(fieldset.locator("[data-clip-message]")).to_have_text(re.compile(r"^Marked: 2 s to 4 s"))

        pk, card = self.generate(page, "The clay fox again, now in the rain")
        self.wait_until_done(card)
        generation = Generation.objects.get(pk=pk)
        self.assertEqual(generation.character, fox)
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request
        self.assertEqual((sent["character_start"], sent["character_end"]), (2, 4))
