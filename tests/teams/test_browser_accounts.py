"""In Chromium: wrong passwords end in the lockout message beside the login form, which then refuses even the
right one; another person changes their password from the studio's header and logs in with the new one."""

from __future__ import annotations

import pytest

from sorastudio.teams.models import Membership, Team
from tests.browser import QUICK, BrowserTestCase, expect
from tests.helpers import make_member


@pytest.mark.browser
class TestAccounts(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.studio = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.studio, Membership.Role.CREATOR)
        self.dana = make_member("dana", self.studio, Membership.Role.ADMIN)

    def test_wrong_passwords_lock_the_login_and_a_password_can_be_changed(self) -> None:
        page = self.page
        page.goto("/accounts/login/")
        alert = page.get_by_role("alert")
        for _ in range(5):  # LOGIN_FAILURE_LIMIT's default
            page.get_by_label("Username").fill("alice")
            page.get_by_label("Password").fill("a guess")
            page.get_by_role("button", name="Log in").click()
            expect(alert).to_be_visible(timeout=QUICK)
        expect(alert).to_contain_text("Too many failed logins for this account from your address")
        expect(page.get_by_label("Username")).to_have_value("alice")
        page.get_by_label("Password").fill("alice-pass-123")
        page.get_by_role("button", name="Log in").click()
        expect(alert).to_contain_text("logging in is blocked for 15 minutes", timeout=QUICK)
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()

        self.log_in(page, "dana")  # someone else, from the same browser, is not locked out
        page.get_by_role("link", name="Password", exact=True).click()
        page.get_by_label("Old password").fill("dana-pass-123")
        page.get_by_label("New password", exact=True).fill("a-new-lantern-42")
        page.get_by_label("New password confirmation").fill("a-new-lantern-42")
        page.get_by_role("button", name="Change my password").click()
        expect(page.get_by_role("heading", name="Password changed")).to_be_visible(timeout=QUICK)
        page.get_by_role("button", name="Log out").click()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("dana")
        page.get_by_label("Password").fill("a-new-lantern-42")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="New video")).to_be_visible(timeout=QUICK)
