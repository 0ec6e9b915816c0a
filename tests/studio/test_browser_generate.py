"""End to end in Chromium: log in, make videos, watch and download them, meet a refusal and a mistyped form,
open a video's own page, and stay within one's team. A real queue worker makes every video with the
built-in simulator (see tests/browser.py for the topology)."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error, Locator, Route

from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Event, Generation
from tests.browser import FINISH, LIVE_STATES, QUICK, BrowserTestCase, Player, expect

# Playwright's sync API keeps an event loop in this thread; the tests' own ORM calls are plain and blocking.

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Remembers every state the newest card shows, and would be wiped by a reload.
RECORD_CARD_STATES = """() => {
  window.__cardStates = [];
  setInterval(() => {
    const card = document.querySelector("#gallery article.card");
    const states = window.__cardStates;
    if (card && states[states.length - 1] !== card.dataset.state) states.push(card.dataset.state);
  }, 50);
}"""


@pytest.mark.browser
class TestGenerateWithCallbacks(BrowserTestCase):
    """The worker asks for callbacks (PUBLIC_BASE_URL is the live server) and the simulator makes them."""

    callbacks = True

    def setUp(self) -> None:
        super().setUp()
        self.member("alice", "Harbour")

    def test_it_logs_in_and_makes_a_25_second_pro_video(self) -> None:
        page = self.page
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("not-her-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text(
            "Your username and password did not match. Try again.", timeout=QUICK
        )
        expect(page.get_by_label("Username")).to_have_value("alice")
        page.get_by_label("Password").fill("alice-pass-123")
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{self.live_server_url}/", timeout=QUICK)
        expect(page.get_by_role("heading", name="New video")).to_be_visible()

        # 25 seconds is shown with Sora 2 but cannot be chosen, and says why; Sora 2 Pro makes it possible.
        model, length = page.get_by_label("Model", exact=True), page.get_by_label("Length")
        longest = length.locator("option[value='25']")
        expect(model).to_have_value("sora-2")
        expect(longest).to_be_disabled()
        expect(longest).to_have_text("25 seconds — 25 seconds needs Sora 2 Pro")
        model.select_option("sora-2-pro")
        expect(longest).to_be_enabled(timeout=QUICK)
        expect(longest).to_have_text("25 seconds")
        length.select_option("25")

        page.evaluate(RECORD_CARD_STATES)
        prompt = "A paper boat drifting down a rain gutter"
        pk, card = self.generate(page, prompt)

        # The card is there at once, live, with its state and either where it waits or, once the video
        # is being made, an estimate of progress (tests/studio/test_browser_waiting.py tells them apart).
        expect(card).to_have_attribute("data-state", LIVE_STATES)
        expect(card.locator(".live .state")).to_have_text(
            re.compile(r"^(Queued|Submitting|Generating|Saving)")
        )
        expect(card.locator(".live progress, .live .waiting").first).to_be_visible()
        expect(card.locator(".params")).to_have_text("Sora 2 Pro · v1.0 · 25 s · Standard · landscape")

        self.wait_until_done(card)
        expect(card.get_by_role("link", name=f"Video: {prompt}")).to_be_visible()  # its poster
        # The recorder samples every 50 ms, and a busy page runs its timers late: let it see the end.
        page.wait_for_function(
            "() => window.__cardStates && window.__cardStates.at(-1) === 'succeeded'", timeout=QUICK
        )
        states = page.evaluate("() => window.__cardStates")
        self.assertIsNotNone(states, "the page was reloaded")
        self.assertEqual((states[0], states[-1]), ("queued", "succeeded"), states)

        with page.expect_download(timeout=QUICK) as download_info:
            self.card_menu(card).get_by_role("link", name="Download").click()
        download = download_info.value
        self.assertEqual(
            download.suggested_filename, "a-paper-boat-drifting-down-a-rain-gutter-sora-2-pro-25s.mp4"
        )
        data = Path(download.path()).read_bytes()
        self.assertEqual(data[4:8], b"ftyp")
        self.assertEqual(len(data), Generation.objects.get(pk=pk).size_bytes)

        # The poster opens the video's page, where it plays.
        card.get_by_role("link", name=f"Video: {prompt}").click()
        expect(page).to_have_url(f"{self.live_server_url}/generations/{pk}/", timeout=QUICK)
        player = Player(page, page.locator("#player"))
        self.assertAlmostEqual(player.wait_for_metadata()["duration"], 25, delta=0.25)
        player.play()
        player.wait_until_past(0.5)
        player.pause()
        self.assertAlmostEqual(player.seek(7), 7, delta=0.5)
        player.play()
        player.wait_until_past(7.2)  # it plays on from the middle: the server answers range requests
        player.pause()

    def test_it_explains_a_refused_prompt_and_offers_edit_and_retry(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        page.get_by_label("Model", exact=True).select_option("sora-2-pro")
        quality = page.get_by_label("Quality")
        expect(quality.locator("option[value='large']")).to_be_enabled(timeout=QUICK)
        quality.select_option("large")
        page.get_by_label("Length").select_option("10")
        page.get_by_label("Orientation").select_option("portrait")

        prompt = "A real person waving from a balcony at sunset"
        pk, card = self.generate(page, prompt)
        self.wait_until_done(card, "failed")

        failure = card.get_by_role("alert")
        expect(failure.locator("strong")).to_have_text("Failed")
        expect(failure).to_contain_text(
            "The video was refused because the prompt or a reference seems to show a real person"
        )
        expect(failure.locator("dt:text-is('Code') + dd")).to_have_text("content_policy_violation")
        expect(failure.locator("dt:text-is('Trace id') + dd")).to_have_text(UUID)
        expect(card.locator("video")).to_have_count(0)
        expect(self.card_menu(card).get_by_role("link", name="Download")).to_have_count(0)

        card.get_by_role("link", name="Edit & retry").click()
        expect(page).to_have_url(f"{self.live_server_url}/?from={pk}#compose", timeout=QUICK)
        expect(page.get_by_label("Describe the video")).to_have_value(prompt)
        expect(page.get_by_label("Model", exact=True)).to_have_value("sora-2-pro")
        expect(page.get_by_label("API version")).to_have_value("1.0")
        expect(page.get_by_label("Length")).to_have_value("10")
        expect(page.get_by_label("Quality")).to_have_value("large")
        expect(page.get_by_label("Orientation")).to_have_value("portrait")

    def test_it_explains_a_refusal_sent_under_a_generic_code_and_leads_with_edit_and_retry(self) -> None:
        # The simulator refuses "[sim:refused]" under AceDataCloud's generic `api_error`, as the real one
        # does; only its message says why (issue #12, item 10).
        page = self.page
        self.log_in(page, "alice")
        prompt = "[sim:refused] Two dancers on a rooftop at dusk"
        pk, card = self.generate(page, prompt)
        self.wait_until_done(card, "failed")

        failure = card.get_by_role("alert")
        expect(failure).to_contain_text(
            "The video was refused because the prompt or a reference seems to show a real person"
        )
        expect(failure).not_to_contain_text("internal problem")
        expect(failure.locator(".upstream-message")).to_have_text(
            "The service said: “The request was rejected by the content policy: it appears to depict "
            "real people.”"
        )
        # Edit & retry is the main action, before Re-run: the same request would be refused again.
        first_action = card.locator(".actions > :first-child")
        expect(first_action).to_have_text("Edit & retry")
        expect(first_action).to_have_class(re.compile(r"\bprimary\b"))
        expect(self.card_menu(card).get_by_role("button", name="Re-run")).not_to_have_class(
            re.compile(r"\bprimary\b")
        )

        first_action.click()
        expect(page).to_have_url(f"{self.live_server_url}/?from={pk}#compose", timeout=QUICK)
        expect(page.get_by_label("Describe the video")).to_have_value(prompt)

    def test_it_shows_the_api_call_of_a_draft_with_its_callback_address(self) -> None:
        # With PUBLIC_BASE_URL set the preview answered 500: a draft has no callback token (item 12).
        page = self.page
        self.log_in(page, "alice")
        page.get_by_label("Describe the video").fill("A paper boat in the rain")
        page.get_by_role("button", name="Show the API call").click()
        preview = page.get_by_role("region", name="The API call")
        expect(preview).to_contain_text(
            "This is what would be sent. Nothing has been created.", timeout=QUICK
        )
        call = preview.locator("pre.api-call")
        expect(call).to_contain_text("POST /sora/videos")
        expect(call).to_contain_text('"prompt": "A paper boat in the rain"')
        expect(call).to_contain_text(f'"callback_url": "{self.live_server_url}/callbacks/acedata/…/"')
        self.assertFalse(Generation.objects.exists())

    def test_it_keeps_what_was_typed_when_the_input_is_wrong(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        prompt = page.get_by_label("Describe the video")

        # An empty prompt gets the studio's own words beside the field, not the browser's bubble.
        page.get_by_role("button", name="Generate video").click()
        expect(page.locator("#err-prompt")).to_have_text("Describe the video you want.", timeout=QUICK)
        self.assertFalse(prompt.evaluate("el => el.validity.valueMissing"))

        page.get_by_label("Model", exact=True).select_option("sora-2-pro")
        expect(page.locator("#id_duration option[value='25']")).to_be_enabled(timeout=QUICK)
        page.get_by_label("Length").select_option("10")
        page.get_by_label("Orientation").select_option("portrait")
        page.get_by_label("Image addresses, one per line").fill("https://example.com/sketch.png")
        page.get_by_label("Clip address").fill("https://example.com/my-character.mp4")
        page.get_by_label("Appears at (s)").fill("2")
        page.get_by_label("Until (s)").fill("7")
        prompt.fill("   ")  # blank, which only the server can tell
        page.get_by_role("button", name="Generate video").click()

        expect(page.locator("#err-prompt")).to_have_text("Describe the video you want.", timeout=QUICK)
        expect(prompt).to_have_attribute("aria-invalid", "true")
        expect(prompt).to_have_accessible_description("Describe the video you want.")
        until = page.get_by_label("Until (s)")
        expect(until).to_have_accessible_description(
            "The character's part of the clip must last 1 to 3 seconds (it is 5 now)."
        )
        self.assertEqual(len(posts), 2, posts)

        # Nothing typed or chosen is lost.
        expect(page.get_by_label("Model", exact=True)).to_have_value("sora-2-pro")
        expect(page.get_by_label("Length")).to_have_value("10")
        expect(page.get_by_label("Orientation")).to_have_value("portrait")
        expect(page.get_by_label("Image addresses, one per line")).to_have_value(
            "https://example.com/sketch.png"
        )
        expect(page.get_by_label("Clip address")).to_have_value("https://example.com/my-character.mp4")
        expect(page.get_by_label("Appears at (s)")).to_have_value("2")
        expect(until).to_have_value("7")

        # And no video was started.
        expect(page.locator("#gallery article")).to_have_count(0)
        expect(page.get_by_text("No videos yet")).to_be_visible()
        self.assertFalse(Generation.objects.exists())

    def test_the_prompt_counts_its_characters_and_a_long_one_is_refused_beside_it(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        prompt = page.get_by_label("Describe the video")
        counter = page.locator("#prompt-count")
        prompt.fill("A paper boat in the rain")
        expect(counter).to_have_text("24 / 4,000 characters", timeout=QUICK)
        expect(counter).not_to_have_class(re.compile(r"\bover\b"))

        page.get_by_label("Each line is its own video (a batch)").check()
        prompt.fill("A fox\nA lighthouse at night")
        expect(counter).to_have_text("Longest line: 21 / 4,000 characters", timeout=QUICK)
        page.get_by_label("Each line is its own video (a batch)").uncheck()

        prompt.fill("a" * 50_000)
        expect(counter).to_have_text("50,000 characters: keep each prompt under 4,000.", timeout=QUICK)
        expect(counter).to_have_class(re.compile(r"\bover\b"))
        page.get_by_role("button", name="Generate video").click()
        refusal = "Keep each prompt under 4000 characters."
        expect(page.locator("#err-prompt")).to_have_text(refusal, timeout=QUICK)
        expect(prompt).to_have_accessible_description(refusal)
        # The form the server sends back is counted too.
        expect(page.locator("#prompt-count")).to_have_text(
            "50,000 characters: keep each prompt under 4,000.", timeout=QUICK
        )
        self.assertFalse(Generation.objects.exists())

    def test_the_cost_follows_a_quick_change_of_mind_without_aborting_a_request(self) -> None:
        """htmx reports an aborted request on the console as the error htmx:sendAbort: a change while the
        cost is on its way waits for it instead, and the cost ends as the last choice asks."""
        page = self.page
        said: list[str] = []
        page.on("console", lambda m: said.append(m.text) if m.type == "error" or "htmx:" in m.text else None)
        self.log_in(page, "alice")
        one = int(page.locator("#cost .cost-total").get_attribute("data-credits") or 0)
        held: list[Route] = []
        page.route("**/compose/cost?*", lambda route: held.append(route))
        variations = page.get_by_label("Variations")
        variations.select_option("2")
        for _ in range(100):  # the first cost is on its way, and held there
            if held:
                break
            page.wait_for_timeout(50)
        self.assertTrue(held, "no cost was asked for")
        variations.select_option("3")
        page.wait_for_timeout(300)
        page.unroute("**/compose/cost?*")
        for route in held:
            with contextlib.suppress(Error):  # one the page aborted is gone
                route.continue_()
        cost = page.locator("#cost .cost-total")
        expect(cost).to_have_attribute("data-credits", str(3 * one), timeout=QUICK)
        self.assertEqual(said, [])

    def test_it_shows_a_finished_video_on_its_own_page(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        page.get_by_label("Length").select_option("10")
        page.get_by_label("Orientation").select_option("portrait")
        prompt = "A lighthouse cat watching the waves at night"
        pk, card = self.generate(page, prompt)
        # Opened while the video is being made (it takes 2 s here): when it ends, the page gets its player,
        # the file's facts, the timeline and the review panel without a reload.
        card.get_by_role("link", name=prompt, exact=True).click()
        expect(page).to_have_url(f"{self.live_server_url}/generations/{pk}/", timeout=QUICK)
        expect(page.get_by_role("heading", name=prompt)).to_be_visible()
        expect(page.locator("#player")).to_be_visible(timeout=FINISH)
        self.assertTrue(Event.objects.filter(generation_id=pk, kind="callback").exists())
        expect(page.get_by_role("button", name="Ask for a review")).to_be_visible()

        player = Player(page, page.locator("#player"))
        shape = player.wait_for_metadata()
        self.assertAlmostEqual(shape["duration"], 10, delta=0.25)
        self.assertGreater(shape["height"], shape["width"])  # portrait
        player.play()
        player.wait_until_past(0.5)

        def fact(name: str) -> Locator:
            return page.locator(f".facts dt:text-is('{name}') + dd")

        expect(fact("Made by")).to_contain_text("alice")
        expect(fact("Service")).to_have_text("AceDataCloud (simulated)")
        expect(fact("Model")).to_have_text("Sora 2 (API version 1.0)")
        expect(fact("Length")).to_have_text("10 seconds")
        expect(fact("Size")).to_have_text("Standard")
        expect(fact("Orientation")).to_have_text("Portrait")
        expect(fact("File")).to_have_text(re.compile(rf"^{shape['width']} × {shape['height']}, 10\.0 s, "))
        expect(fact("Trace id")).to_have_text(UUID)
        # The timeline shows the simulator's call back to the studio.
        expect(page.locator(".timeline")).to_contain_text(re.compile(r"call(ed)? ?back", re.IGNORECASE))
        expect(page.get_by_role("link", name="Download")).to_be_visible()

        call = page.locator("pre.api-call")
        expect(call).to_be_hidden()
        page.get_by_text("Show the API call").click()
        expect(call).to_be_visible()
        first_line, _, body = call.inner_text().partition("\n")
        self.assertEqual(first_line, "POST /sora/videos")
        self.assertEqual(
            json.loads(body),
            {
                "model": "sora-2",
                "prompt": prompt,
                "version": "1.0",
                "duration": 10,
                "size": "small",
                "orientation": "portrait",
                # Exactly what was sent, with the job's secret callback token hidden.
                "callback_url": f"{self.live_server_url}/callbacks/acedata/…/",
            },
        )


@pytest.mark.browser
class TestGenerateByPolling(BrowserTestCase):
    """No PUBLIC_BASE_URL: nobody is called back and the worker's polling alone follows the jobs."""

    callbacks = False

    def setUp(self) -> None:
        super().setUp()
        self.member("alice", "Harbour")

    def test_it_makes_a_version_2_video_in_the_chosen_shape(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        length = page.get_by_label("Length")
        length.select_option("15")
        expect(page.get_by_label("Orientation")).to_be_visible()

        page.get_by_label("API version").select_option("2.0")
        expect(page.locator("#options").get_by_role("status")).to_have_text(
            [
                "Length changed from 15 to 12 seconds: 15 seconds is a version 1.0 length.",
                # Landscape (the orientation as it was) stays landscape.
                "Size changed from Standard to 1280 × 720 (horizontal): "
                "Version 2.0 takes a pixel size instead.",
            ],
            timeout=QUICK,
        )
        expect(length.locator("option")).to_have_text(["4 seconds", "8 seconds", "12 seconds"])
        expect(length.locator("option:disabled")).to_have_count(0)
        expect(length).to_have_value("12")
        size = page.get_by_label("Size", exact=True)
        expect(size.locator("option")).to_have_text(
            [
                "720 × 1280 (vertical)",
                "1280 × 720 (horizontal)",
                "1024 × 1792 (tall, sharper)",
                "1792 × 1024 (wide, sharper)",
            ]
        )
        expect(page.get_by_label("Orientation")).to_have_count(0)

        length.select_option("4")
        size.select_option("1280x720")
        pk, card = self.generate(page, "A paper kite over a windy beach")
        expect(card.locator(".params")).to_have_text("Sora 2 · v2.0 · 4 s · 1280 × 720 (horizontal)")
        # The form is ready for the next prompt, with the same options.
        expect(page.get_by_label("Describe the video")).to_have_value("")
        expect(page.get_by_label("API version")).to_have_value("2.0")
        expect(size).to_have_value("1280x720")

        self.wait_until_done(card)
        card.locator(".poster").hover()  # plays a muted preview over the poster
        player = Player(page, card.locator("video.preview"))
        shape = player.wait_for_metadata()
        self.assertAlmostEqual(shape["duration"], 4, delta=0.25)
        self.assertAlmostEqual(shape["width"] / shape["height"], 1280 / 720, delta=0.02)  # landscape
        player.play()
        player.wait_until_past(0.5)

        task = SimTask.objects.get(id=Generation.objects.get(pk=pk).upstream_task_id)
        self.assertEqual(task.callback_url, "")  # followed by polling alone

    def test_it_keeps_a_video_within_its_team(self) -> None:
        self.member("carol", "Lighthouse")
        alice = self.page
        self.log_in(alice, "alice")
        alice.get_by_label("API version").select_option("2.0")
        expect(alice.get_by_label("Size", exact=True)).to_be_visible(timeout=QUICK)
        alice.get_by_label("Length").select_option("4")
        prompt = "A glass whale over the harbour, a storyboard for the spring campaign"
        pk, card = self.generate(alice, prompt)
        self.wait_until_done(card)
        video_url = f"/generations/{pk}/video.mp4"
        self.assertEqual(alice.request.get(video_url).status, 200)

        carol = self.new_page()
        self.log_in(carol, "carol")
        expect(carol.get_by_role("heading", name="Lighthouse gallery")).to_be_visible()
        expect(carol.locator("#gallery article")).to_have_count(0)
        expect(carol.get_by_text("No videos yet")).to_be_visible()
        expect(carol.get_by_text(prompt)).to_have_count(0)

        for path in (
            f"/generations/{pk}/",
            video_url,
            f"{video_url}?download=1",
            f"/generations/{pk}/poster.jpg",
            f"/?from={pk}",
        ):
            response = carol.goto(path)
            assert response is not None
            self.assertEqual(response.status, 404, path)
