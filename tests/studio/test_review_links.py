"""Client review links: made by a team's reviewers and admins for the team's finished videos, the secret shown
once and kept only as a hash; the guest, with no account, opens it (after its password, rate-limited),
watches through the link's own video views, comments under a name and approves or asks for changes, each on
the video's timeline and told to the team; expired, revoked, unknown or another team's links give nothing."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any
from unittest import mock

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sorastudio.lib.ratelimit import Window
from sorastudio.lib.security import MaskCredentials
from sorastudio.pipeline import tasks
from sorastudio.studio.models import (
    ClientVerdict,
    Comment,
    Generation,
    LinkClosed,
    LinkFailure,
    Notification,
    ReviewError,
    ReviewLink,
    ReviewState,
)
from sorastudio.studio.models.sharing import secret_hash
from sorastudio.teams.models import AuditEntry
from sorastudio.teams.presenters import text as audit_text
from tests.helpers import TeamTestCase, make_finished, make_row, read_body

NEW = reverse("studio:new_review_link")


def page(secret: str) -> str:
    return reverse("studio:client_review", args=[secret])


class LinkTestCase(TeamTestCase):
    """alice (creator) made two finished videos; bob (reviewer) shares them."""

    def setUp(self) -> None:
        self.video = make_finished(self.studio, self.alice, "A paper boat in the rain")
        self.other = make_finished(self.studio, self.alice, "A paper boat in the sun")
        self.guest = Client()

    def share(self, *videos: Generation, by: Any = None, **options: Any) -> tuple[ReviewLink, str]:
        return ReviewLink.share(self.studio, by or self.bob, videos or (self.video,), **options)

    def comment(
        self, secret: str, video: Generation, body: str = "Warmer light, please.", **data: Any
    ) -> Any:
        return self.guest.post(
            reverse("studio:client_comment", args=[secret, video.pk]),
            {"name": "Ms Lee", "body": body, **data},
        )

    def verdict(self, secret: str, video: Generation, decision: str = "approved", **data: Any) -> Any:
        return self.guest.post(
            reverse("studio:client_verdict", args=[secret, video.pk]),
            {"name": "Ms Lee", "decision": decision, **data},
        )


class MakingLinksTests(LinkTestCase):
    def test_it_keeps_only_the_hash_of_the_secret(self) -> None:
        link, secret = self.share(title="Spring campaign")
        self.assertGreaterEqual(len(secret), 40)
        self.assertEqual(link.token_hash, secret_hash(secret))
        self.assertNotIn(secret, str(ReviewLink.objects.filter(pk=link.pk).values().get()))
        self.assertEqual(ReviewLink.objects.opened_by(secret), link)

    def test_it_expires_after_a_week_unless_told(self) -> None:
        link, _secret = self.share()
        self.assertAlmostEqual(
            (link.expires_at - timezone.now()).total_seconds(), timedelta(days=7).total_seconds(), delta=60
        )
        longer, _secret = self.share(days=30)
        self.assertGreater(longer.expires_at, timezone.now() + timedelta(days=29))
        for days in (0, 31):
            with self.subTest(days=days), self.assertRaises(ReviewError):
                self.share(days=days)

    def test_it_lets_reviewers_and_admins_share_and_not_creators(self) -> None:
        for person, status in ((self.alice, 403), (self.bob, 200), (self.dana, 200)):
            with self.subTest(person=person.username):
                response = self.as_(person).post(NEW, {"ids": [self.video.pk], "days": "7"})
                self.assertEqual(response.status_code, status)
        self.assertEqual(ReviewLink.objects.count(), 2)
        with self.assertRaises(ReviewError):
            self.share(by=self.alice)

    def test_it_shows_the_address_once_and_records_it_in_the_audit_trail(self) -> None:
        response = self.as_(self.bob).post(
            NEW, {"ids": [self.video.pk, self.other.pk], "days": "3", "title": "Spring campaign"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", response["Cache-Control"])
        found = re.search(r'value="(http://testserver/review/[^"]+)"', response.content.decode())
        assert found is not None
        url = found.group(1)
        link = ReviewLink.objects.get()
        self.assertEqual(link.token_hash, secret_hash(url.rstrip("/").rsplit("/", 1)[1]))
        self.assertEqual(set(link.videos.all()), {self.video, self.other})
        entry = AuditEntry.objects.get(kind=AuditEntry.Kind.REVIEW_LINK_MADE)
        self.assertEqual((entry.team, entry.actor, entry.details["videos"]), (self.studio, self.bob, 2))
        self.assertEqual(audit_text(entry), "“Spring campaign”: 2 videos shared with a client for 3 days")
        listing = self.as_(self.bob).get(reverse("studio:review_links")).content.decode()
        self.assertIn("Spring campaign", listing)
        self.assertNotIn(url, listing)

    def test_it_refuses_another_teams_video_and_an_unfinished_one(self) -> None:
        theirs = make_finished(self.agency, self.carol, "Agency's own")
        response = self.as_(self.bob).post(NEW, {"ids": [self.video.pk, theirs.pk], "days": "7"})
        self.assertEqual(response.status_code, 404)
        with self.assertRaises(ReviewError):
            ReviewLink.share(self.studio, self.bob, [theirs])
        live = make_row(self.studio, self.alice, "Still being made")
        response = self.as_(self.bob).post(NEW, {"ids": [live.pk], "days": "7"})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Only the team", status_code=400)
        self.assertFalse(ReviewLink.objects.exists())

    def test_it_refuses_more_than_fifty_videos(self) -> None:
        with (
            mock.patch("sorastudio.studio.models.sharing.LINK_VIDEOS_MOST", 1),
            self.assertRaises(ReviewError),
        ):
            self.share(self.video, self.other)

    def test_it_offers_sharing_on_the_page_and_in_the_gallery_to_reviewers_only(self) -> None:
        for person, offered in ((self.alice, False), (self.bob, True)):
            with self.subTest(person=person.username):
                client = self.as_(person)
                video_page = client.get(self.video.get_absolute_url()).content.decode()
                self.assertEqual(f"{NEW}?ids={self.video.pk}" in video_page, offered)
                self.assertEqual(
                    "data-selection-share" in client.get(reverse("studio:index")).content.decode(), offered
                )


class RevokingTests(LinkTestCase):
    def test_it_lets_the_maker_and_the_admins_revoke(self) -> None:
        link, secret = self.share()
        revoke = reverse("studio:revoke_review_link", args=[link.pk])
        self.assertEqual(self.as_(self.alice).post(revoke).status_code, 403)
        self.assertEqual(self.as_(self.carol).post(revoke).status_code, 404)
        self.assertEqual(self.guest.get(page(secret)).status_code, 200)
        self.assertEqual(self.as_(self.bob).post(revoke).status_code, 302)
        link.refresh_from_db()
        self.assertEqual((link.state, link.revoked_by), (ReviewLink.State.REVOKED, self.bob))
        self.assertTrue(AuditEntry.objects.filter(kind=AuditEntry.Kind.REVIEW_LINK_REVOKED).exists())
        self.assertEqual(self.guest.get(page(secret)).status_code, 404)
        other, _secret = self.share()
        self.assertEqual(
            self.as_(self.dana).post(reverse("studio:revoke_review_link", args=[other.pk])).status_code, 302
        )

    def test_it_gives_the_same_not_found_for_unknown_expired_and_revoked_links(self) -> None:
        expired, expired_secret = self.share()
        ReviewLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        revoked, revoked_secret = self.share()
        revoked.revoke(self.bob)
        answers = {
            secret: self.guest.get(page(secret)) for secret in ("x" * 43, expired_secret, revoked_secret)
        }
        self.assertEqual([a.status_code for a in answers.values()], [404, 404, 404])
        # The same page but for the address itself (the language form comes back to it) and the CSRF token.
        pages = {
            re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', "", a.content.decode()).replace(
                s, ""
            )
            for s, a in answers.items()
        }
        self.assertEqual(len(pages), 1)
        self.assertContains(answers[expired_secret], "This link opens nothing", status_code=404)
        for team_word in ("team", "gallery", "Log in"):
            self.assertNotContains(answers[expired_secret], team_word, status_code=404)
        for secret, video in ((expired_secret, self.video), (revoked_secret, self.video)):
            self.assertEqual(
                self.guest.get(reverse("studio:client_video", args=[secret, video.pk])).status_code, 404
            )
            self.assertEqual(self.comment(secret, video).status_code, 404)
        self.assertFalse(Comment.objects.exists())

    def test_it_opens_nothing_for_an_address_that_missed_too_often(self) -> None:
        _link, secret = self.share()
        with mock.patch(
            "sorastudio.studio.models.sharing.MISSES_PER_ADDRESS", Window(2, timedelta(minutes=15))
        ):
            for guess in ("a" * 43, "b" * 43):
                self.assertEqual(self.guest.get(page(guess)).status_code, 404)
            self.assertEqual(self.guest.get(page(secret)).status_code, 404)
            self.assertEqual(Client(REMOTE_ADDR="203.0.113.9").get(page(secret)).status_code, 200)

    def test_it_forgets_failures_no_limit_counts_any_more(self) -> None:
        link, _secret = self.share(password="lantern-42")
        link.unlock("no", "203.0.113.9")
        ReviewLink.objects.opened_by("x" * 43, "203.0.113.9")
        LinkFailure.objects.update(at=timezone.now() - timedelta(hours=1))
        link.unlock("no", "203.0.113.9")
        tasks.tick()
        self.assertEqual(LinkFailure.objects.count(), 1)

    def test_it_rechecks_the_link_inside_the_guests_transaction(self) -> None:
        link, _secret = self.share()
        ReviewLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
        with self.assertRaises(LinkClosed):
            link.comment(self.video, "Ms Lee", "Too late")
        with self.assertRaises(LinkClosed):
            link.decide(self.video, "Ms Lee", "approved")
        self.assertFalse(ClientVerdict.objects.exists())


class PasswordTests(LinkTestCase):
    def unlock(self, secret: str, password: str, client: Client | None = None) -> Any:
        return (client or self.guest).post(
            reverse("studio:client_unlock", args=[secret]), {"password": password}
        )

    def test_it_asks_for_the_password_before_showing_anything(self) -> None:
        link, secret = self.share(password="lantern-42")
        self.assertTrue(link.password.startswith(("pbkdf2_", "argon2", "bcrypt", "scrypt", "md5")))
        locked = self.guest.get(page(secret))
        self.assertContains(locked, "This link has a password")
        self.assertNotContains(locked, "paper boat")
        self.assertEqual(
            self.guest.get(reverse("studio:client_video", args=[secret, self.video.pk])).status_code, 404
        )
        self.assertEqual(self.comment(secret, self.video).status_code, 404)

        wrong = self.unlock(secret, "lantern-41")
        self.assertContains(wrong, "That is not the password", status_code=400)
        self.assertRedirects(self.unlock(secret, "lantern-42"), page(secret))
        self.assertContains(self.guest.get(page(secret)), "A paper boat in the rain")
        self.assertEqual(
            read_body(self.guest.get(reverse("studio:client_video", args=[secret, self.video.pk])))[4:8],
            b"ftyp",
        )

    def test_it_unlocks_only_that_link(self) -> None:
        _link, secret = self.share(password="lantern-42")
        _other, other_secret = self.share(self.other, password="lantern-42")
        self.unlock(secret, "lantern-42")
        self.assertContains(self.guest.get(page(other_secret)), "This link has a password")

    def test_it_limits_wrong_passwords_per_link_and_per_address(self) -> None:
        _link, secret = self.share(password="lantern-42")
        with mock.patch(
            "sorastudio.studio.models.sharing.PASSWORD_TRIES_PER_ADDRESS", Window(2, timedelta(minutes=15))
        ):
            self.unlock(secret, "no")
            self.unlock(secret, "no")
            refused = self.unlock(secret, "lantern-42")
            self.assertContains(refused, "Too many tries", status_code=429)
            self.assertContains(self.guest.get(page(secret)), "This link has a password")
        with mock.patch(
            "sorastudio.studio.models.sharing.PASSWORD_TRIES_PER_LINK", Window(2, timedelta(minutes=15))
        ):
            elsewhere = Client(REMOTE_ADDR="203.0.113.9")
            self.assertContains(
                self.unlock(secret, "lantern-42", elsewhere), "Too many tries", status_code=429
            )


class GuestTests(LinkTestCase):
    def test_it_records_a_comment_on_the_timeline_and_tells_the_team(self) -> None:
        link, secret = self.share(self.video, title="Spring campaign")
        response = self.comment(secret, self.video, at_seconds="0:03")
        self.assertRedirects(response, f"{page(secret)}#video-{self.video.pk}", fetch_redirect_response=False)
        comment = Comment.objects.get()
        self.assertEqual(
            (comment.author, comment.guest_name, comment.link, comment.at_seconds),
            (None, "Ms Lee", link, 3.0),
        )
        event = self.video.events.get(kind="client_commented")
        self.assertEqual(
            (event.actor, event.detail["guest"], event.detail["link"]), (None, "Ms Lee", "Spring campaign")
        )
        told = Notification.objects.filter(kind=Notification.Kind.CLIENT_COMMENT)
        self.assertEqual({n.user for n in told}, {self.alice, self.bob})
        self.assertIn("Ms Lee", told[0].text)
        team_page = self.as_(self.alice).get(self.video.get_absolute_url()).content.decode()
        self.assertIn("Ms Lee (client)", team_page)
        self.assertIn("Commented by Ms Lee (client, via “Spring campaign”)", team_page)
        self.assertContains(self.guest.get(page(secret)), "Warmer light, please.")

    def test_it_records_a_verdict_beside_the_teams_review_without_changing_it(self) -> None:
        link, secret = self.share(self.video, title="Spring campaign")
        self.assertEqual(self.verdict(secret, self.video, "changes_requested").status_code, 400)
        self.assertEqual(self.verdict(secret, self.video, "rejected").status_code, 400)
        self.assertEqual(self.verdict(secret, self.video, "approved").status_code, 302)
        verdict = ClientVerdict.objects.get()
        self.assertEqual((verdict.link, verdict.decision, verdict.name), (link, "approved", "Ms Lee"))
        self.video.refresh_from_db()
        self.assertEqual(self.video.review_state, ReviewState.NEW)
        self.assertTrue(self.video.events.filter(kind="client_approved").exists())
        self.assertEqual(
            {n.user for n in Notification.objects.filter(kind=Notification.Kind.CLIENT_VERDICT)},
            {self.alice, self.bob},
        )
        self.assertContains(
            self.as_(self.alice).get(self.video.get_absolute_url()),
            "Client: approved by Ms Lee, via link “Spring campaign”",
        )
        self.verdict(secret, self.video, "changes_requested", comment="Shorter, please.")
        self.assertEqual(ClientVerdict.objects.get().decision, "changes_requested")
        self.assertTrue(Comment.objects.filter(body="Shorter, please.", guest_name="Ms Lee").exists())

    def test_it_wants_the_csrf_token_on_a_guests_post(self) -> None:
        _link, secret = self.share()
        strict = Client(enforce_csrf_checks=True)
        strict.get(page(secret))
        refused = strict.post(
            reverse("studio:client_comment", args=[secret, self.video.pk]), {"name": "Ms Lee", "body": "Hi"}
        )
        self.assertEqual(refused.status_code, 403)
        token = strict.cookies["csrftoken"].value
        sent = strict.post(
            reverse("studio:client_comment", args=[secret, self.video.pk]),
            {"name": "Ms Lee", "body": "Hi", "csrfmiddlewaretoken": token},
        )
        self.assertEqual(sent.status_code, 302)

    def test_it_needs_a_name(self) -> None:
        _link, secret = self.share()
        response = self.guest.post(
            reverse("studio:client_comment", args=[secret, self.video.pk]), {"name": " ", "body": "Hello"}
        )
        self.assertContains(response, "Write your name", status_code=400)

    def test_it_remembers_the_guests_name(self) -> None:
        _link, secret = self.share()
        self.comment(secret, self.video)
        self.assertContains(self.guest.get(page(secret)), 'value="Ms Lee"')

    def test_it_limits_a_links_comments(self) -> None:
        _link, secret = self.share()
        with mock.patch(
            "sorastudio.studio.models.sharing.GUEST_POSTS_PER_LINK", Window(2, timedelta(minutes=10))
        ):
            self.comment(secret, self.video)
            self.comment(secret, self.video)
            self.assertContains(self.comment(secret, self.video), "Too many tries", status_code=429)
            # A verdict changed again and again counts too: each one tells the team.
            self.assertContains(self.verdict(secret, self.video), "Too many tries", status_code=429)
        self.assertEqual(Comment.objects.count(), 2)
        self.assertFalse(ClientVerdict.objects.exists())

    def test_it_reaches_nothing_of_the_team(self) -> None:
        _link, secret = self.share(self.video)
        # Another of the team's videos, not shared: nothing through this link.
        for name in ("client_video", "client_poster"):
            self.assertEqual(
                self.guest.get(reverse(f"studio:{name}", args=[secret, self.other.pk])).status_code, 404
            )
        self.assertEqual(self.comment(secret, self.other).status_code, 404)
        self.assertEqual(self.verdict(secret, self.other).status_code, 404)
        # The team's own addresses want a login.
        for url in (self.video.get_absolute_url(), reverse("studio:video", args=[self.video.pk])):
            self.assertEqual(self.guest.get(url).status_code, 302)
        shown = self.guest.get(page(secret)).content.decode()
        for secret_of_team in (
            ">Studio<",
            "alice",
            "bob",
            "A paper boat in the sun",
            "/generations/",
            "logout",
        ):
            self.assertNotIn(secret_of_team, shown)
        self.assertEqual(self.guest.get(page(secret))["Referrer-Policy"], "same-origin")

    def test_it_hides_a_video_moved_to_the_trash(self) -> None:
        _link, secret = self.share(self.video, self.other)
        self.other.soft_delete(self.alice)
        self.assertNotContains(self.guest.get(page(secret)), "A paper boat in the sun")
        self.assertEqual(
            self.guest.get(reverse("studio:client_video", args=[secret, self.other.pk])).status_code, 404
        )

    def test_it_masks_the_secret_in_logs(self) -> None:
        _link, secret = self.share()
        record = logging.LogRecord(
            "django.request", logging.WARNING, "", 0, "Not Found: %s", (page(secret),), None
        )
        MaskCredentials().filter(record)
        self.assertNotIn(secret, record.getMessage())
        self.assertIn("/review/", record.getMessage())
