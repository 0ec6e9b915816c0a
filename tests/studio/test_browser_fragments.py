"""In Chromium, the fragments that have their own addresses, where the address bar must still show the page's:
the search of one's prompts, the notifications' pager, and the pipeline's window (whose numbers also poll);
and the phone's drawer and the desktop notifications button, whose scripts only their pages load."""

from __future__ import annotations

import re

import pytest

from sorastudio.studio.models import Notification
from sorastudio.teams.models import Membership
from tests.browser import QUICK, BrowserTestCase, expect
from tests.helpers import make_finished


@pytest.mark.browser
class TestFragmentsKeepThePagesAddress(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice = self.member("alice", "Studio")
        self.studio = Membership.objects.get(user=self.alice).team

    def test_the_search_of_my_prompts_shows_its_address(self) -> None:
        make_finished(self.studio, self.alice, "A lighthouse at night")
        make_finished(self.studio, self.alice, "A fox in the snow")
        page = self.page
        self.log_in(page, "alice")
        page.goto("/history/")
        page.get_by_label("Search my prompts").fill("light")
        results = page.locator("#history-results")
        expect(results).not_to_contain_text("A fox in the snow", timeout=QUICK)
        expect(results).to_contain_text("A lighthouse at night")
        expect(page).to_have_url(re.compile(r"/history/\?q=light$"))
        page.reload()
        expect(page.locator("#history-results")).not_to_contain_text("A fox in the snow")
        expect(page.get_by_label("Search my prompts")).to_have_value("light")

    def test_the_notifications_pager_shows_its_address(self) -> None:
        video = make_finished(self.studio, self.alice, "A paper boat")
        for _ in range(31):
            Notification.objects.create(user=self.alice, team=self.studio, generation=video, kind="ready")
        page = self.page
        self.log_in(page, "alice")
        page.goto("/notifications/")
        expect(page.locator("[data-desktop-notifications]")).to_be_visible()  # notifications.js ran
        page.get_by_role("link", name="Older").click()
        expect(page.get_by_role("link", name="Newer")).to_be_visible(timeout=QUICK)
        expect(page).to_have_url(re.compile(r"/notifications/\?page=2$"))
        expect(page.get_by_role("heading", name="Notifications")).to_be_visible()

    def test_the_pipelines_window_shows_its_address_and_its_poll_does_not_move_it(self) -> None:
        Membership.objects.filter(user=self.alice).update(role=Membership.Role.ADMIN)
        page = self.page
        self.log_in(page, "alice")
        page.goto("/dashboard/pipeline/")
        page.get_by_label("Outcomes and times over").select_option("7d")
        page.get_by_role("button", name="Show").click()
        numbers = page.locator("#pipeline-numbers")
        expect(numbers).to_have_attribute("hx-get", "/dashboard/pipeline/numbers?window=7d", timeout=QUICK)
        expect(page).to_have_url(re.compile(r"/dashboard/pipeline/\?window=7d$"))
        self.assertEqual(page.locator("#pipeline-numbers").count(), 1)  # replaced, not nested
        entries = page.evaluate("history.length")
        with page.expect_response(lambda r: "/dashboard/pipeline/numbers" in r.url, timeout=15_000):
            pass  # the poll, every 10 s
        page.wait_for_timeout(300)  # its swap
        expect(page).to_have_url(re.compile(r"/dashboard/pipeline/\?window=7d$"))
        self.assertEqual(page.evaluate("history.length"), entries)  # the poll pushed nothing
        page.go_back()
        expect(page).to_have_url(re.compile(r"/dashboard/pipeline/$"))

    def test_on_a_phone_the_form_is_a_drawer(self) -> None:
        page = self.page
        page.set_viewport_size({"width": 390, "height": 800})
        self.log_in(page, "alice")
        panel = page.locator("#compose-panel")
        page.get_by_role("button", name="New video").click()
        expect(panel).to_have_class(re.compile(r"\bopen\b"))
        page.keyboard.press("Escape")
        expect(panel).not_to_have_class(re.compile(r"\bopen\b"))
