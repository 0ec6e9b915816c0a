"""Client review links under attack: what a guest behind the studio's proxy, a guest whose session was
planted by someone else, or a hand-made drawing could otherwise get away with."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from sorastudio.lib.ratelimit import Window
from sorastudio.studio.models import Comment, LinkFailure, ReviewLink
from sorastudio.teams.models import Membership
from tests.helpers import TeamTestCase, make_finished

PROXY = "127.0.0.1"


def page(secret: str) -> str:
    return reverse("studio:client_review", args=[secret])


def behind_proxy(address: str) -> Client:
    """A guest reaching the studio through its reverse proxy, which says who they are."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)


class AttackTestCase(TeamTestCase):
    def setUp(self) -> None:
        self.video = make_finished(self.studio, self.alice, "A paper boat in the rain")

    def share(self, **options: Any) -> tuple[ReviewLink, str]:
        return ReviewLink.share(self.studio, self.bob, [self.video], **options)


class BehindTheProxyTests(AttackTestCase):
    """Every guest's request comes from the proxy's address (in FORWARDED_ALLOW_IPS): the limits must
    count the guest's own, or one scanner closes every link to everyone."""

    def test_it_counts_a_scanners_misses_against_the_scanner_not_every_guest(self) -> None:
        _link, secret = self.share()
        scanner = behind_proxy("203.0.113.66")
        with mock.patch(
            "sorastudio.studio.models.sharing.MISSES_PER_ADDRESS", Window(2, timedelta(minutes=15))
        ):
            for guess in ("a" * 43, "b" * 43):
                self.assertEqual(scanner.get(page(guess)).status_code, 404)
            self.assertEqual(scanner.get(page(secret)).status_code, 404)
            self.assertEqual(behind_proxy("198.51.100.7").get(page(secret)).status_code, 200)
        self.assertEqual(set(LinkFailure.objects.values_list("address", flat=True)), {"203.0.113.66"})

    def test_it_counts_wrong_passwords_against_the_guesser_not_every_guest(self) -> None:
        _link, secret = self.share(password="lantern-42")
        unlock = reverse("studio:client_unlock", args=[secret])
        guesser = behind_proxy("203.0.113.66")
        for _try in range(5):
            guesser.post(unlock, {"password": "no"})
        self.assertEqual(guesser.post(unlock, {"password": "lantern-42"}).status_code, 429)
        client = behind_proxy("198.51.100.7")
        self.assertRedirects(client.post(unlock, {"password": "lantern-42"}), page(secret))


class SessionTests(AttackTestCase):
    def test_it_gives_the_session_a_new_key_when_the_password_opens_the_link(self) -> None:
        # Someone who planted their own session cookie in the client's browser must not share the unlock.
        _link, secret = self.share(password="lantern-42")
        guest = Client()
        planted = guest.session.session_key
        assert planted is not None
        response = guest.post(reverse("studio:client_unlock", args=[secret]), {"password": "lantern-42"})
        self.assertRedirects(response, page(secret))
        self.assertNotEqual(guest.cookies["sessionid"].value, planted)
        self.assertContains(guest.get(page(secret)), "A paper boat in the rain")
        attacker = Client()
        attacker.cookies["sessionid"] = planted
        self.assertContains(attacker.get(page(secret)), "This link has a password")


class DrawingTests(AttackTestCase):
    def test_it_refuses_a_number_too_large_for_a_float(self) -> None:
        huge = "1" + "0" * 400
        shape = f'{{"kind": "pen", "colour": "red", "points": [[{huge}, 0.5]]}}'
        response = self.as_(self.bob).post(
            reverse("studio:comments", args=[self.video.pk]),
            {"body": "Here.", "at_seconds": "1", "drawing": f'{{"v": 1, "shapes": [{shape}]}}'},
        )
        self.assertContains(response, "The drawing could not be read", status_code=400)
        self.assertFalse(Comment.objects.exists())
        json.loads(f"[{huge}]")  # valid JSON: only the drawing's check may refuse it


@override_settings(
    EMAIL_HOST="smtp.example.test", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
)
class MailTests(AttackTestCase):
    def test_it_mails_a_guests_comment_to_no_one_who_has_left_the_team(self) -> None:
        # The link outlives its maker's place in the team: the bell hides the news from them, and so must
        # the mail.
        for user in (self.alice, self.bob):
            user.email = f"{user.username}@example.com"
            user.save()
        _link, secret = self.share()
        Membership.objects.filter(team=self.studio, user=self.bob).delete()
        with self.captureOnCommitCallbacks(execute=True):
            response = Client().post(
                reverse("studio:client_comment", args=[secret, self.video.pk]),
                {"name": "Ms Lee", "body": "Warmer light, please."},
            )
        self.assertEqual(response.status_code, 302)
        self.assertEqual([message.to for message in mail.outbox], [["alice@example.com"]])


class LockedPageTests(AttackTestCase):
    def test_it_shows_not_even_the_title_before_the_password(self) -> None:
        _link, secret = self.share(password="lantern-42", title="Acme launch, under embargo")
        locked = Client().get(page(secret))
        self.assertContains(locked, "This link has a password")
        self.assertNotContains(locked, "Acme launch")
