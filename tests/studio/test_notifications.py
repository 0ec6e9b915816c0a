"""Notifications: the pipeline tells a creator their video is ready or failed, the bell counts what is unread
across one's teams, opening one marks it read and switches to its team, and mail goes out once when an SMTP
server is configured."""

from __future__ import annotations

import json
import smtplib
from typing import Any
from unittest import mock

from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sorastudio.pipeline import tasks
from sorastudio.studio.models import Generation, Notification, ReviewState, State, email_notifications
from sorastudio.studio.notification_views import NOTIFICATIONS_PAGE
from sorastudio.studio.notifications import bell_for
from sorastudio.teams.models import Membership, Team
from tests.helpers import TeamTestCase, make_job

BELL = {"HX-Request": "true", "HX-Target": "bell"}
SMTP = {"EMAIL_HOST": "smtp.example.test", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}


class NotificationTestCase(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.alice)

    def make(
        self, prompt: str = "A red fox trotting through fresh snow at dawn", team: Team | None = None
    ) -> Generation:
        return make_job(team or self.studio, self.alice, prompt)

    def notify(self, user: Any, kind: str = Notification.Kind.READY, **extra: object) -> Notification:
        extra.setdefault("team", self.studio)
        extra.setdefault("generation", self.make())
        return Notification.objects.create(user=user, kind=kind, **extra)

    def bell(self, client: Client | None = None, seen: str = "") -> str:
        url = reverse("studio:bell") + (f"?seen={seen}" if seen else "")
        response = (client or self.client).get(url, headers=BELL)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()


class PipelineNotificationTests(NotificationTestCase):
    def test_the_creator_is_told_when_the_video_is_ready(self) -> None:
        generation = self.make("A paper boat in the rain")
        tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        (notification,) = Notification.objects.all()
        self.assertEqual((notification.user, notification.team), (self.alice, self.studio))
        self.assertEqual(notification.generation, generation)
        self.assertEqual(notification.text, "Your video is ready: “A paper boat in the rain”")
        self.assertEqual(notification.url, generation.get_absolute_url())

    def test_the_creator_is_told_when_the_video_failed(self) -> None:
        generation = self.make("a real person on a beach")
        tasks.start(generation)
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.FAILED)
        (notification,) = Notification.objects.all()
        self.assertEqual(notification.user, self.alice)
        self.assertEqual(notification.kind, Notification.Kind.FAILED)
        self.assertEqual(notification.text, "Your video failed: “a real person on a beach”")


class TextTests(NotificationTestCase):
    def test_each_kind_is_one_sentence_naming_who_and_which_video(self) -> None:
        generation = self.make("A red fox trotting through fresh snow at dawn, slow tracking shot")
        fox = "“A red fox trotting through fresh snow at…”"
        cases = [
            (Notification.Kind.REVIEW_REQUESTED, {}, f"alice asked you to review {fox}"),
            (Notification.Kind.COMMENT, {}, f"alice commented on {fox}"),
            (Notification.Kind.REVIEW_RETURNED, {"decision": "approved"}, f"alice approved your video {fox}"),
            (Notification.Kind.REVIEW_RETURNED, {"decision": "rejected"}, f"alice rejected your video {fox}"),
            (
                Notification.Kind.REVIEW_RETURNED,
                {"decision": "changes_requested"},
                f"alice asked for changes to your video {fox}",
            ),
        ]
        for kind, detail, text in cases:
            with self.subTest(kind=kind, **detail):
                notification = Notification(
                    user=self.bob,
                    team=self.studio,
                    generation=generation,
                    actor=self.alice,
                    kind=kind,
                    detail=detail,
                )
                self.assertEqual(notification.text, text)

    def test_a_review_decision_notifies_the_creator(self) -> None:
        generation = self.make()
        Generation.objects.filter(pk=generation.pk).update(state=State.SUCCEEDED, video="videos/fox.mp4")
        generation.refresh_from_db()
        generation.decide(self.bob, ReviewState.REJECTED, comment="The fox looks like a dog.")
        notification = Notification.objects.get(user=self.alice)
        self.assertEqual(
            notification.text, "bob rejected your video “A red fox trotting through fresh snow at…”"
        )

    def test_a_video_in_the_trash_leads_to_the_gallery(self) -> None:
        notification = self.notify(self.alice)
        assert notification.generation is not None
        Generation.objects.filter(pk=notification.generation.pk).update(state=State.SUCCEEDED)
        notification.generation.refresh_from_db()
        notification.generation.soft_delete(self.alice)
        self.assertEqual(notification.url, reverse("studio:index"))


class BellTests(NotificationTestCase):
    def test_the_bell_counts_unread_notifications_across_ones_teams(self) -> None:
        Membership.objects.create(team=self.agency, user=self.alice)
        self.notify(self.alice)
        self.notify(self.alice, team=self.agency, generation=self.make(team=self.agency))
        self.notify(self.alice, read_at=timezone.now())
        self.notify(self.bob)
        bell = self.bell()
        self.assertIn('data-unread="2"', bell)
        self.assertIn('<span class="bell-count" aria-hidden="true">2</span>', bell)
        self.assertIn("Notifications: 2 unread", bell)

    def test_every_page_shows_the_bell_with_its_polling(self) -> None:
        self.notify(self.alice)
        page = self.client.get(reverse("studio:history")).content.decode()
        self.assertIn('id="bell"', page)
        self.assertIn('data-unread="1"', page)
        self.assertIn(f'hx-get="{reverse("studio:bell")}?seen=1"', page)
        self.assertIn('hx-trigger="every 20s, notifications-changed from:body"', page)

    def test_the_bell_is_one_count_query(self) -> None:
        for _ in range(3):
            self.notify(self.alice)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(bell_for(self.alice).unread, 3)
            self.assertEqual(bell_for(self.alice, seen=3).unread, 3)
        self.assertEqual(len(queries), 2)
        self.assertTrue(all("COUNT(" in q["sql"] for q in queries.captured_queries))

    def test_when_the_count_rose_the_bell_carries_the_newest_for_the_browser(self) -> None:
        self.notify(self.alice)
        self.assertNotIn("data-newest-text", self.bell(seen="1"))
        newest = self.notify(
            self.alice, kind=Notification.Kind.FAILED, generation=self.make("A kite at dusk")
        )
        bell = self.bell(seen="1")
        self.assertIn('data-newest-text="Your video failed: “A kite at dusk”"', bell)
        self.assertIn(f'data-newest-url="{reverse("studio:open_notification", args=[newest.pk])}"', bell)
        self.assertIn(f'data-newest-id="{newest.pk}"', bell)

    def test_a_team_one_has_left_no_longer_counts(self) -> None:
        Membership.objects.create(team=self.agency, user=self.alice)
        self.notify(self.alice, team=self.agency, generation=self.make(team=self.agency))
        self.assertIn('data-unread="1"', self.bell())
        Membership.objects.filter(team=self.agency, user=self.alice).delete()
        self.assertIn('data-unread="0"', self.bell())


class NotificationsPageTests(NotificationTestCase):
    def test_it_lists_ones_own_newest_first_with_the_team_and_unread_marked(self) -> None:
        Membership.objects.create(team=self.agency, user=self.alice)
        older = self.notify(self.alice, generation=self.make("An old lighthouse"), read_at=timezone.now())
        newer = self.notify(
            self.alice, team=self.agency, generation=self.make("A new kite", team=self.agency)
        )
        self.notify(self.bob, generation=self.make("Bob's own news"))
        page = self.client.get(reverse("studio:notifications")).content.decode()
        self.assertLess(page.index("A new kite"), page.index("An old lighthouse"))
        self.assertNotIn("Bob's own news", page)
        item = page[page.index(reverse("studio:open_notification", args=[newer.pk])) :]
        self.assertIn("Agency ·", item[: item.index("</li>")])
        self.assertIn("Unread", item[: item.index("</li>")])
        item = page[page.index(reverse("studio:open_notification", args=[older.pk])) :]
        self.assertNotIn("Unread", item[: item.index("</li>")])
        self.assertIn("data-desktop-notifications", page)

    def test_mark_all_read(self) -> None:
        for _ in range(2):
            self.notify(self.alice)
        theirs = self.notify(self.bob)
        response = self.client.post(reverse("studio:mark_all_read"))
        self.assertRedirects(response, reverse("studio:notifications"))
        self.assertFalse(Notification.objects.filter(user=self.alice, read_at__isnull=True).exists())
        theirs.refresh_from_db()
        self.assertIsNone(theirs.read_at)

    def test_its_pages_come_as_fragments_at_the_address_of_the_page(self) -> None:
        for _ in range(NOTIFICATIONS_PAGE + 1):
            self.notify(self.alice)
        page = self.client.get(reverse("studio:notifications")).content.decode()
        self.assertIn(f'hx-get="{reverse("studio:notification_list")}?page=2"', page)
        older = self.client.get(
            reverse("studio:notification_list"), {"page": "2"}, headers={"HX-Request": "true"}
        )
        self.assertTrue(older.content.decode().lstrip().startswith('<div id="notification-list">'))
        self.assertEqual(older["HX-Push-Url"], f"{reverse('studio:notifications')}?page=2")

    def test_mark_all_read_with_htmx_refreshes_the_bell(self) -> None:
        self.notify(self.alice)
        response = self.client.post(reverse("studio:mark_all_read"), headers={"HX-Request": "true"})
        self.assertIn("notifications-changed", json.loads(response["HX-Trigger"]))
        self.assertTrue(response.content.decode().lstrip().startswith('<div id="notification-list">'))
        self.assertIn('data-unread="0"', self.bell())


class OpenNotificationTests(NotificationTestCase):
    def test_opening_marks_it_read_and_leads_to_the_video(self) -> None:
        notification = self.notify(self.alice)
        response = self.client.get(reverse("studio:open_notification", args=[notification.pk]))
        assert notification.generation is not None
        self.assertRedirects(
            response, notification.generation.get_absolute_url(), fetch_redirect_response=False
        )
        notification.refresh_from_db()
        self.assertIsNotNone(notification.read_at)

    def test_opening_switches_to_the_notifications_team(self) -> None:
        Membership.objects.create(team=self.agency, user=self.alice)
        generation = self.make("A kite over Agency's beach", team=self.agency)
        notification = self.notify(self.alice, team=self.agency, generation=generation)
        response = self.client.get(reverse("studio:open_notification", args=[notification.pk]), follow=True)
        self.assertEqual(response.status_code, 200)
        self.assertIn("A kite over Agency&#x27;s beach", response.content.decode())
        self.assertEqual(self.client.session["team_id"], str(self.agency.pk))

    def test_another_persons_notification_is_404(self) -> None:
        notification = self.notify(self.bob)
        response = self.client.get(reverse("studio:open_notification", args=[notification.pk]))
        self.assertEqual(response.status_code, 404)
        notification.refresh_from_db()
        self.assertIsNone(notification.read_at)

    def test_a_team_one_has_left_is_404(self) -> None:
        Membership.objects.create(team=self.agency, user=self.alice)
        notification = self.notify(self.alice, team=self.agency, generation=self.make(team=self.agency))
        Membership.objects.filter(team=self.agency, user=self.alice).delete()
        response = self.client.get(reverse("studio:open_notification", args=[notification.pk]))
        self.assertEqual(response.status_code, 404)


@override_settings(**SMTP)
class EmailTests(NotificationTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice.email = "alice@example.com"
        self.alice.save()

    def send(self, *users: Any) -> list[Notification]:
        generation = self.make("A paper boat in the rain")
        with self.captureOnCommitCallbacks(execute=True):
            return Notification.send(
                users,
                team=self.studio,
                kind=Notification.Kind.REVIEW_REQUESTED,
                generation=generation,
                actor=self.dana,
            )

    def test_a_notification_is_mailed_to_its_person(self) -> None:
        (notification,) = self.send(self.alice)
        (message,) = mail.outbox
        self.assertEqual(message.to, ["alice@example.com"])
        self.assertEqual(message.subject, "Studio: dana asked you to review “A paper boat in the rain”")
        self.assertIn("dana asked you to review “A paper boat in the rain”", message.body)
        self.assertNotIn("http", message.body)  # no public address configured: no link
        notification.refresh_from_db()
        self.assertIsNotNone(notification.emailed_at)

    @override_settings(PUBLIC_BASE_URL="https://studio.example.com")
    def test_the_mail_links_to_the_notification(self) -> None:
        (notification,) = self.send(self.alice)
        link = "https://studio.example.com" + reverse("studio:open_notification", args=[notification.pk])
        self.assertIn(link, mail.outbox[0].body)

    def test_it_is_mailed_once_even_if_the_task_runs_twice(self) -> None:
        (notification,) = self.send(self.alice)
        email_notifications([str(notification.pk)])
        self.assertEqual(len(mail.outbox), 1)

    def test_nobody_without_an_address_is_mailed(self) -> None:
        (notification,) = self.send(self.bob)
        self.assertEqual(mail.outbox, [])
        notification.refresh_from_db()
        self.assertIsNone(notification.emailed_at)

    @override_settings(EMAIL_HOST="")
    def test_nothing_is_mailed_without_an_smtp_server(self) -> None:
        self.send(self.alice)
        self.assertEqual(mail.outbox, [])

    @override_settings(EMAIL_HOST_PASSWORD="hunter2-secret")
    def test_a_failing_smtp_server_is_logged_without_secrets_and_the_notification_stays(self) -> None:
        refusal = smtplib.SMTPAuthenticationError(535, b"5.7.8 login alice / hunter2-secret refused")
        with (
            mock.patch("sorastudio.studio.models.notifications.send_mail", side_effect=refusal),
            self.assertLogs("sorastudio.studio.models.notifications", "WARNING") as logs,
        ):
            (notification,) = self.send(self.alice)
        self.assertIn("SMTPAuthenticationError", logs.output[0])
        self.assertNotIn("hunter2", "\n".join(logs.output))
        self.assertTrue(Notification.objects.filter(pk=notification.pk, read_at__isnull=True).exists())
        self.assertIn('data-unread="1"', self.bell())
