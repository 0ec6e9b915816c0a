"""In Chromium: the team gallery. Filters and search update the grid and the address, Back and Forward bring
the earlier grids back, scrolling down brings more cards, a poster previews on hover, and two ticked videos
download as one zip."""

from __future__ import annotations

import contextlib
import hashlib
import re
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import Error, Route

from sorastudio.studio.models import Generation, ReviewState, State
from sorastudio.teams.models import Membership, Team
from sorastudio.upstream.errors import REFUSAL_CODE
from tests.browser import FINISH, QUICK, BrowserTestCase, expect


@pytest.mark.browser
class TestGallery(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice = self.member("alice", "Studio")
        self.bob = self.member("bob", "Studio")
        self.studio = Team.objects.get(name="Studio")

    def video(self, prompt: str, *, by: Any = None, minutes_ago: int = 0, **fields: Any) -> Generation:
        """A finished video made without the pipeline, with a few bytes of its own standing for the file."""
        made = Generation.objects.create(
            team=self.studio,
            created_by=by or self.alice,
            prompt=prompt,
            model="sora-2",
            duration=10,
            state=fields.pop("state", State.SUCCEEDED),
            created_at=timezone.now() - timedelta(minutes=minutes_ago),
            finished_at=timezone.now(),
            **fields,
        )
        if made.state == State.SUCCEEDED:
            data = f"not a real video: {prompt}".encode() * 100
            made.video.save("v.mp4", ContentFile(data), save=False)
            made.poster.save("p.jpg", ContentFile(b"\xff\xd8\xff not a real jpeg"), save=False)
            made.sha256 = hashlib.sha256(data).hexdigest()
            made.size_bytes = len(data)
            made.save()
        return made

    def cards(self) -> Any:
        return self.page.locator("#gallery article.card")

    def test_a_search_typed_while_the_grid_is_on_its_way_aborts_nothing(self) -> None:
        """The console stays quiet (htmx reports an aborted request as the error htmx:sendAbort), while the
        cards refresh themselves as their job is made, and the grid ends as the last search asks."""
        page = self.page
        said: list[str] = []
        page.on("console", lambda m: said.append(m.text) if m.type == "error" or "htmx:" in m.text else None)
        self.log_in(page, "alice")
        self.generate(page, "A kite over the dunes")
        self.video("A lighthouse at night", minutes_ago=5)
        held: list[Route] = []
        page.route("**/gallery/view?*", lambda route: held.append(route))
        search = page.locator("#filter-q")
        search.fill("kite")
        for _ in range(100):  # the first grid is on its way, and held there
            if held:
                break
            page.wait_for_timeout(50)
        self.assertTrue(held, "no grid was asked for")
        search.fill("kite over")
        page.wait_for_timeout(800)  # past the search's 400 ms: the second grid is asked for
        page.unroute("**/gallery/view?*")
        for route in held:
            with contextlib.suppress(Error):  # one the page aborted is gone
                route.continue_()
        expect(page).to_have_url(re.compile(r"\?q=kite\+over"), timeout=QUICK)
        expect(self.cards()).to_have_count(1)
        expect(self.cards().and_(page.locator("[data-state=succeeded]"))).to_have_count(1, timeout=FINISH)
        self.assertEqual(said, [])

    def test_it_filters_and_searches_through_the_address_and_back_brings_each_grid_again(self) -> None:
        fox = self.video("A red fox in the snow", review_state=ReviewState.APPROVED)
        self.video("A paper boat in the rain", by=self.bob, state=State.FAILED, minutes_ago=1)
        lighthouse = self.video("A lighthouse at night", by=self.bob, minutes_ago=2)
        page = self.page
        self.log_in(page, "alice")
        expect(self.cards()).to_have_count(3)
        home = f"{self.live_server_url}/"

        page.locator("#filter-state").select_option("ready")
        expect(self.cards()).to_have_count(2, timeout=QUICK)
        expect(page).to_have_url(f"{home}?state=ready")
        expect(page.locator(f"#card-{fox.pk}")).to_be_visible()
        expect(page.locator(f"#card-{lighthouse.pk}")).to_be_visible()

        page.get_by_label("Search the prompts").fill("FOX snow")
        expect(self.cards()).to_have_count(1, timeout=QUICK)
        expect(page.locator(f"#card-{fox.pk}")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/\?q=FOX\+snow&state=ready$"))

        page.get_by_label("Search the prompts").fill("zebra")
        expect(page.get_by_text("No videos match these filters.")).to_be_visible(timeout=QUICK)
        expect(self.cards()).to_have_count(0)

        page.go_back()
        expect(page).to_have_url(re.compile(r"/\?q=FOX\+snow&state=ready$"))
        expect(self.cards()).to_have_count(1, timeout=QUICK)
        expect(page.get_by_label("Search the prompts")).to_have_value("FOX snow")
        page.go_back()
        expect(page).to_have_url(f"{home}?state=ready")
        expect(self.cards()).to_have_count(2, timeout=QUICK)
        expect(page.get_by_label("Search the prompts")).to_have_value("")
        expect(page.locator("#filter-state")).to_have_value("ready")
        page.go_back()
        expect(page).to_have_url(home)
        expect(self.cards()).to_have_count(3, timeout=QUICK)
        expect(page.locator("#filter-state")).to_have_value("")
        page.go_forward()
        expect(page).to_have_url(f"{home}?state=ready")
        expect(self.cards()).to_have_count(2, timeout=QUICK)

        # The address is the filter: opened anew, it shows the same grid.
        fresh = self.new_page()
        self.log_in(fresh, "bob")
        fresh.goto("/?state=ready&author=mine")
        expect(fresh.locator("#gallery article.card")).to_have_count(1)
        expect(fresh.locator(f"#card-{lighthouse.pk}")).to_be_visible()
        expect(fresh.locator("#filter-author")).to_have_value("mine")

    def test_scrolling_down_brings_the_older_videos(self) -> None:
        for n in range(30):
            self.video(f"Clip {n}", minutes_ago=n)
        page = self.page
        self.log_in(page, "alice")
        expect(self.cards().first).to_be_visible()
        page.locator("#gallery-more").scroll_into_view_if_needed()
        expect(self.cards()).to_have_count(30, timeout=QUICK)
        expect(page.locator("#gallery-more")).to_have_count(0)
        expect(self.cards().last).to_contain_text("Clip 29")
        expect(page).to_have_url(f"{self.live_server_url}/")  # scrolling is not a new address

    def test_a_poster_previews_its_video_on_hover_unless_less_motion_is_asked_for(self) -> None:
        boat = self.video("A paper boat in the rain")
        page = self.page
        self.log_in(page, "alice")
        poster = page.locator(f"#card-{boat.pk} .poster")
        expect(poster.locator("video")).to_have_count(0)
        poster.hover()
        preview = poster.locator("video.preview")
        self.assertEqual(preview.count(), 1)  # there as soon as the pointer is
        expect(preview).to_have_attribute("src", f"/generations/{boat.pk}/video.mp4")
        self.assertTrue(preview.evaluate("v => v.muted"))
        page.get_by_role("heading", name="New video").hover()
        expect(poster.locator("video")).to_have_count(0)

        page.emulate_media(reduced_motion="reduce")
        poster.hover()
        self.assertEqual(poster.locator("video").count(), 0)

    def test_it_marks_a_favourite_in_place(self) -> None:
        boat = self.video("A paper boat in the rain")
        page = self.page
        self.log_in(page, "alice")
        star = page.locator(f"#card-{boat.pk}").get_by_role("button", name="Favourite")
        expect(star).to_have_attribute("aria-pressed", "false")
        star.click()
        expect(star).to_have_attribute("aria-pressed", "true", timeout=QUICK)
        page.get_by_label("Favourites only").check()
        expect(self.cards()).to_have_count(1, timeout=QUICK)
        expect(page).to_have_url(f"{self.live_server_url}/?favourites=1")

    def test_two_ticked_videos_download_as_one_zip(self) -> None:
        fox = self.video("A red fox in the snow", minutes_ago=1)
        boat = self.video("A paper boat in the rain", minutes_ago=2)
        self.video("A lighthouse at night", minutes_ago=3)
        page = self.page
        self.log_in(page, "alice")
        toolbar = page.locator("#selection")
        expect(toolbar).to_be_hidden()

        page.locator(f"#card-{fox.pk}").get_by_role("checkbox").check()
        expect(toolbar).to_be_visible()
        expect(toolbar).to_contain_text("1 selected")
        expect(toolbar.get_by_role("button", name="Compare")).to_be_disabled()
        page.locator(f"#card-{boat.pk}").get_by_role("checkbox").check()
        expect(toolbar).to_contain_text("2 selected")
        expect(toolbar.get_by_role("button", name="Compare")).to_be_enabled()

        with page.expect_download(timeout=QUICK) as download_info:
            toolbar.get_by_role("button", name="Download as zip").click()
        download = download_info.value
        self.assertRegex(download.suggested_filename, r"^sora-studio-\d{4}-\d\d-\d\d\.zip$")
        with zipfile.ZipFile(download.path()) as archive:
            self.assertEqual(
                archive.namelist(),
                ["a-red-fox-in-the-snow-sora-2-10s.mp4", "a-paper-boat-in-the-rain-sora-2-10s.mp4"],
            )
            for name, video in zip(archive.namelist(), (fox, boat), strict=True):
                self.assertEqual(hashlib.sha256(archive.read(name)).hexdigest(), video.sha256)
        expect(page).to_have_url(f"{self.live_server_url}/")  # the page stays as it was

    def test_the_toolbar_offers_only_what_the_viewer_may_do_with_what_is_ticked(self) -> None:
        carol = self.member("carol", "Studio")
        Membership.objects.filter(user=carol).update(role=Membership.Role.REVIEWER)
        theirs = self.video("A red fox in the snow", minutes_ago=1)
        mine = self.video("A paper boat in the rain", by=carol, minutes_ago=2)
        failed = self.video("A lighthouse at night", by=carol, state=State.FAILED, minutes_ago=3)
        page = self.page
        self.log_in(page, "carol")
        toolbar = page.locator("#selection")
        delete = toolbar.get_by_role("button", name="Delete")
        zip_button = toolbar.get_by_role("button", name="Download as zip")
        their_menu = self.card_menu(page.locator(f"#card-{theirs.pk}"))
        expect(their_menu.get_by_role("button", name="Re-run")).to_be_visible()
        expect(their_menu.get_by_role("button", name="Delete")).to_have_count(0)

        page.locator(f"#card-{theirs.pk}").get_by_role("checkbox").check()
        expect(toolbar).to_contain_text("1 selected")
        expect(delete).to_be_hidden()
        expect(zip_button).to_be_visible()

        page.locator(f"#card-{theirs.pk}").get_by_role("checkbox").uncheck()
        page.locator(f"#card-{mine.pk}").get_by_role("checkbox").check()
        expect(delete).to_be_visible()
        page.locator(f"#card-{theirs.pk}").get_by_role("checkbox").check()
        expect(toolbar).to_contain_text("2 selected")
        expect(delete).to_be_hidden()  # one of the two is someone else's

        page.locator(f"#card-{theirs.pk}").get_by_role("checkbox").uncheck()
        page.locator(f"#card-{mine.pk}").get_by_role("checkbox").uncheck()
        page.locator(f"#card-{failed.pk}").get_by_role("checkbox").check()
        expect(delete).to_be_visible()
        expect(zip_button).to_be_hidden()  # nothing ticked is ready to download


@pytest.mark.browser
class TestFailureCard(BrowserTestCase):
    def test_a_refused_card_leads_with_edit_and_retry_and_copies_its_details(self) -> None:
        alice = self.member("alice", "Studio")
        refused = Generation.objects.create(
            team=Team.objects.get(name="Studio"),
            created_by=alice,
            prompt="A real person dancing",
            model="sora-2",
            duration=10,
            state=State.FAILED,
            finished_at=timezone.now(),
            error_code=REFUSAL_CODE,
            error_message="The request was rejected by the content policy.",
            trace_id="trace-1234",
            upstream_task_id="task-5678",
        )
        page = self.page
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.live_server_url)
        self.log_in(page, "alice")
        card = page.locator(f"#card-{refused.pk}")
        expect(card.locator(".actions > :first-child")).to_have_text("Edit & retry")
        details = card.locator("details.failure-details")
        expect(details.get_by_text("trace-1234")).not_to_be_visible()

        details.locator("summary").click()
        expect(details.get_by_text("trace-1234")).to_be_visible()
        copy = details.locator("button[data-copy]")
        expect(copy).to_have_text("Copy")
        copy.click()
        expect(copy).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        self.assertEqual(
            copied,
            "The service said: “The request was rejected by the content policy.”\n"
            f"Code: {REFUSAL_CODE}\nTrace id: trace-1234\nTask id: task-5678",
        )
