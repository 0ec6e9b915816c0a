"""In Chromium: the second provider and the iteration loop. A Sora2API video with a watermark, four
variations on one card, a batch of five prompts, a re-run and an edit & retry, each made by the real queue
worker on the simulator (tests/browser.py)."""

from __future__ import annotations

import re

import pytest

from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation
from tests.browser import FINISH, QUICK, BrowserTestCase, Player, expect


@pytest.mark.browser
class TestIteration(BrowserTestCase):
    simulator_seconds = 1.5

    def setUp(self) -> None:
        super().setUp()
        self.member("alice", "Studio")
        self.log_in(self.page, "alice")

    def test_it_makes_a_sora2api_video_with_a_watermark(self) -> None:
        page = self.page
        page.get_by_label("Service").select_option("sora2api")
        expect(page.get_by_label("Watermark text")).to_be_visible(timeout=QUICK)
        expect(page.get_by_label("API version")).to_have_count(0)
        page.get_by_label("Describe the video").fill("A kite over the dunes at sunset")
        page.get_by_label("Quality").select_option("hd")
        page.get_by_label("Aspect ratio").select_option("portrait")
        page.get_by_label("Watermark text").fill("Dune Studio")
        (pk,) = self.submitted(self.page)

        card = page.locator(f"#card-{pk}")
        expect(card).to_have_attribute("data-state", "succeeded", timeout=FINISH)
        expect(card.locator(".params")).to_contain_text("Sora2API")
        expect(card.locator(".params")).to_contain_text("watermark “Dune Studio”")
        card.locator(".poster").hover()  # plays a muted preview over the poster
        player = Player(page, card.locator("video.preview"))
        info = player.wait_for_metadata()
        self.assertLess(info["width"], info["height"])
        self.assertAlmostEqual(info["duration"], 10, delta=0.2)
        sent = SimTask.objects.get(pk=Generation.objects.get(pk=pk).upstream_task_id).request
        self.assertEqual(
            (sent["watermark"], sent["quality"], sent["aspectRatio"]), ("Dune Studio", "hd", "portrait")
        )

    def test_it_puts_four_variations_side_by_side_with_a_link_to_compare_them(self) -> None:
        page = self.page
        page.get_by_label("Describe the video").fill("A paper lantern drifting on a lake")
        page.get_by_label("Variations").select_option("4")
        ids = self.submitted(self.page)
        self.assertEqual(len(ids), 4)

        group = page.locator(".group-card")
        expect(group).to_have_count(1, timeout=QUICK)
        expect(group).to_contain_text("4 variations")
        for pk in ids:
            expect(group.locator(f"#card-{pk}")).to_have_attribute("data-state", "succeeded", timeout=FINISH)
        boxes = [group.locator(f"#card-{pk}").bounding_box() for pk in ids[:2]]
        assert boxes[0] is not None
        assert boxes[1] is not None
        self.assertAlmostEqual(boxes[0]["y"], boxes[1]["y"], delta=2)  # side by side, not stacked

        # The compare page plays them together; the group card links there with all four.
        compare = group.get_by_role("link", name="Compare")
        expect(compare).to_have_attribute("href", "/compare/?" + "&".join(f"ids={pk}" for pk in ids))

    def test_it_makes_one_video_per_line_of_a_batch(self) -> None:
        page = self.page
        prompts = [f"Scene {n}: a fox crossing a snowy field" for n in range(1, 6)]
        page.get_by_label("Describe the video").fill("\n".join(prompts))
        page.get_by_label("Each line is its own video").check()
        ids = self.submitted(self.page)
        self.assertEqual(len(ids), 5)
        for pk in ids:
            expect(page.locator(f"#card-{pk}")).to_have_attribute("data-state", "succeeded", timeout=FINISH)
        self.assertEqual(sorted(Generation.objects.values_list("prompt", flat=True)), prompts)
        expect(page.get_by_label("Describe the video")).to_have_value("")

    def test_it_reruns_one_video_and_edits_and_retries_another(self) -> None:
        page = self.page
        page.get_by_label("Describe the video").fill("A tram crossing a bridge in the rain")
        page.get_by_label("Model").select_option("sora-2-pro")
        page.get_by_label("Length").select_option("25")
        (first,) = self.submitted(self.page)
        card = page.locator(f"#card-{first}")
        expect(card).to_have_attribute("data-state", "succeeded", timeout=FINISH)

        self.card_menu(card).get_by_role("button", name="Re-run").click()
        again = page.locator("#gallery article.card").first
        expect(again).not_to_have_id(f"card-{first}", timeout=QUICK)
        expect(again).to_have_attribute("data-state", "succeeded", timeout=FINISH)
        rerun = Generation.objects.exclude(pk=first).get()
        self.assertEqual(rerun.parent_id, Generation.objects.get(pk=first).pk)
        self.assertEqual(
            (rerun.model, rerun.duration, rerun.prompt),
            ("sora-2-pro", 25, "A tram crossing a bridge in the rain"),
        )

        self.card_menu(card).get_by_role("link", name="Edit & retry").click()
        expect(page.get_by_label("Describe the video")).to_have_value("A tram crossing a bridge in the rain")
        expect(page.get_by_label("Model")).to_have_value("sora-2-pro")
        expect(page.get_by_label("Length")).to_have_value("25")
        page.get_by_label("Describe the video").fill("A tram crossing a bridge in the snow")
        (edited,) = self.submitted(self.page)
        expect(page.locator(f"#card-{edited}")).to_have_attribute("data-state", "succeeded", timeout=FINISH)
        self.assertEqual(Generation.objects.get(pk=edited).duration, 25)

    def test_it_refuses_impossible_choices_before_and_after_sending(self) -> None:
        page = self.page
        length = page.get_by_label("Length")
        expect(length.locator("option[value='25']")).to_be_disabled()
        expect(length.locator("option[value='25']")).to_have_text(re.compile("25 seconds needs Sora 2 Pro"))
        page.get_by_label("Describe the video").fill("x" * 10)
        page.get_by_label("Variations").select_option("4")
        page.get_by_label("Each line is its own video").check()
        page.get_by_label("Describe the video").fill("\n".join(f"prompt {n}" for n in range(6)))
        page.get_by_role("button", name="Generate video").click()
        expect(page.locator("#err-prompt")).to_contain_text("24 videos at once", timeout=QUICK)
        self.assertEqual(Generation.objects.count(), 0)
