"""The pipeline health page (/dashboard/pipeline/): its numbers checked against jobs, events and upstream
requests made for the purpose, and the page itself for each role."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from sorastudio.billing.models import ProviderPause
from sorastudio.pipeline import health
from sorastudio.pipeline.models import PollLease, UpstreamCall
from sorastudio.studio.models import Event, Generation, State
from sorastudio.teams.models import Team
from tests.helpers import TeamTestCase, make_row

# The 20 successes of the last day took 10, 20, ... 200 seconds.
DURATIONS = [10.0 * n for n in range(1, 21)]


class HealthTestCase(TeamTestCase):
    def setUp(self) -> None:
        self.now = timezone.now()
        # Made an hour ago, each in its own time; the poster of every other one is stored too.
        for number, seconds in enumerate(DURATIONS):
            done = self.ago(hours=1)
            self.job(
                State.SUCCEEDED,
                created=done - timedelta(seconds=seconds),
                finished=done,
                video=f"videos/{number}.mp4",
                poster=f"posters/{number}.jpg" if number % 2 else "",
                size_bytes=1000,
            )
        # A slow success three days ago, in the trash now: in the week's numbers and still on disk.
        slow = self.job(
            State.SUCCEEDED,
            created=self.ago(days=3, seconds=1000),
            finished=self.ago(days=3),
            video="videos/slow.mp4",
            size_bytes=5000,
        )
        Generation.objects.filter(pk=slow.pk).update(deleted_at=self.ago(days=1))
        for code in ("content_policy_violation", "content_policy_violation", ""):
            self.job(State.FAILED, created=self.ago(hours=3), finished=self.ago(hours=2), error_code=code)
        self.job(
            State.TIMED_OUT, created=self.ago(hours=5), finished=self.ago(hours=4), error_code="timed_out"
        )
        self.job(State.FAILED, created=self.ago(days=3), finished=self.ago(days=3), error_code="api_error")
        self.job(State.FAILED, created=self.ago(days=40), finished=self.ago(days=40), error_code="old")
        # Unfinished: the oldest has waited a quarter of an hour.
        self.job(State.QUEUED, created=self.ago(minutes=15))
        self.job(State.QUEUED, created=self.ago(minutes=1))
        for state in (State.SUBMITTING, State.RUNNING, State.ARCHIVING):
            self.job(state, created=self.ago(minutes=5))
        # Another team's jobs count only for that team.
        self.job(State.QUEUED, created=self.ago(hours=2), team=self.agency)
        self.job(
            State.FAILED,
            created=self.ago(hours=2),
            finished=self.ago(hours=1),
            error_code="content_policy_violation",
            team=self.agency,
        )

        some_job = Generation.objects.filter(team=self.studio).earliest("created_at")
        for minutes in (5, 20, 50, 120):
            event = Event.objects.create(generation=some_job, kind="callback")
            Event.objects.filter(pk=event.pk).update(at=self.ago(minutes=minutes))
        Event.objects.create(generation=some_job, kind="retry")

        self.call("acedata", "status", jobs=5)
        self.call("acedata", "status", jobs=3)
        self.call(
            "acedata", "status", jobs=4, http_status=429, ok=False, rate_limited=True, error_code="rate"
        )
        self.call("acedata", "submit")
        self.call("sora2api", "status")
        self.call("sora2api", "submit", http_status=500, ok=False, error_code="server_error")
        self.call("sora2api", "status", simulated=True)
        self.call("acedata", "status", at=self.ago(hours=2), ok=False, http_status=429, rate_limited=True)
        ProviderPause.objects.create(provider="sora2api", reason="insufficient credits")

    def ago(self, **span: float) -> datetime:
        return self.now - timedelta(**span)

    def job(
        self,
        state: str,
        *,
        created: datetime,
        finished: datetime | None = None,
        team: Team | None = None,
        **fields: Any,
    ) -> Generation:
        team = team or self.studio
        user = self.alice if team == self.studio else self.carol
        return make_row(
            team,
            user,
            "a paper boat",
            state=state,
            created_at=created,
            finished_at=finished,
            **fields,
        )

    def call(self, provider: str, kind: str, *, at: datetime | None = None, **fields: Any) -> None:
        fields.setdefault("http_status", 200)
        UpstreamCall.objects.create(
            provider=provider, kind=kind, at=at or self.ago(minutes=10), duration_ms=100, **fields
        )


class NumbersTests(HealthTestCase):
    def test_it_counts_the_teams_unfinished_jobs_and_the_oldest_wait(self) -> None:
        numbers = health.read(self.studio, now=self.now)
        self.assertEqual((numbers.queued, numbers.live), (2, 3))
        self.assertEqual(numbers.oldest_unfinished, timedelta(minutes=15))

    def test_it_counts_the_days_outcomes_by_error_code(self) -> None:
        numbers = health.read(self.studio, "24h", now=self.now)
        self.assertEqual((numbers.succeeded, numbers.failed), (20, 4))
        self.assertEqual(
            numbers.failures_by_code, [("content_policy_violation", 2), ("timed_out", 1), ("unknown", 1)]
        )
        self.assertAlmostEqual(numbers.success_rate or 0, 100 * 20 / 24)

    def test_it_gives_the_exact_median_and_95th_percentile(self) -> None:
        numbers = health.read(self.studio, "24h", now=self.now)
        self.assertEqual(numbers.timed, 20)
        self.assertEqual(numbers.median_seconds, 105.0)  # between the 10th (100 s) and 11th (110 s)
        self.assertEqual(numbers.p95_seconds, 190.0)  # the 19th of 20

    def test_demo_videos_do_not_count_in_the_times(self) -> None:
        """seed_demo's videos have invented timings: they would skew the median and the 95th percentile."""
        for _n in range(10):
            self.job(State.SUCCEEDED, created=self.ago(minutes=30), finished=self.ago(minutes=30), demo=True)
        numbers = health.read(self.studio, "24h", now=self.now)
        self.assertEqual(numbers.timed, 20)
        self.assertEqual((numbers.median_seconds, numbers.p95_seconds), (105.0, 190.0))

    def test_a_longer_window_takes_in_older_jobs(self) -> None:
        week = health.read(self.studio, "7d", now=self.now)
        self.assertEqual((week.succeeded, week.failed), (21, 5))
        self.assertIn(("api_error", 1), week.failures_by_code)
        self.assertEqual(week.median_seconds, 110.0)  # the 11th of 21
        self.assertEqual(week.p95_seconds, 200.0)  # the 20th of 21: the slow one is the 21st
        month = health.read(self.studio, "30d", now=self.now)
        self.assertNotIn(("old", 1), month.failures_by_code)

    def test_an_unknown_window_is_the_last_day(self) -> None:
        self.assertEqual(health.read(self.studio, "forever", now=self.now).window, "24h")

    def test_it_counts_the_studios_callbacks_and_polls_of_the_last_hour(self) -> None:
        numbers = health.read(self.agency, now=self.now)  # any team: these are the whole studio's
        self.assertEqual(numbers.callbacks, 3)
        self.assertEqual((numbers.polls, numbers.polled_jobs), (5, 14))

    def test_it_counts_errors_and_rate_limits_by_provider(self) -> None:
        numbers = health.read(self.studio, now=self.now)
        rows = [(r.provider, r.simulated, r.requests, r.errors, r.rate_limited) for r in numbers.calls]
        self.assertEqual(
            rows, [("acedata", False, 4, 1, 1), ("sora2api", False, 2, 1, 0), ("sora2api", True, 1, 0, 0)]
        )
        self.assertEqual((numbers.upstream_errors, numbers.rate_limited), (2, 1))
        self.assertEqual([pause.provider for pause in numbers.pauses], ["sora2api"])

    def test_it_adds_up_the_teams_stored_files_with_the_trash(self) -> None:
        numbers = health.read(self.studio, now=self.now)
        self.assertEqual((numbers.storage_bytes, numbers.stored_videos, numbers.posters), (25000, 21, 10))
        other = health.read(self.agency, now=self.now)
        self.assertEqual((other.storage_bytes, other.stored_videos, other.queued), (0, 0, 1))

    def test_the_percentile_is_nearest_rank(self) -> None:
        self.assertIsNone(health.percentile([], 0.95))
        self.assertEqual(health.percentile([7.0], 0.95), 7.0)
        self.assertEqual(health.percentile([1.0, 2.0, 3.0, 4.0], 0.5), 2.0)
        self.assertEqual(health.percentile([float(n) for n in range(1, 101)], 0.95), 95.0)


class TimelineTests(HealthTestCase):
    def bar(self, svg: str, key: str) -> dict[str, int]:
        """The segments drawn for one hour or day: {series: value}."""
        group = re.search(rf'<g class="bar" data-category="{re.escape(key)}"[^>]*>(.*?)</g>', svg)
        assert group is not None, f"no bar for {key}"
        return {
            name: int(value)
            for name, value in re.findall(r'data-series="([^"]+)" data-value="(\d+)"', group[1])
        }

    def test_the_last_day_is_drawn_hour_by_hour(self) -> None:
        numbers = health.read(self.studio, "24h", now=self.now)
        self.assertEqual(len(numbers.timeline), 25)  # the hour the window starts in, to the hour now
        hour = {n: health._bucket_of(self.ago(hours=n), True).isoformat() for n in (1, 2, 4)}
        outcomes = str(health.outcome_chart(numbers))
        self.assertEqual(self.bar(outcomes, hour[1]), {"Succeeded": 20})
        self.assertEqual(self.bar(outcomes, hour[2]), {"Failed or timed out": 3})
        self.assertEqual(self.bar(outcomes, hour[4]), {"Failed or timed out": 1})
        self.assertEqual(sum(b.succeeded for b in numbers.timeline), numbers.succeeded)
        self.assertEqual(sum(b.failed for b in numbers.timeline), numbers.failed)
        times = str(health.time_chart(numbers))
        self.assertEqual(self.bar(times, hour[1]), {"Median time": 105})

    def test_a_longer_window_is_drawn_day_by_day(self) -> None:
        numbers = health.read(self.studio, "7d", now=self.now)
        self.assertEqual(len(numbers.timeline), 8)
        day = timezone.localtime(self.ago(days=3)).date().isoformat()
        self.assertEqual(
            self.bar(str(health.outcome_chart(numbers)), day), {"Succeeded": 1, "Failed or timed out": 1}
        )
        self.assertEqual(self.bar(str(health.time_chart(numbers)), day), {"Median time": 1000})

    def test_the_page_shows_both_charts_in_each_language(self) -> None:
        client = Client()
        client.force_login(self.dana)
        for language, title in (("en", "Jobs finished per hour"), ("zh-hans", 'id="outcomes-chart"')):
            with self.subTest(language=language):
                page = client.get(reverse("studio:pipeline_health"), headers={"accept-language": language})
                self.assertContains(page, title)
                self.assertContains(page, 'id="times-chart"')


class PageTests(HealthTestCase):
    def page(self, user: Any, query: str = "", route: str = "studio:pipeline_health", **headers: str) -> Any:
        client = Client()
        client.force_login(user)
        return client.get(reverse(route) + query, headers=headers)

    def test_it_shows_an_admin_the_numbers(self) -> None:
        response = self.page(self.dana)
        for figure, value in (
            ("queued", "2"),
            ("live", "3"),
            ("oldest", "15:"),
            ("succeeded", "20"),
            ("failed", "4"),
            ("success-rate", "83.3%"),
            ("median", "1:45"),
            ("p95", "3:10"),
            ("callbacks", "3"),
            ("polls", "5"),
            ("polled-jobs", "14"),
            ("upstream-errors", "2"),
            ("rate-limited", "1"),
            ("videos", "21"),
            ("posters", "10"),
        ):
            with self.subTest(figure=figure):
                self.assertContains(response, f'data-figure="{figure}">{value}')
        self.assertContains(response, '<tr data-code="content_policy_violation"><td><code>')
        self.assertContains(response, 'data-paused="sora2api"')
        self.assertContains(response, "the whole studio's, every team's together")
        self.assertContains(response, reverse("studio:dashboard"))  # the dashboards' shared navigation

    def test_it_names_the_service_it_last_polled(self) -> None:
        PollLease.note("acedata")
        self.assertContains(self.page(self.dana), "Last successful poll of AceDataCloud:")

    def test_it_filters_the_outcomes_by_window(self) -> None:
        response = self.page(self.dana, "?window=7d")
        self.assertContains(response, 'data-figure="failed">5')
        self.assertContains(response, '<option value="7d" selected>')

    def test_it_refreshes_its_numbers_as_a_fragment(self) -> None:
        response = self.page(
            self.dana,
            "?window=7d",
            "studio:pipeline_numbers",
            HX_Request="true",
            HX_Target="pipeline-numbers",
        )
        body = response.content.decode()
        self.assertNotIn("<html", body)
        self.assertIn('hx-trigger="every 10s"', body)
        self.assertIn('hx-get="/dashboard/pipeline/numbers?window=7d"', body)
        self.assertIn('data-figure="failed">5', body)

    def test_its_window_asks_for_the_page_and_takes_the_numbers_from_it(self) -> None:
        # The page's own address, so that the window chosen is the one pushed into the address bar.
        page = self.page(self.dana).content.decode()
        self.assertRegex(
            page, r'hx-get="/dashboard/pipeline/" hx-select="#pipeline-numbers" hx-target="#pipeline-numbers"'
        )

    def test_it_is_for_admins_of_their_own_team(self) -> None:
        self.assertEqual(self.page(self.alice).status_code, 403)
        self.assertEqual(self.page(self.bob).status_code, 403)
        carol = self.page(self.carol)
        self.assertContains(carol, 'data-figure="queued">1')
        self.assertContains(carol, 'data-figure="succeeded">0')
        self.assertContains(carol, 'data-figure="callbacks">3')  # the studio's, as the page says


class AdminTests(TestCase):
    def test_every_model_is_in_djangos_admin(self) -> None:
        for label in ("studio", "simulator"):
            for model in apps.get_app_config(label).get_models():
                with self.subTest(model=model.__name__):
                    self.assertTrue(admin.site.is_registered(model))

    def test_the_request_log_can_be_read_but_not_edited(self) -> None:
        call = UpstreamCall.objects.create(
            provider="acedata", kind="status", http_status=429, rate_limited=True
        )
        staff = get_user_model().objects.create_superuser("root", password="root-pass-123")
        client = Client()
        client.force_login(staff)
        listing = client.get(reverse("admin:pipeline_upstreamcall_changelist"))
        self.assertContains(listing, "429")
        self.assertEqual(client.get(reverse("admin:pipeline_upstreamcall_add")).status_code, 403)
        detail = client.get(reverse("admin:pipeline_upstreamcall_change", args=[call.pk]))
        self.assertNotContains(detail, 'name="_save"')
        self.assertEqual(client.get(reverse("admin:pipeline_polllease_changelist")).status_code, 200)
