"""In Chromium: an admin invites someone by link, they sign up in their own browser and land in the team's
gallery, and the admin changes their role; an admin removes one member and deactivates another, as both
see it; and the bell, whose count rises without a reload when something
happens, with the browser's own notification (tests/browser.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from sorastudio.studio.models import Generation, Notification
from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, expect
from tests.helpers import make_member

# Stands in for the browser's Notification: permission granted, and each one shown is recorded.
FAKE_NOTIFICATION = """
window.shownNotifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.shownNotifications.push({ title, tag: options && options.tag }); }
  close() {}
};
"""


@pytest.mark.browser
class TestTeam(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.studio = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.studio, Membership.Role.CREATOR)
        self.dana = make_member("dana", self.studio, Membership.Role.ADMIN)

    def test_an_invited_person_signs_up_joins_and_gets_a_new_role(self) -> None:
        admin = self.page
        self.log_in(admin, "dana")
        admin.get_by_role("link", name="Team", exact=True).click()
        expect(admin.get_by_role("heading", name="Team Studio")).to_be_visible(timeout=QUICK)
        admin.get_by_label("Note").fill("For Erin, our new editor")
        admin.get_by_role("button", name="Make an invitation link").click()
        link_field = admin.get_by_label("Link to join as Creator")
        expect(link_field).to_be_visible(timeout=QUICK)
        expect(link_field).to_be_focused()
        expect(admin.get_by_role("button", name="Copy")).to_be_visible()
        link = link_field.input_value()
        self.assertTrue(link.startswith(f"{self.live_server_url}/join/"), link)

        newcomer = self.new_page()
        newcomer.goto(link)
        expect(newcomer.get_by_text("You are invited to the team Studio as Creator.")).to_be_visible()
        newcomer.get_by_label("Username").fill("erin")
        newcomer.get_by_label("Password", exact=True).fill("violet-harbour-42")
        newcomer.get_by_label("Password confirmation").fill("violet-harbour-42")
        newcomer.get_by_role("button", name="Make my account and join Studio").click()
        expect(newcomer.get_by_text("Welcome to Studio! You joined as Creator.")).to_be_visible(timeout=QUICK)
        expect(newcomer.get_by_role("heading", name="Studio gallery")).to_be_visible()
        expect(newcomer.locator(".team-now .role")).to_have_text("Creator")

        admin.reload()
        expect(admin.get_by_label("Link to join as Creator")).to_have_count(0)
        admin.get_by_label("Role of erin").select_option("reviewer")
        expect(admin.get_by_text("erin’s role is now Reviewer.")).to_be_visible(timeout=QUICK)
        erin = get_user_model().objects.get(username="erin")
        self.assertEqual(Membership.objects.get(user=erin, team=self.studio).role, Membership.Role.REVIEWER)

        newcomer.reload()
        expect(newcomer.locator(".team-now .role")).to_have_text("Reviewer")

    def test_a_removed_member_is_in_no_team_and_a_deactivated_one_is_logged_out(self) -> None:
        bob = make_member("bob", self.studio, Membership.Role.REVIEWER)
        admin = self.page
        admin.on("dialog", lambda dialog: dialog.accept())  # the confirmations of Remove and Deactivate
        self.log_in(admin, "dana")
        removed, deactivated = self.new_page(), self.new_page()
        self.log_in(removed, "alice")
        self.log_in(deactivated, "bob")

        admin.goto("/team/")
        admin.get_by_role("button", name="Remove alice").click()
        expect(admin.get_by_text("alice is no longer in the team.")).to_be_visible(timeout=QUICK)
        admin.get_by_role("button", name="Deactivate bob’s account").click()
        expect(admin.get_by_text("bob’s account is deactivated")).to_be_visible(timeout=QUICK)
        admin.reload()
        activity = admin.locator("#activity")
        expect(activity.get_by_text("alice removed from the team")).to_be_visible()
        expect(activity.get_by_text("bob’s account deactivated")).to_be_visible()

        # alice's next page, from the page she had open, is the plain one: no gallery, no form, no team.
        removed.get_by_role("link", name="My prompts").click()
        expect(removed.get_by_role("heading", name="You are not in a team yet")).to_be_visible(timeout=QUICK)
        expect(removed.get_by_role("link", name="My prompts")).to_have_count(0)
        expect(removed.get_by_text("Studio", exact=True)).to_have_count(0)

        # bob's session is over, and his password no longer opens the studio.
        deactivated.get_by_role("link", name="My prompts").click()
        expect(deactivated.get_by_role("button", name="Log in")).to_be_visible(timeout=QUICK)
        deactivated.get_by_label("Username").fill("bob")
        deactivated.get_by_label("Password").fill("bob-pass-123")
        deactivated.get_by_role("button", name="Log in").click()
        expect(deactivated.get_by_role("button", name="Log in")).to_be_visible(timeout=QUICK)
        bob.refresh_from_db()
        self.assertFalse(bob.is_active)

    def test_the_bell_counts_up_without_a_reload_and_the_browser_shows_it(self) -> None:
        page = self.page
        page.context.add_init_script(FAKE_NOTIFICATION)
        page.clock.install()
        self.log_in(page, "alice")
        bell = page.locator("#bell")
        expect(bell).to_have_attribute("data-unread", "0")

        video = Generation.objects.create(
            team=self.studio,
            created_by=self.alice,
            prompt="A kite over the dunes",
            model="sora-2",
            duration=10,
        )
        Notification.send([self.alice], team=self.studio, kind=Notification.Kind.READY, generation=video)
        page.clock.fast_forward("00:21")  # the bell's 20-second poll
        expect(bell.locator(".bell-count")).to_have_text("1", timeout=QUICK)
        page.wait_for_function("() => window.shownNotifications.length > 0", timeout=QUICK)
        shown = page.evaluate("window.shownNotifications")
        self.assertEqual([n["title"] for n in shown], ["Your video is ready: “A kite over the dunes”"])

        # A page that changed something says so, and the bell refreshes at once.
        Notification.send(
            [self.alice],
            team=self.studio,
            kind=Notification.Kind.REVIEW_REQUESTED,
            generation=video,
            actor=self.dana,
        )
        page.evaluate("htmx.trigger(document.body, 'notifications-changed')")
        expect(bell.locator(".bell-count")).to_have_text("2", timeout=QUICK)
        page.wait_for_function("() => window.shownNotifications.length > 1", timeout=QUICK)
        self.assertEqual(
            page.evaluate("window.shownNotifications[1].title"),
            "dana asked you to review “A kite over the dunes”",
        )

        bell.click()
        expect(page.get_by_role("heading", name="Notifications")).to_be_visible(timeout=QUICK)
        expect(
            page.get_by_role("link", name="dana asked you to review “A kite over the dunes”")
        ).to_be_visible()
        page.get_by_role("button", name="Mark all as read").click()
        expect(bell).to_have_attribute("data-unread", "0", timeout=QUICK)
        expect(page.locator(".notification.unread")).to_have_count(0)
