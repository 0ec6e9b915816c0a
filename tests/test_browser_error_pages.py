"""In Chromium: a creator who opens another team's video sees the studio's own "not found" page, in its look
and with its header, not Django's, and finds the way back to their gallery; a submit too large for the
studio is refused with a message on the form, which keeps what was typed (tests/browser.py)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from playwright.sync_api import FilePayload

from sorastudio.studio.models import Generation
from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, expect
from tests.helpers import make_finished, make_member


@pytest.mark.browser
class TestErrorPages(BrowserTestCase):
    def test_another_teams_video_is_the_studios_own_not_found_page_with_a_way_back(self) -> None:
        studio, agency = Team.objects.create(name="Studio"), Team.objects.create(name="Agency")
        video = make_finished(studio, make_member("alice", studio, Membership.Role.CREATOR), "A paper boat")
        make_member("carol", agency, Membership.Role.CREATOR)
        page = self.page
        self.log_in(page, "carol")

        answer = page.goto(video.get_absolute_url())
        assert answer is not None
        self.assertEqual(answer.status, 404)
        expect(page.get_by_role("heading", name="We could not find this page")).to_be_visible()
        expect(page.locator("header.topbar .who")).to_have_text("carol")
        expect(page.get_by_text("A paper boat")).to_have_count(0)
        expect(page.get_by_text("Page not found")).to_have_count(0)  # Django's own page
        # The studio's style sheet applies: the page is laid out as the studio's, not unstyled.
        self.assertEqual(
            page.locator("section.error-page").evaluate("e => getComputedStyle(e).maxWidth"), "360px"
        )

        page.get_by_role("link", name="Back to the gallery").click()
        expect(page.get_by_role("heading", name="New video")).to_be_visible(timeout=QUICK)
        expect(page.get_by_role("heading", name="Agency gallery")).to_be_visible()

    @override_settings(REQUEST_MAX_MB=1)
    def test_a_submit_too_large_for_the_studio_is_refused_on_the_form(self) -> None:
        self.member("alice", "Studio")
        page = self.page
        self.log_in(page, "alice")
        page.get_by_label("Describe the video").fill("A clay fox")
        clip = FilePayload(name="long-take.mp4", mimeType="video/mp4", buffer=b"\0" * (2 * 1024 * 1024))
        page.get_by_label("Or pick a clip from your computer").set_input_files(clip)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Generate video").click()
        self.assertEqual(answer.value.status, 413)
        expect(page.locator("#upload-errors")).to_contain_text(
            "This is more than 1 MB, the most the studio takes at once.", timeout=QUICK
        )
        expect(page.get_by_label("Describe the video")).to_have_value("A clay fox")
        self.assertFalse(Generation.objects.exists())
