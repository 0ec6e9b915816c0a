"""Logging in: the lockout after repeated failures (per username and address, from the database), the address
behind the trusted proxies, and the password change and reset pages, whose answer tells nothing."""

from __future__ import annotations

import html
import ipaddress
import re
from datetime import timedelta
from typing import Any
from unittest import mock

from axes.models import AccessAttempt
from django.core import mail
from django.db import connection
from django.test import RequestFactory, SimpleTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sorastudio.teams import accounts
from tests.helpers import TeamTestCase

RIGHT = "alice-pass-123"
LOCKED = "Too many failed logins for this account from your address"


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(minutes=15))
class LockoutTests(TeamTestCase):
    def log_in(self, password: str, username: str = "alice", **extra: Any) -> Any:
        return self.client.post(reverse("login"), {"username": username, "password": password}, **extra)

    def logged_in(self) -> bool:
        return "_auth_user_id" in self.client.session

    def test_it_refuses_even_the_right_password_after_a_few_wrong_ones_and_says_why(self) -> None:
        for _ in range(2):
            self.assertContains(self.log_in("guess"), "did not match")
        third = self.log_in("guess")
        self.assertContains(third, LOCKED, status_code=429)
        self.assertContains(third, "blocked for 15 minutes", status_code=429)
        self.assertContains(third, 'value="alice"', status_code=429)  # the form, kept, in the studio's page
        response = self.log_in(RIGHT)
        self.assertContains(response, LOCKED, status_code=429)
        self.assertFalse(self.logged_in())

    def test_the_lockout_is_for_this_username_from_this_address_only(self) -> None:
        for _ in range(3):
            self.log_in("guess")
        self.log_in("bob-pass-123", username="bob")
        self.assertTrue(self.logged_in())  # another account from the same address
        self.client.logout()
        self.log_in(RIGHT, REMOTE_ADDR="203.0.113.9")
        self.assertTrue(self.logged_in())  # the same account from elsewhere

    def test_it_lets_the_person_in_after_the_cool_off_and_forgets_the_failures(self) -> None:
        for _ in range(3):
            self.log_in("guess")
        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
        self.log_in(RIGHT)
        self.assertTrue(self.logged_in())
        self.assertFalse(AccessAttempt.objects.exists())

    def test_a_success_clears_the_count(self) -> None:
        for _ in range(2):
            self.log_in("guess")
        self.log_in(RIGHT)
        self.client.logout()
        for _ in range(2):
            self.log_in("guess")
        self.log_in(RIGHT)
        self.assertTrue(self.logged_in())

    def test_htmx_gets_the_page_for_the_whole_window(self) -> None:
        for _ in range(3):
            response = self.log_in("guess", headers={"HX-Request": "true"})
        self.assertContains(response, LOCKED)
        self.assertEqual((response["HX-Retarget"], response["HX-Reswap"]), ("body", "innerHTML"))

    @override_settings(FORWARDED_ALLOW_IPS=[ipaddress.ip_network("127.0.0.0/8")])
    def test_behind_the_proxy_each_client_is_counted_for_its_own_address(self) -> None:
        for _ in range(3):
            self.log_in("guess", headers={"X-Forwarded-For": "198.51.100.7"})
        self.assertContains(
            self.log_in(RIGHT, headers={"X-Forwarded-For": "198.51.100.7"}), LOCKED, status_code=429
        )
        self.log_in(RIGHT, headers={"X-Forwarded-For": "198.51.100.8"})
        self.assertTrue(self.logged_in())
        self.assertEqual(AccessAttempt.objects.get().ip_address, "198.51.100.7")


class ClientAddressTests(SimpleTestCase):
    def address(self, peer: str, forwarded: str | None = None) -> str | None:
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
        return accounts.client_ip(RequestFactory().get("/", REMOTE_ADDR=peer, headers=headers))

    @override_settings(FORWARDED_ALLOW_IPS=[ipaddress.ip_network("10.0.0.0/8")])
    def test_it_believes_only_the_trusted_proxies(self) -> None:
        self.assertEqual(self.address("198.51.100.1"), "198.51.100.1")
        self.assertEqual(self.address("198.51.100.1", "1.2.3.4"), "198.51.100.1")  # not a proxy of ours
        self.assertEqual(self.address("10.0.0.2", "1.2.3.4"), "1.2.3.4")
        self.assertEqual(self.address("10.0.0.2", "1.2.3.4, 10.0.0.3"), "1.2.3.4")  # two proxies deep
        self.assertEqual(self.address("10.0.0.2", "6.6.6.6, 1.2.3.4"), "1.2.3.4")  # the client's own word
        self.assertEqual(self.address("10.0.0.2", "nonsense"), "10.0.0.2")
        self.assertEqual(self.address("10.0.0.2", "2001:db8::1"), "2001:db8::1")

    @override_settings(FORWARDED_ALLOW_IPS=None)
    def test_with_any_proxy_trusted_only_the_last_hop_counts(self) -> None:
        self.assertEqual(self.address("198.51.100.1", "6.6.6.6, 1.2.3.4"), "1.2.3.4")
        self.assertEqual(self.address("198.51.100.1"), "198.51.100.1")


class PasswordChangeTests(TeamTestCase):
    def test_it_changes_the_password_and_keeps_the_person_logged_in(self) -> None:
        self.client.force_login(self.alice)
        page = self.client.get(reverse("password_change"))
        self.assertContains(page, "Change your password")
        self.assertContains(page, 'class="topbar')  # the studio's page, not the admin's
        response = self.client.post(
            reverse("password_change"),
            {"old_password": RIGHT, "new_password1": "a-new-lantern-42", "new_password2": "a-new-lantern-42"},
            follow=True,
        )
        self.assertContains(response, "Password changed")
        self.assertIn("_auth_user_id", self.client.session)
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password("a-new-lantern-42"))

    def test_a_wrong_old_password_is_said_beside_its_field(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.post(
            reverse("password_change"),
            {
                "old_password": "nope",
                "new_password1": "a-new-lantern-42",
                "new_password2": "a-new-lantern-42",
            },
        )
        self.assertContains(response, "Your old password was entered incorrectly")
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password(RIGHT))


@override_settings(EMAIL_HOST="smtp.example", PUBLIC_BASE_URL="https://studio.example", ALLOWED_HOSTS=["*"])
class PasswordResetTests(TeamTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.alice.email = "alice@example.com"
        cls.alice.save()

    def ask(self, email: str, **extra: Any) -> Any:
        return self.client.post(reverse("password_reset"), {"email": email}, **extra)

    def link(self) -> str:
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["alice@example.com"])
        found = re.search(r"https?://\S+", str(mail.outbox[0].body))
        assert found is not None
        return found.group(0)

    def test_it_mails_a_link_on_the_public_address_whatever_host_was_asked(self) -> None:
        response = self.ask("ALICE@example.com", headers={"Host": "evil.example"})
        self.assertRedirects(response, reverse("password_reset_done"))
        self.assertTrue(self.link().startswith("https://studio.example/accounts/reset/"))

    def test_known_and_unknown_addresses_get_the_same_answer_for_the_same_work(self) -> None:
        answers, work = [], []
        for email in ("alice@example.com", "nobody@example.com"):
            with (
                mock.patch("sorastudio.teams.accounts.async_task") as enqueue,
                CaptureQueriesContext(connection) as q,
            ):
                response = self.ask(email)
            answers.append((response.status_code, response["Location"]))
            # Nothing about the address is looked up while the person waits: the worker does that.
            self.assertNotIn("auth_user", " ".join(query["sql"] for query in q.captured_queries))
            work.append((len(q.captured_queries), enqueue.call_args.args[0], len(enqueue.call_args.args)))
        self.assertEqual(answers[0], answers[1])
        self.assertEqual(work[0], work[1])
        self.assertEqual(mail.outbox, [])

    def test_an_unknown_address_is_mailed_nothing(self) -> None:
        self.assertRedirects(self.ask("nobody@example.com"), reverse("password_reset_done"))
        self.assertEqual(mail.outbox, [])

    @override_settings(PUBLIC_BASE_URL="")
    def test_without_a_public_address_only_a_host_allowed_by_name_makes_a_link(self) -> None:
        self.ask("alice@example.com", headers={"Host": "evil.example"})  # let in only by the `*`
        self.assertEqual(mail.outbox, [])
        with override_settings(ALLOWED_HOSTS=["studio.example"]):
            self.ask("alice@example.com", headers={"Host": "studio.example"})
        self.assertTrue(self.link().startswith("http://studio.example/accounts/reset/"))

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_the_link_sets_a_new_password_once_and_lifts_a_lockout(self) -> None:
        for _ in range(3):
            self.client.post(reverse("login"), {"username": "alice", "password": "guess"})
        self.ask("alice@example.com")
        page = self.client.get(self.link(), follow=True)
        self.assertContains(page, "Choose a new password")
        new = {"new_password1": "a-new-lantern-42", "new_password2": "a-new-lantern-42"}
        done = self.client.post(page.redirect_chain[-1][0], new, follow=True)
        self.assertContains(done, "Your new password is set.")
        self.client.post(reverse("login"), {"username": "alice", "password": "a-new-lantern-42"})
        self.assertIn("_auth_user_id", self.client.session)
        self.client.logout()
        again = self.client.get(self.link(), follow=True)
        self.assertContains(again, "This link no longer works")

    @override_settings(EMAIL_HOST="")
    def test_without_mail_the_page_says_to_ask_an_admin(self) -> None:
        page = html.unescape(self.client.get(reverse("password_reset")).content.decode())
        self.assertIn("This studio sends no mail. Ask one of your team's admins", page)
        self.ask("alice@example.com")
        self.assertEqual(mail.outbox, [])
