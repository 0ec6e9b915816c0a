"""Each request to a video service is recorded once (UpstreamCall), for the pipeline health page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import httpx
from django.db import DatabaseError
from django.test import TestCase, override_settings
from django.utils import timezone

from sorastudio.pipeline import providers, tasks
from sorastudio.pipeline.models import UpstreamCall
from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from tests.helpers import Recorder, error_body, make_job, make_member, upstream


@override_settings(SIMULATOR_SECONDS=600)
class RecordingTests(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)

    def make(self, prompt: str = "a paper boat", **params: Any) -> Generation:
        return make_job(self.team, self.alice, prompt, **params)

    def rows(self) -> list[tuple[str, str, int | None, str, bool, bool, int]]:
        return list(
            UpstreamCall.objects.order_by("id").values_list(
                "provider", "kind", "http_status", "error_code", "ok", "rate_limited", "jobs"
            )
        )

    def test_it_records_one_row_per_request_of_a_real_job(self) -> None:
        recorder = Recorder()
        with upstream(recorder):
            generation = self.make()
            tasks.start(generation)
            tasks.step()
        self.assertEqual(
            self.rows(),
            [
                ("acedata", "submit", 200, "", True, False, 1),
                # The follower started by the submit reads once, then this test's own round.
                ("acedata", "status", 200, "", True, False, 1),
                ("acedata", "status", 200, "", True, False, 1),
            ],
        )
        self.assertEqual(UpstreamCall.objects.count(), len(recorder.requests))
        self.assertEqual(UpstreamCall.objects.filter(simulated=True).count(), 3)

    @override_settings(POLL_BATCH_SIZE=2)
    def test_a_batch_read_is_one_row_covering_its_jobs(self) -> None:
        recorder = Recorder()
        with upstream(recorder):
            for number in range(5):
                tasks.start(self.make(f"clip {number}"))
            UpstreamCall.objects.all().delete()
            recorder.requests.clear()
            tasks.step()
        statuses = UpstreamCall.objects.filter(kind="status").order_by("id")
        self.assertEqual(list(statuses.values_list("jobs", flat=True)), [2, 2, 1])
        self.assertEqual(UpstreamCall.objects.count(), len(recorder.calls("/sora/tasks")))

    def test_sora2api_reads_each_task_with_its_own_request(self) -> None:
        recorder = Recorder()
        with upstream(recorder):
            for number in range(3):
                tasks.start(
                    self.make(f"clip {number}", provider="sora2api", model="sora-2", quality="standard")
                )
            UpstreamCall.objects.all().delete()
            recorder.requests.clear()
            tasks.step()
        self.assertEqual(
            list(UpstreamCall.objects.values_list("provider", "kind", "jobs")),
            [("sora2api", "status", 1)] * 3,
        )
        self.assertEqual(UpstreamCall.objects.count(), len(recorder.requests))

    def test_it_counts_a_429_as_rate_limited(self) -> None:
        recorder = Recorder()
        with upstream(recorder):
            tasks.start(self.make())
            recorder.fail_next(
                "/sora/tasks",
                httpx.Response(429, json=error_body("too_many_requests"), headers={"retry-after": "2"}),
            )
            tasks.step()
        self.assertEqual(self.rows()[-1], ("acedata", "status", 429, "too_many_requests", False, True, 1))

    def test_it_records_a_request_that_got_no_answer(self) -> None:
        recorder = Recorder()
        with upstream(recorder):
            tasks.start(self.make())
            recorder.fail_next("/sora/tasks", httpx.ConnectError("refused"))
            tasks.step()
        self.assertEqual(self.rows()[-1], ("acedata", "status", None, "no_answer", False, False, 1))

    def test_it_records_the_download_and_the_single_read(self) -> None:
        generation = self.make()
        with upstream(Recorder()):
            tasks.start(generation)
            generation.refresh_from_db()
            with providers.upstream("acedata", simulated=True) as adapter:
                adapter.retrieve(generation.upstream_task_id)
        self.assertEqual(self.rows()[-1], ("acedata", "retrieve", 200, "", True, False, 1))

        past = timezone.now() - timedelta(seconds=1)
        SimTask.objects.filter(pk=generation.upstream_task_id).update(
            created_at=past - timedelta(seconds=30), finishes_at=past
        )
        with upstream(Recorder()):
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        download = UpstreamCall.objects.get(kind="download")
        self.assertEqual((download.http_status, download.ok), (200, True))

    def test_a_failing_recorder_never_breaks_a_call(self) -> None:
        generation = self.make()
        with (
            upstream(Recorder()),
            mock.patch.object(UpstreamCall, "save", side_effect=DatabaseError("disk full")),
            self.assertLogs("sorastudio.pipeline.providers", "WARNING") as logged,
        ):
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)
        self.assertTrue(generation.upstream_task_id)
        self.assertIn("could not record a submit call", logged.output[0])
        self.assertEqual(UpstreamCall.objects.count(), 0)

    def test_the_tick_prunes_rows_older_than_a_week(self) -> None:
        old = UpstreamCall.objects.create(
            provider="acedata", kind="status", at=timezone.now() - timedelta(days=8)
        )
        kept = UpstreamCall.objects.create(
            provider="acedata", kind="status", at=timezone.now() - timedelta(days=6)
        )
        tasks.tick()
        self.assertFalse(UpstreamCall.objects.filter(pk=old.pk).exists())
        self.assertTrue(UpstreamCall.objects.filter(pk=kept.pk).exists())
