"""In Chromium: the review of real videos made by the queue worker on the simulator. A comment pinned to the
player's moment and a mark that seeks there, two variations played in step on the compare page, and the
whole story with three people in two teams: alice makes a video, bob rejects it with a comment pinned at 0:03,
alice re-runs it and bob approves the re-run, while carol, in another team, reaches none of it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from sorastudio.studio.models import Comment, Generation
from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, Player, expect
from tests.helpers import make_member

# The player's time, within what a seek to a whole second may land on.
NEAR = 0.3


@pytest.mark.browser
class TestReview(BrowserTestCase):
    simulator_seconds = 1.0

    def setUp(self) -> None:
        super().setUp()
        studio, _ = Team.objects.get_or_create(name="Studio")
        agency, _ = Team.objects.get_or_create(name="Agency")
        make_member("alice", studio, Membership.Role.CREATOR)
        make_member("bob", studio, Membership.Role.REVIEWER)
        make_member("carol", agency, Membership.Role.ADMIN)

    def submit(self, page: Page, prompt: str) -> str:
        """Describe a video, press "Generate video" and wait until it is ready; its id."""
        pk, card = self.generate(page, prompt)
        self.wait_until_done(card)
        return pk

    def rerun(self, page: Page, pk: str) -> str:
        """Press "Re-run" on a video's page and wait until the re-run is ready; its id."""
        page.goto(f"/generations/{pk}/")
        page.get_by_role("button", name="Re-run").click()
        expect(page).to_have_url(f"{self.live_server_url}/", timeout=QUICK)
        again = str(Generation.objects.filter(parent__pk=pk).latest("created_at").pk)
        self.wait_until_done(page.locator(f"#card-{again}"))
        return again

    @staticmethod
    def at(page: Page, seconds: float) -> None:
        """Wait until the video's page player is paused at `seconds`."""
        page.wait_for_function(
            "([v, t, near]) => v.paused && Math.abs(v.currentTime - t) < near",
            arg=[page.locator("#player").element_handle(), seconds, NEAR],
            timeout=QUICK,
        )

    def test_it_pins_a_comment_to_the_moment_and_seeks_back_to_it(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        pk = self.submit(page, "A red kite over the dunes at noon")
        page.goto(f"/generations/{pk}/")

        player = Player(page, page.locator("#player"))
        player.wait_for_metadata()
        player.seek(3)
        pin = page.get_by_label("Pin to 0:03")
        expect(pin).to_be_checked(timeout=QUICK)
        expect(page.get_by_label("At (m:ss)")).to_be_hidden()
        page.get_by_label("Add a comment").fill("The kite dips behind the dune here.")
        page.get_by_role("button", name="Comment", exact=True).click()

        comment = page.locator(".comments .comment").filter(has_text="The kite dips behind the dune here.")
        expect(comment).to_be_visible(timeout=QUICK)
        expect(comment.locator("a.at")).to_have_text("0:03")
        expect(page.locator("#marks .mark")).to_have_count(1)
        expect(page.locator("#timeline")).to_contain_text("Commented at 0:03 — alice")

        page.reload()
        player.wait_for_metadata()
        self.assertLess(player.info()["time"], NEAR)
        page.locator("#marks .mark").click()
        self.at(page, 3)
        player.seek(7)
        page.locator(".comments a.at").click()
        self.at(page, 3)

    def test_a_mark_for_two_comments_at_one_moment_lists_both_threads(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        pk = self.submit(page, "A heron lifting off a pond")
        video = Generation.objects.get(pk=pk)
        alice, bob = (Membership.objects.get(user__username=name).user for name in ("alice", "bob"))
        Comment.add(video, bob, "The heron's wing clips the frame.", at_seconds=2.0)
        reeds = Comment.add(video, alice, "And the reeds flicker.", at_seconds=2.4)
        page.goto(f"/generations/{pk}/")
        player = Player(page, page.locator("#player"))
        player.wait_for_metadata()

        mark = page.get_by_role("button", name="Go to 0:02, 2 comments")
        expect(page.locator("#marks .mark")).to_have_count(1)
        expect(mark.locator("[aria-hidden=true]")).to_have_text("2")
        threads = page.get_by_role("list", name="Comments at 0:02")
        expect(threads).to_be_hidden()
        mark.click()
        expect(threads).to_be_visible(timeout=QUICK)
        expect(threads.get_by_role("listitem")).to_have_text(
            ["bob: The heron's wing clips the frame.", "alice: And the reeds flicker."]
        )
        expect(mark).to_have_attribute("aria-expanded", "true")
        self.at(page, 2)
        threads.get_by_role("link", name="alice: And the reeds flicker.").click()
        expect(page).to_have_url(re.compile(f"#comment-{reeds.pk}$"))
        expect(page.locator(f"#comment-{reeds.pk}")).to_be_in_viewport()
        mark.focus()
        page.keyboard.press("Enter")
        expect(threads).to_be_hidden(timeout=QUICK)

    def test_it_plays_pauses_and_seeks_a_video_and_its_rerun_together(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        first = self.submit(page, "A paper lantern drifting on a lake")
        second = self.rerun(page, first)
        page.goto(f"/generations/{first}/")
        page.get_by_role("link", name="Compare with its re-runs").click()
        expect(page.get_by_role("heading", name="Compare videos")).to_be_visible(timeout=QUICK)
        # The two prompts are the same: the columns' titles tell the videos apart, for eyes and ears.
        expect(page.locator(".compare-item h2")).to_have_text(["Original", "Re-run of the original"])
        expect(page.locator(f"video[src='/generations/{second}/video.mp4']")).to_have_accessible_name(
            "Re-run of the original"
        )

        videos = [
            Player(page, page.locator(f"video[src='/generations/{pk}/video.mp4']")) for pk in (first, second)
        ]
        for video in videos:
            video.wait_for_metadata()
        grid = page.locator(".compare-grid").element_handle()
        every = "g => [...g.querySelectorAll('video')].every"

        page.get_by_role("button", name="Play all").click()
        page.wait_for_function(f"{every}(v => !v.paused && v.currentTime > 0.3)", arg=grid, timeout=QUICK)

        page.get_by_label("Position in every video").fill("5")
        page.wait_for_function(
            f"{every}(v => v.currentTime >= 4.9 && v.currentTime < 8)", arg=grid, timeout=QUICK
        )
        times = [video.info()["time"] for video in videos]
        self.assertLess(abs(times[0] - times[1]), NEAR)

        page.get_by_role("button", name="Pause all").click()
        page.wait_for_function(f"{every}(v => v.paused)", arg=grid, timeout=QUICK)
        page.get_by_label("Position in every video").fill("2")
        page.wait_for_function(f"{every}(v => v.paused && Math.abs(v.currentTime - 2) < 0.05)", arg=grid)
        expect(page.locator("[data-compare-time]")).to_contain_text("0:02 / ")

    def test_a_video_goes_from_rejected_to_an_approved_rerun_within_its_team(self) -> None:
        alice = self.page
        self.log_in(alice, "alice")
        prompt = "A red kite over the dunes, a storyboard for the summer campaign"
        pk = self.submit(alice, prompt)
        alice.locator(f"#card-{pk}").get_by_role("link", name=prompt, exact=True).click()
        alice.get_by_label("Who should review it?").select_option(label="bob")
        alice.get_by_role("button", name="Ask for a review").click()
        expect(alice.locator("[data-review-state]")).to_have_text("In review", timeout=QUICK)

        bob = self.new_page()
        self.log_in(bob, "bob")
        bob.goto(f"/generations/{pk}/")
        player = Player(bob, bob.locator("#player"))
        player.wait_for_metadata()
        player.seek(3)
        decision = bob.locator("form.decide")
        expect(decision.get_by_label("Pin to 0:03")).to_be_checked(timeout=QUICK)
        decision.get_by_label("Comment").fill("The kite vanishes behind the dune: keep it in the frame.")
        decision.get_by_role("button", name="Reject").click()
        expect(bob.locator("[data-review-state]")).to_have_text("Rejected", timeout=QUICK)

        alice.reload()
        expect(alice.locator("[data-review-state]")).to_have_text("Rejected")
        note = alice.locator(".comments .comment").filter(has_text="The kite vanishes behind the dune")
        expect(note).to_contain_text("bob")
        expect(note.locator("a.at")).to_have_text("0:03")
        expect(alice.locator("#timeline")).to_contain_text("Rejected at 0:03 — bob")

        again = self.rerun(alice, pk)
        alice.goto(f"/generations/{again}/")
        alice.get_by_role("button", name="Ask for a review").click()
        expect(alice.locator("[data-review-state]")).to_have_text("In review", timeout=QUICK)

        bob.goto(f"/generations/{again}/")
        bob.locator("form.decide").get_by_role("button", name="Approve").click()
        expect(bob.locator("[data-review-state]")).to_have_text("Approved", timeout=QUICK)
        expect(bob.locator("#timeline")).to_contain_text("Approved — bob")
        alice.reload()
        expect(alice.locator("[data-review-state]")).to_have_text("Approved")

        carol = self.new_page()
        self.log_in(carol, "carol")
        for path in (
            f"/generations/{pk}/",
            f"/generations/{pk}/poster.jpg",
            f"/generations/{pk}/video.mp4?download=1",
            f"/generations/{pk}/comments",
        ):
            with self.subTest(path=path):
                self.assertEqual(carol.request.get(path).status, 404)
        expect(carol.get_by_text(prompt)).to_have_count(0)
