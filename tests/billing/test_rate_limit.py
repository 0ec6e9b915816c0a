"""The per-person limit on submits (SUBMIT_RATE_LIMIT): counted from the jobs in the database, checked before
anything is stored or reserved, said beside the button with when to try again."""

from __future__ import annotations

import html
import io
import os
from datetime import timedelta
from typing import Any
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import SimpleTestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from sorastudio import settings as studio_settings
from sorastudio.billing.models import LedgerEntry
from sorastudio.lib.ratelimit import RateLimited, Window
from sorastudio.studio.models import Generation
from tests.helpers import ACEDATA_FORM, TeamTestCase, make_finished

FORM = {**ACEDATA_FORM, "prompt": "A lighthouse at dawn"}
HTMX = {"HX-Request": "true"}
TEN_MINUTES = (3, 600)


@override_settings(SUBMIT_RATE_LIMIT=TEN_MINUTES)
class RateLimitTests(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.alice)

    def earlier(self, minutes: float, user: Any = None, team: Any = None) -> Generation:
        """A job asked for `minutes` ago."""
        job = make_finished(team or self.studio, user or self.alice)
        Generation.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
        return job

    def submit(self, **fields: str) -> Any:
        return self.client.post(reverse("studio:generate"), {**FORM, **fields}, headers=HTMX)

    def test_it_lets_a_submit_within_the_limit_through(self) -> None:
        self.earlier(4)
        self.earlier(1)
        response = self.submit()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(Generation.objects.filter(prompt=FORM["prompt"]).count(), 1)

    def test_past_the_limit_it_creates_nothing_charges_nothing_and_says_when_to_try_again(self) -> None:
        for minutes in (4, 2, 1):
            self.earlier(minutes)
        jobs, entries = Generation.objects.count(), LedgerEntry.objects.count()
        response = self.submit()
        page = html.unescape(response.content.decode())
        self.assertIn("You have asked for 3 videos in the last 10 minutes; try again in 6 minutes.", page)
        self.assertIn(FORM["prompt"], page)  # what was typed is still there
        self.assertEqual(Generation.objects.count(), jobs)
        self.assertEqual(LedgerEntry.objects.count(), entries)

    def test_the_plain_form_is_refused_the_same_way(self) -> None:
        for minutes in (8.5, 2, 1):
            self.earlier(minutes)
        response = self.client.post(reverse("studio:generate"), FORM)
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "try again in 2 minutes.", status_code=400)
        self.assertContains(response, FORM["prompt"], status_code=400)

    def test_it_counts_every_video_a_submit_asks_for(self) -> None:
        self.earlier(5)
        self.earlier(3)
        response = self.submit(variations="2")  # 2 + 2 > 3: room comes once the older of the two leaves
        self.assertContains(response, "try again in 5 minutes.")
        self.assertFalse(Generation.objects.filter(prompt=FORM["prompt"]).exists())

    def test_a_submit_larger_than_the_limit_is_told_to_ask_for_fewer(self) -> None:
        response = self.submit(variations="4")
        self.assertContains(
            response, "You can ask for at most 3 videos in 10 minutes; ask for fewer at once."
        )
        self.assertFalse(Generation.objects.filter(prompt=FORM["prompt"]).exists())

    def test_it_counts_the_persons_jobs_in_every_team_deleted_ones_too_but_not_older_ones_or_others(
        self,
    ) -> None:
        self.earlier(1, team=self.agency)  # another team's job of hers
        deleted = self.earlier(2)
        deleted.soft_delete(self.alice)
        self.earlier(11)  # left the window
        self.earlier(1, user=self.bob)  # someone else's
        self.assertEqual(Generation.objects.filter(prompt=FORM["prompt"]).count(), 0)
        self.submit()
        self.assertEqual(Generation.objects.filter(prompt=FORM["prompt"]).count(), 1)  # 3 of 3 now
        response = self.submit()
        self.assertContains(response, "You have asked for 3 videos in the last 10 minutes")
        self.assertEqual(Generation.objects.filter(prompt=FORM["prompt"]).count(), 1)

    def test_a_submit_that_passed_the_early_check_is_refused_when_others_took_the_room_meanwhile(
        self,
    ) -> None:
        for minutes in (4, 2, 1):
            self.earlier(minutes)
        # The early check ran before the others' jobs were committed; the count under the lock sees them.
        refusal = RateLimited(3, timedelta(minutes=10), timezone.now() + timedelta(minutes=6))
        with mock.patch("sorastudio.billing.ratelimit.check", side_effect=[None, refusal]):
            response = self.submit()
        self.assertContains(response, "You have asked for 3 videos in the last 10 minutes")
        self.assertContains(response, FORM["prompt"])
        self.assertFalse(Generation.objects.filter(prompt=FORM["prompt"]).exists())

    def test_a_rerun_counts_too(self) -> None:
        original = self.earlier(3)
        self.earlier(2)
        self.earlier(1)
        response = self.client.post(reverse("studio:rerun", args=[original.pk]), follow=True)
        self.assertContains(response, "try again in 7 minutes.")
        self.assertFalse(Generation.objects.filter(parent=original).exists())

    @override_settings(SUBMIT_RATE_LIMIT=None)
    def test_without_a_limit_nothing_is_counted(self) -> None:
        for minutes in (3, 2, 1, 0.5):
            self.earlier(minutes)
        self.submit(variations="4")
        self.assertEqual(Generation.objects.filter(prompt=FORM["prompt"]).count(), 4)

    def test_the_generate_command_a_local_admin_tool_is_not_limited(self) -> None:
        for minutes in (3, 2, 1):
            self.earlier(minutes)
        call_command("generate", "--user", "alice", "--prompt", "From the shell", stdout=io.StringIO())
        self.assertTrue(Generation.objects.filter(prompt="From the shell").exists())


class RateSettingTests(SimpleTestCase):
    def test_it_reads_a_count_per_period(self) -> None:
        for raw, expected in (
            ("30/10m", (30, 600)),
            ("5/m", (5, 60)),
            (" 100 / 1d ", (100, 86400)),
            ("2/30s", (2, 30)),
            ("off", None),
            ("", None),
        ):
            with mock.patch.dict(os.environ, {"X_RATE": raw}):
                self.assertEqual(studio_settings.env_rate_limit("X_RATE"), expected, raw)

    def test_it_refuses_anything_else(self) -> None:
        for raw in ("30", "30/10", "0/10m", "30/0m", "ten/m", "30/10w", "-1/m"):
            with (
                mock.patch.dict(os.environ, {"X_RATE": raw}),
                self.assertRaisesMessage(ImproperlyConfigured, "X_RATE must look like 30/10m"),
            ):
                studio_settings.env_rate_limit("X_RATE")


class WindowTests(SimpleTestCase):
    """lib.ratelimit's counting on its own: what fits, and when room comes back."""

    window = Window(3, timedelta(minutes=10))
    asked_at = (timezone.now() - timedelta(minutes=8), timezone.now() - timedelta(minutes=1))

    def test_it_lets_what_fits_through(self) -> None:
        self.assertIsNone(self.window.refusal(1, lambda: 2, self.asked_at.__getitem__))

    def test_room_comes_back_when_the_oldest_it_needs_leaves_the_window(self) -> None:
        refusal = self.window.refusal(2, lambda: 2, self.asked_at.__getitem__)
        assert refusal is not None
        self.assertEqual(refusal.retry_at, self.asked_at[0] + timedelta(minutes=10))

    def test_a_request_larger_than_the_limit_counts_nothing(self) -> None:
        def uncounted() -> int:
            raise AssertionError("counted")

        refusal = self.window.refusal(4, uncounted, self.asked_at.__getitem__)
        assert refusal is not None
        self.assertIsNone(refusal.retry_at)

    def test_a_rate_as_settings_read_it_makes_the_window(self) -> None:
        self.assertEqual(Window.of((30, 600)), Window(30, timedelta(minutes=10)))
        self.assertIsNone(Window.of(None))
