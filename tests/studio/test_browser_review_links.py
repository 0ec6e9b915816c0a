"""In Chromium: a client review link from its making to the guest's approval. alice (an admin) makes a real
video, shares it from its page with a password, and copies the address shown once; a guest in a fresh
browser (no account, no login) opens it, types the password, pins a comment to a moment of the video under
her name and approves it; alice sees the client's verdict, the timeline and the notification; then alice
revokes the link and the guest gets the not-found page, as she does for an expired link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from sorastudio.studio.models import ClientVerdict, Comment, Generation, ReviewLink
from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, Player, expect
from tests.helpers import make_finished, make_member, make_row

NOT_FOUND = "This link opens nothing"


@pytest.mark.browser
class TestClientReviewLinks(BrowserTestCase):
    simulator_seconds = 1.0

    def setUp(self) -> None:
        super().setUp()
        self.studio, _ = Team.objects.get_or_create(name="Studio")
        self.alice = make_member("alice", self.studio, Membership.Role.ADMIN)

    def share(self, page: Page, pk: str, password: str = "") -> str:
        """From the video's page: "Share for review", a title and perhaps a password; the address shown."""
        page.goto(f"/generations/{pk}/")
        page.get_by_role("link", name="Share for review").click()
        page.get_by_label("Title").fill("Spring campaign")
        if password:
            page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Make the link").click()
        address = page.get_by_label("Address of “Spring campaign”")
        expect(address).to_be_visible(timeout=QUICK)
        expect(page.get_by_role("button", name="Copy")).to_be_visible()
        return address.input_value()

    def test_it_takes_a_client_from_the_link_to_the_approval_and_closes_it_on_revoke(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        pk, card = self.generate(page, "A lantern festival over the river at dusk")
        self.wait_until_done(card)
        url = self.share(page, pk, password="lantern-42")
        self.assertIn("/review/", url)

        guest = self.new_page()
        guest.goto(url)
        expect(guest.get_by_role("heading", name="This link has a password")).to_be_visible()
        expect(guest.get_by_text("A lantern festival")).to_have_count(0)
        guest.get_by_label("Password", exact=True).fill("lantern-41")
        guest.get_by_role("button", name="Open").click()
        expect(guest.get_by_text("That is not the password of this link.")).to_be_visible()
        guest.get_by_label("Password", exact=True).fill("lantern-42")
        guest.get_by_role("button", name="Open").click()

        expect(guest.get_by_role("heading", name="Spring campaign")).to_be_visible()
        expect(guest.get_by_text("A lantern festival over the river at dusk")).to_be_visible()
        # Nothing of the team: no header menus, no way into the studio.
        expect(guest.get_by_role("link", name="Log out")).to_have_count(0)
        expect(guest.locator("a[href^='/generations/']")).to_have_count(0)

        player = Player(guest, guest.locator("[data-client-player]"))
        player.wait_for_metadata()
        player.seek(2)
        comment_form = guest.locator("form.client-comment")
        comment_form.get_by_label("Your name").fill("Ms Lee")
        comment_form.get_by_role("button", name="Use the player’s moment").click()
        expect(comment_form.get_by_label("At (m:ss)")).to_have_value("0:02.0")
        comment_form.get_by_label("Your comment").fill("The lanterns could rise more slowly here.")
        comment_form.get_by_role("button", name="Comment").click()
        posted = guest.locator(".comments .comment").filter(has_text="The lanterns could rise more slowly")
        expect(posted).to_be_visible(timeout=QUICK)
        expect(posted.locator("a.at")).to_have_text("0:02")
        self.assertEqual(Comment.objects.get().guest_name, "Ms Lee")

        decide = guest.locator("form.client-decide")
        # Her name, given once, is remembered for the next form.
        expect(decide.get_by_label("Your name")).to_have_value("Ms Lee")
        decide.get_by_role("button", name="Approve").click()
        expect(guest.locator(".client-verdict")).to_contain_text("Approved", timeout=QUICK)
        self.assertEqual(ClientVerdict.objects.get().decision, "approved")

        page.goto(f"/generations/{pk}/")
        expect(page.locator("#client-review")).to_contain_text(
            "Client: approved by Ms Lee, via link “Spring campaign”"
        )
        expect(page.locator(".comments")).to_contain_text("Ms Lee (client)")
        timeline = page.locator("#timeline")
        expect(timeline).to_contain_text("Approved by Ms Lee (client, via “Spring campaign”)")
        self.assertEqual(Generation.objects.get(pk=pk).review_state, "new")
        page.goto("/notifications/")
        expect(page.get_by_text("Ms Lee (client, via “Spring campaign”) approved")).to_be_visible()

        page.goto("/links/")
        link = page.locator(".client-link").filter(has_text="Spring campaign")
        expect(link.locator(".link-state")).to_have_text("Active")
        expect(link).to_contain_text("Ms Lee")
        link.get_by_role("button", name="Revoke “Spring campaign”").click()
        expect(link.locator(".link-state")).to_have_text("Revoked", timeout=QUICK)

        guest.reload()
        expect(guest.get_by_role("heading", name=NOT_FOUND)).to_be_visible()
        expect(guest.get_by_text("A lantern festival")).to_have_count(0)

    def test_it_gives_the_not_found_page_for_an_expired_link(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        pk, card = self.generate(page, "A paper crane on a windowsill")
        self.wait_until_done(card)
        url = self.share(page, pk)

        guest = self.new_page()
        guest.set_viewport_size({"width": 390, "height": 844})
        guest.emulate_media(color_scheme="dark")
        guest.goto(url)
        expect(guest.get_by_text("A paper crane on a windowsill")).to_be_visible()
        # On a phone, nothing of the client's page scrolls sideways.
        self.assertLessEqual(
            guest.evaluate("document.documentElement.scrollWidth"), guest.evaluate("window.innerWidth")
        )
        # Typing a comment pauses the video and pins the comment to that frame.
        player = Player(guest, guest.locator("[data-client-player]"))
        player.wait_for_metadata()
        player.play()
        player.wait_until_past(0.5)
        guest.locator("form.client-comment").get_by_label("Your comment").press_sequentially("Here")
        guest.wait_for_function("v => v.paused", arg=guest.locator("[data-client-player]").element_handle())
        expect(guest.locator("form.client-comment").get_by_label("At (m:ss)")).to_have_value(
            re.compile(r"^0:0\d\.\d$")
        )

        ReviewLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        guest.reload()
        expect(guest.get_by_role("heading", name=NOT_FOUND)).to_be_visible()
        expect(guest.get_by_text("A paper crane")).to_have_count(0)
        page.goto("/links/")
        expect(page.locator(".client-link .link-state")).to_have_text("Expired")

    def test_it_shares_the_galleries_selection_and_only_finished_videos(self) -> None:
        make_member("erin", self.studio, Membership.Role.CREATOR)
        fox = make_finished(self.studio, self.alice, "A red fox in the snow")
        boat = make_finished(self.studio, self.alice, "A paper boat in the rain")
        live = make_row(self.studio, self.alice, "A lighthouse at night")
        page = self.page
        self.log_in(page, "alice")
        toolbar = page.locator("#selection")
        share = toolbar.get_by_role("button", name="Share for review")
        page.locator(f"#card-{live.pk}").get_by_role("checkbox").check()
        expect(share).to_be_hidden()  # one being made cannot be shared
        page.locator(f"#card-{live.pk}").get_by_role("checkbox").uncheck()
        page.locator(f"#card-{fox.pk}").get_by_role("checkbox").check()
        page.locator(f"#card-{boat.pk}").get_by_role("checkbox").check()
        expect(share).to_be_visible()
        share.click()

        expect(page.get_by_role("heading", name="Share for review")).to_be_visible()
        expect(page.locator(".share-videos li")).to_have_count(2)
        page.get_by_label("Title").fill("Spring campaign")
        page.get_by_role("button", name="Make the link").click()
        expect(page.get_by_label("Address of “Spring campaign”")).to_be_visible(timeout=QUICK)
        self.assertEqual(set(ReviewLink.objects.get().videos.all()), {fox, boat})

        # A creator is offered no sharing.
        creator = self.new_page()
        self.log_in(creator, "erin")
        creator.locator(f"#card-{fox.pk}").get_by_role("checkbox").check()
        expect(creator.locator("#selection")).to_contain_text("1 selected")
        expect(creator.get_by_role("button", name="Share for review")).to_have_count(0)
        expect(creator.get_by_role("link", name="Client links")).to_have_count(0)
