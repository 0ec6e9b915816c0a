"""The queue's pipeline against the simulator: submit, batched follow, callbacks, archive, and recovery."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from django.core.files.storage import default_storage
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from sorastudio.billing.costs import outcome_of
from sorastudio.billing.models import LedgerEntry
from sorastudio.lib import media
from sorastudio.pipeline import outcomes, providers, tasks
from sorastudio.pipeline.models import PollLease
from sorastudio.simulator.models import SimTask
from sorastudio.studio import presenters
from sorastudio.studio.models import Event, Generation, Notification, State
from sorastudio.teams.models import Team
from sorastudio.upstream.errors import UpstreamError
from tests.helpers import Recorder, error_body, make_job, make_member, upstream


class PipelineTestCase(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)

    def make(self, prompt: str = "a paper boat in the rain", **params: object) -> Generation:
        return make_job(self.team, self.alice, prompt, **params)

    def fresh_link(self, generation: Generation) -> str:
        with providers.upstream(generation.provider) as upstream:
            return upstream.retrieve(generation.upstream_task_id).video_url

    def follow(self, jobs: list[Generation], rounds: int = 1) -> Recorder:
        """Start the jobs, then follow them `rounds` times: the recorder holds only the following requests."""
        recorder = Recorder()
        with upstream(recorder):
            for job in jobs:
                tasks.start(job)
            recorder.requests.clear()
            for _ in range(rounds):
                tasks.step()
        return recorder

    def finish_upstream(self, generation: Generation) -> None:
        generation.refresh_from_db()
        past = timezone.now() - timedelta(seconds=1)
        SimTask.objects.filter(pk=generation.upstream_task_id).update(
            created_at=past - timedelta(seconds=30), finishes_at=past
        )


class HappyPathTests(PipelineTestCase):
    def test_it_takes_a_job_from_submit_to_an_archived_video(self) -> None:
        generation = self.make()
        tasks.start(generation)
        generation.refresh_from_db()

        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertTrue(generation.upstream_task_id)
        data = Path(generation.video.path).read_bytes()
        self.assertEqual(hashlib.sha256(data).hexdigest(), generation.sha256)
        self.assertEqual(generation.size_bytes, len(data))
        self.assertAlmostEqual(generation.video_duration or 0, 10, delta=0.1)
        self.assertEqual((generation.width, generation.height), (640, 360))
        self.assertTrue(default_storage.exists(str(generation.poster.name)))
        for stamp in ("submitted_at", "upstream_finished_at", "archived_at", "finished_at"):
            self.assertIsNotNone(getattr(generation, stamp), stamp)
        kinds = list(generation.events.values_list("kind", flat=True))
        self.assertEqual(kinds, ["created", "submitted", "upstream_succeeded", "charged", "archived"])

    def test_it_sends_the_exact_parameters_upstream(self) -> None:
        generation = self.make(
            model="sora-2-pro",
            duration=25,
            size="large",
            orientation="portrait",
            image_urls=["https://example.com/a.png"],
        )
        tasks.start(generation)
        generation.refresh_from_db()
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request
        self.assertEqual(sent["model"], "sora-2-pro")
        self.assertEqual((sent["duration"], sent["size"], sent["orientation"]), (25, "large", "portrait"))
        self.assertEqual(sent["image_urls"], ["https://example.com/a.png"])
        self.assertEqual(sent["async"], True)
        self.assertEqual((generation.width, generation.height), (360, 640))

    @override_settings(PUBLIC_BASE_URL="https://studio.example.com", SIMULATOR_SECONDS=600)
    def test_it_asks_for_a_callback_with_the_jobs_secret_token_when_reachable(self) -> None:
        generation = self.make()
        with mock.patch("sorastudio.simulator.views._schedule_callback"):  # no traffic off this machine
            tasks.start(generation)
        generation.refresh_from_db()
        sent = SimTask.objects.get(pk=generation.upstream_task_id).request
        self.assertEqual(
            sent["callback_url"],
            "https://studio.example.com" + reverse("callback", args=["acedata", generation.callback_token]),
        )
        self.assertGreaterEqual(len(generation.callback_token), 40)
        self.assertNotIn("async", sent)


@override_settings(SIMULATOR_SECONDS=600)
class FollowingTests(PipelineTestCase):
    def test_it_follows_a_job_through_its_phases(self) -> None:
        generation = self.make()
        tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)

        SimTask.objects.filter(pk=generation.upstream_task_id).update(
            created_at=timezone.now() - timedelta(seconds=30)
        )
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_phase), (State.RUNNING, "processing"))

        self.finish_upstream(generation)
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)

    def test_it_polls_all_live_jobs_with_one_request(self) -> None:
        jobs = [self.make(f"clip {i}") for i in range(5)]
        recorder = self.follow(jobs, rounds=2)
        polls = recorder.calls("/sora/tasks")
        self.assertEqual(len(polls), 2)
        self.assertEqual(len(json.loads(polls[0].content)["ids"]), 5)

    @override_settings(POLL_BATCH_SIZE=2)
    def test_it_splits_a_large_batch(self) -> None:
        recorder = self.follow([self.make(f"clip {i}") for i in range(5)])
        self.assertEqual(len(recorder.calls("/sora/tasks")), 3)

    def test_it_records_a_refusal_with_the_upstream_reason(self) -> None:
        generation = self.make("a real person on a beach")
        tasks.start(generation)
        self.finish_upstream(generation)
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.FAILED)
        self.assertEqual(generation.error_code, "content_policy_violation")
        self.assertIn("real person", generation.error_message)
        self.assertTrue(generation.trace_id)
        self.assertTrue(generation.error_after_submit)
        self.assertIn("real person", presenters.explanation(generation))

    def test_a_failed_poll_changes_nothing_and_is_reported(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            tasks.start(generation)
            recorder.fail_next("/sora/tasks", httpx.Response(500, json=error_body("api_error")))
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)
        self.assertIn("api_error", PollLease.objects.get(provider="acedata").last_error)

    @override_settings(GENERATION_TIMEOUT=600)
    def test_it_times_out_a_job_that_never_finishes(self) -> None:
        generation = self.make()
        tasks.start(generation)
        # A running job's clock starts when the upstream takes it (see DeadlineTests).
        long_ago = timezone.now() - timedelta(minutes=11)
        Generation.objects.filter(pk=generation.pk).update(created_at=long_ago, submitted_at=long_ago)
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.TIMED_OUT, "timed_out"))
        self.assertIn("took too long", presenters.explanation(generation))

    def test_the_follower_lease_lets_one_poller_run_at_a_time(self) -> None:
        self.assertTrue(PollLease.acquire("acedata", "worker-a", seconds=30))
        self.assertFalse(PollLease.acquire("acedata", "worker-b", seconds=30))
        self.assertTrue(PollLease.acquire("acedata", "worker-a", seconds=30))
        PollLease.release("acedata", "worker-a")
        self.assertTrue(PollLease.acquire("acedata", "worker-b", seconds=30))


class SubmitRetryTests(PipelineTestCase):
    def test_it_retries_a_rate_limited_submit_after_retry_after(self) -> None:
        generation = self.make()
        recorder = Recorder()
        limited = httpx.Response(429, json=error_body("too_many_requests"), headers={"Retry-After": "40"})
        with upstream(recorder):
            recorder.fail_next("/sora/videos", limited)
            tasks.start(generation)
            generation.refresh_from_db()
            self.assertEqual((generation.state, generation.attempts), (State.QUEUED, 1))
            assert generation.next_attempt_at is not None
            self.assertGreaterEqual((generation.next_attempt_at - timezone.now()).total_seconds(), 38)

            tasks.step()  # not due yet: nothing is sent
            self.assertEqual(len(recorder.calls("/sora/videos")), 1)

            Generation.objects.filter(pk=generation.pk).update(next_attempt_at=timezone.now())
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertEqual(len(recorder.calls("/sora/videos")), 2)
        self.assertEqual(SimTask.objects.count(), 1)
        self.assertTrue(generation.events.filter(kind="retry").exists())

    @override_settings(SUBMIT_MAX_ATTEMPTS=2)
    def test_it_gives_up_after_the_last_attempt(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            for _ in range(2):
                recorder.fail_next("/sora/videos", httpx.Response(503, text="busy"))
            tasks.start(generation)
            Generation.objects.filter(pk=generation.pk).update(next_attempt_at=timezone.now())
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.FAILED)
        self.assertEqual(generation.error_status, 503)
        self.assertFalse(generation.error_after_submit)

    def test_a_refused_submit_fails_at_once_with_its_reason(self) -> None:
        # (An account out of credit is not a refusal of the job: see tests/billing/test_provider_pause.py.)
        generation = self.make("a fox")
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/sora/videos", httpx.Response(401, json=error_body("invalid_token")))
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(
            (generation.state, generation.error_code, generation.error_status),
            (State.FAILED, "invalid_token", 401),
        )
        self.assertEqual(generation.attempts, 1)

    def test_a_job_with_an_upstream_task_id_is_never_submitted_again(self) -> None:
        generation = self.make()
        tasks.start(generation)
        generation.refresh_from_db()
        # Even if its state were somehow set back to queued, the task id forbids a second submission.
        Generation.objects.filter(pk=generation.pk).update(state=State.QUEUED)
        tasks.submit(str(generation.pk))
        tasks.submit(str(generation.pk))
        self.assertEqual(SimTask.objects.count(), 1)

    def test_a_duplicate_submit_task_does_nothing(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            tasks.start(generation)
            tasks.submit(str(generation.pk))
        self.assertEqual(len(recorder.calls("/sora/videos")), 1)


@override_settings(SIMULATOR_SECONDS=600)
class CallbackTests(PipelineTestCase):
    def callback(self, generation: Generation, body: object) -> Any:
        url = reverse("callback", args=["acedata", generation.callback_token])
        return self.client.post(url, data=json.dumps(body), content_type="application/json")

    def test_a_callback_wakes_the_job_and_the_upstream_is_re_read(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            tasks.start(generation)
            self.finish_upstream(generation)
            recorder.requests.clear()
            response = self.callback(generation, {"task_id": generation.upstream_task_id})
        self.assertEqual(response.status_code, 200)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        read = json.loads(recorder.calls("/sora/tasks")[0].content)
        self.assertEqual(read, {"ids": [generation.upstream_task_id], "action": "retrieve_batch"})
        self.assertTrue(generation.events.filter(kind="callback").exists())

    def test_a_forged_success_is_not_believed(self) -> None:
        generation = self.make()
        tasks.start(generation)
        generation.refresh_from_db()
        forged = {
            "success": True,
            "task_id": generation.upstream_task_id,
            "data": [{"state": "succeeded", "video_url": "https://evil.example.com/x.mp4"}],
        }
        self.callback(generation, forged)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)
        self.assertEqual(generation.video_url, "")

    def test_a_forged_failure_is_not_believed(self) -> None:
        generation = self.make()
        tasks.start(generation)
        self.callback(generation, {"success": False, "error": {"code": "api_error", "message": "x"}})
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)

    def test_a_callback_with_an_unknown_token_is_refused(self) -> None:
        generation = self.make()
        tasks.start(generation)
        url = reverse("callback", args=["acedata", "not-a-real-token"])
        response = self.client.post(url, data="{}", content_type="application/json")
        self.assertEqual(response.status_code, 404)

    def test_duplicate_and_late_callbacks_change_nothing(self) -> None:
        generation = self.make()
        tasks.start(generation)
        self.finish_upstream(generation)
        for _ in range(3):
            self.assertEqual(self.callback(generation, {}).status_code, 200)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertEqual(generation.events.filter(kind="archived").count(), 1)
        archived_at = generation.archived_at
        self.callback(generation, {})
        generation.refresh_from_db()
        self.assertEqual(generation.archived_at, archived_at)

    def test_a_callback_accepts_only_post(self) -> None:
        generation = self.make()
        url = reverse("callback", args=["acedata", generation.callback_token])
        self.assertEqual(self.client.get(url).status_code, 405)

    def test_a_callback_needs_no_login_or_csrf_token(self) -> None:
        from django.test import Client

        generation = self.make()
        tasks.start(generation)
        self.finish_upstream(generation)
        strict = Client(enforce_csrf_checks=True)
        url = reverse("callback", args=["acedata", generation.callback_token])
        self.assertEqual(strict.post(url, data="{}", content_type="application/json").status_code, 200)


@override_settings(SIMULATOR_SECONDS=600, PUBLIC_BASE_URL="http://127.0.0.1:9", CALLBACK_POLL_INTERVAL=120)
class CallbackCoalescingTests(PipelineTestCase):
    """With callbacks, a callback only wakes the follower, which re-reads the woken jobs together."""

    def setUp(self) -> None:
        super().setUp()
        # The simulator would call back on its own; these tests post the callbacks themselves.
        patcher = mock.patch("sorastudio.simulator.views._schedule_callback")
        patcher.start()
        self.addCleanup(patcher.stop)

    def callback(self, generation: Generation, token: str | None = None) -> Any:
        url = reverse("callback", args=["acedata", token or generation.callback_token])
        return self.client.post(url, data="{}", content_type="application/json")

    def started(self, count: int) -> list[Generation]:
        jobs = [self.make(f"a paper boat number {n}") for n in range(count)]
        for job in jobs:
            tasks.start(job)
            job.refresh_from_db()
        self.assertEqual({job.state for job in jobs}, {State.RUNNING})
        return jobs

    def test_it_reads_every_woken_job_in_one_batched_read(self) -> None:
        jobs = self.started(3)
        recorder = Recorder()
        with upstream(recorder), mock.patch.object(tasks, "kick"):
            for job in jobs:
                self.finish_upstream(job)
                self.assertEqual(self.callback(job).status_code, 200)
            self.assertEqual(recorder.requests, [])  # a callback itself asks the upstream nothing
            wakes = tasks.Wakes("acedata")
            wakes.collect()
            wakes.read()
        reads = recorder.calls("/sora/tasks")
        self.assertEqual(len(reads), 1)
        body = json.loads(reads[0].content)
        self.assertEqual(body["action"], "retrieve_batch")
        self.assertEqual(set(body["ids"]), {job.upstream_task_id for job in jobs})
        self.assertEqual(set(Generation.objects.values_list("state", flat=True)), {State.SUCCEEDED})

    def test_a_callback_wakes_its_job_once(self) -> None:
        (job,) = self.started(1)
        with mock.patch.object(tasks, "kick"):
            self.callback(job)
            self.callback(job)
        recorder = Recorder()
        with upstream(recorder):
            wakes = tasks.Wakes("acedata")
            wakes.collect()
            wakes.read()
            wakes.collect()
            wakes.read()
        # Still generating upstream: read once, found running, and not read again for the same callbacks.
        self.assertEqual(len(recorder.calls("/sora/tasks")), 1)
        job.refresh_from_db()
        self.assertEqual(job.state, State.RUNNING)

    def test_a_follower_taking_over_sees_the_callbacks_nobody_watched(self) -> None:
        (job,) = self.started(1)
        with mock.patch.object(tasks, "kick"):
            self.callback(job)
        # The previous follower ended, and the queue was busy for a minute before the next one started.
        Event.objects.filter(kind="callback").update(at=timezone.now() - timedelta(seconds=60))
        wakes = tasks.Wakes("acedata")
        wakes.collect()
        self.assertEqual(wakes.pending, {str(job.pk)})

    def test_a_forged_or_unknown_callback_changes_nothing(self) -> None:
        (job,) = self.started(1)
        with mock.patch.object(tasks, "kick"):
            self.assertEqual(self.callback(job, token="not-a-real-token").status_code, 404)
            wakes = tasks.Wakes("acedata")
            wakes.collect()
            self.assertEqual(wakes.pending, set())
            forged = {
                "success": True,
                "data": [{"state": "succeeded", "video_url": "https://evil.example.com/x"}],
            }
            url = reverse("callback", args=["acedata", job.callback_token])
            self.client.post(url, data=json.dumps(forged), content_type="application/json")
        wakes.collect()
        wakes.read()
        job.refresh_from_db()
        self.assertEqual(job.state, State.RUNNING)  # the upstream says it is still generating
        self.assertEqual(job.video_url, "")

    def test_a_lost_callback_is_caught_by_the_safety_read(self) -> None:
        (job,) = self.started(1)
        self.finish_upstream(job)
        recorder = Recorder()
        with upstream(recorder):
            tasks.step("acedata", read=tasks.Read.OLD)
            job.refresh_from_db()
            # A young job is left to its callback: no read, still running.
            self.assertEqual(recorder.calls("/sora/tasks"), [])
            self.assertEqual(job.state, State.RUNNING)
            Generation.objects.filter(pk=job.pk).update(submitted_at=timezone.now() - timedelta(seconds=121))
            tasks.step("acedata", read=tasks.Read.OLD)
        job.refresh_from_db()
        self.assertEqual(job.state, State.SUCCEEDED)
        self.assertEqual(len(recorder.calls("/sora/tasks")), 1)

    def test_a_callback_starts_a_follower_only_when_none_runs(self) -> None:
        (job,) = self.started(1)
        with mock.patch.object(tasks, "enqueue") as enqueue:
            PollLease.objects.update_or_create(
                provider="acedata",
                defaults={"holder": "a", "expires_at": timezone.now() + timedelta(seconds=30)},
            )
            self.callback(job)
            enqueue.assert_not_called()
            PollLease.objects.filter(provider="acedata").update(expires_at=timezone.now())
            self.callback(job)
            enqueue.assert_called_once_with(tasks.follow, "acedata")


class ArchiveTests(PipelineTestCase):
    def test_an_expired_link_is_refreshed_and_tried_once_more(self) -> None:
        generation = self.make("a lighthouse [sim:expired]")
        tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertTrue(generation.events.filter(kind="link_refreshed").exists())
        self.assertEqual(SimTask.objects.get(pk=generation.upstream_task_id).links_issued, 2)

    def test_a_link_that_stays_expired_fails_plainly(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/files/", httpx.Response(403, text="AuthenticationFailed"))
            recorder.fail_next("/files/", httpx.Response(403, text="AuthenticationFailed"))
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, "link_expired"))

    def archived_after_a_bad_download(self, answer: httpx.Response | Exception) -> Generation:
        """A job whose first download gets `answer`: left to archive again later, and archived then."""
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/files/", answer)
            tasks.start(generation)
            generation.refresh_from_db()
            self.assertEqual((generation.state, generation.attempts), (State.ARCHIVING, 1))
            Generation.objects.filter(pk=generation.pk).update(next_attempt_at=timezone.now())
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        return generation

    def test_a_failed_download_is_retried_later(self) -> None:
        self.archived_after_a_bad_download(httpx.ReadTimeout("slow cdn"))

    def test_a_download_that_is_not_a_video_is_downloaded_again(self) -> None:
        # Found by the soak test: a CDN's error page served with a 200 used to end a made, paid-for video.
        generation = self.archived_after_a_bad_download(
            httpx.Response(200, content=b"<html>login page</html>")
        )
        self.assertEqual(
            generation.sha256, hashlib.sha256(Path(generation.video.path).read_bytes()).hexdigest()
        )

    @override_settings(ARCHIVE_MAX_ATTEMPTS=1)
    def test_a_download_that_is_never_a_video_fails_the_job_after_the_last_attempt(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/files/", httpx.Response(200, content=b"<html>login page</html>"))
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, "archive_failed"))
        self.assertFalse(generation.video)

    def test_each_archive_attempt_stores_under_names_of_its_own(self) -> None:
        first, second = self.make(), self.make()
        for generation in (first, second):
            tasks.start(generation)
            generation.refresh_from_db()
            self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertNotEqual(Path(str(first.video.name)).name, f"{first.pk}.mp4")
        self.assertTrue(Path(str(first.video.name)).name.startswith(f"{first.pk}-"))
        self.assertTrue(Path(str(first.poster.name)).name.startswith(f"{first.pk}-"))
        self.assertEqual(len(list(Path(first.video.path).parent.iterdir())), 2)  # one file per video


class StaleArchiverTests(PipelineTestCase):
    """An archiver slow enough for its claim to go stale, and another that takes the job over: whichever
    finishes first, the job ends once, under the claim that holds it, with the files that claim stored."""

    def archiving(self) -> Generation:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/files/", httpx.ReadTimeout("slow cdn"))
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.claimed_at), (State.ARCHIVING, None))
        Generation.objects.filter(pk=generation.pk).update(next_attempt_at=None)
        return generation

    def while_archiving(self, meanwhile: Any) -> None:
        """Archive the job, running `meanwhile` once, after the download, as another worker would."""
        real = media.write_poster
        calls: list[object] = []

        def write_poster(video: Path, poster: Path) -> None:
            if not calls:
                calls.append(video)
                meanwhile()
            real(video, poster)

        with mock.patch.object(media, "write_poster", write_poster):
            tasks.archive(str(self.job.pk))

    def take_over(self) -> Generation:
        """Another worker claims the job, as it would once the first claim is stale."""
        other = Generation.objects.get(pk=self.job.pk)
        self.assertTrue(other.claim_for_archive(stale_after=0))
        return other

    def stored_files(self) -> list[str]:
        folders = (Path(default_storage.path(kind)) / str(self.team.pk) for kind in ("videos", "posters"))
        return sorted(
            str(p.relative_to(default_storage.path(""))) for f in folders if f.exists() for p in f.iterdir()
        )

    def test_a_stale_archiver_finishing_last_leaves_the_winners_files(self) -> None:
        self.job = self.archiving()
        self.while_archiving(lambda: tasks.archive_claimed(self.take_over()))
        self.job.refresh_from_db()
        self.assertEqual(self.job.state, State.SUCCEEDED)
        self.assertEqual(self.stored_files(), sorted([self.job.video.name, self.job.poster.name]))
        self.assertEqual(self.job.sha256, hashlib.sha256(Path(self.job.video.path).read_bytes()).hexdigest())
        self.assertEqual(self.job.events.filter(kind="archived").count(), 1)

    def test_a_stale_archiver_finishing_first_loses_to_the_claim_that_holds_the_job(self) -> None:
        self.job = self.archiving()
        taken: list[Generation] = []
        self.while_archiving(lambda: taken.append(self.take_over()))
        self.job.refresh_from_db()
        self.assertEqual((self.job.state, self.job.claimed_at), (State.ARCHIVING, taken[0].claimed_at))
        self.assertEqual(self.stored_files(), [])  # the loser kept none of its files

        tasks.archive_claimed(taken[0])
        self.job.refresh_from_db()
        self.assertEqual(self.job.state, State.SUCCEEDED)
        self.assertEqual(self.stored_files(), sorted([self.job.video.name, self.job.poster.name]))

    def test_a_stale_archivers_failure_does_not_end_the_job_under_its_new_holder(self) -> None:
        self.job = self.archiving()
        test = self
        taken: list[Generation] = []

        class TakenOverThenFailing(Recorder):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                if "/files/" in request.url.path and not taken:
                    taken.append(test.take_over())
                    raise httpx.ReadTimeout("slow cdn")
                return super().handle_request(request)

        with upstream(TakenOverThenFailing()), self.settings(ARCHIVE_MAX_ATTEMPTS=1):
            tasks.archive(str(self.job.pk))  # its last attempt: a failure would end the job
        self.job.refresh_from_db()
        self.assertEqual((self.job.state, self.job.claimed_at), (State.ARCHIVING, taken[0].claimed_at))
        self.assertEqual(outcome_of(self.job), "charge")  # settled when it was made, and only then

        tasks.archive_claimed(taken[0])
        self.job.refresh_from_db()
        self.assertEqual(self.job.state, State.SUCCEEDED)


@override_settings(GENERATION_TIMEOUT=600, SIMULATOR_SECONDS=600)
class DeadlineTests(PipelineTestCase):
    """GENERATION_TIMEOUT never ends a job whose request may be reaching the upstream, nor one the upstream
    has only just taken: the video would be made and billed, and its credits given back."""

    def before_mark_failed(
        self, generation: Generation, other: Generation, state: str, meanwhile: Callable[[], bool]
    ) -> Any:
        """Patches mark_failed so that, before it ends `generation`, another worker holding `other` (still in
        `state`) does `meanwhile` first, which must succeed: the race between the look and the update."""
        real = Generation.mark_failed

        def raced(job: Generation, *args: Any, **kwargs: Any) -> bool:
            if job.pk == generation.pk and other.state == state:
                self.assertTrue(meanwhile())
            return real(job, *args, **kwargs)

        return mock.patch.object(Generation, "mark_failed", raced)

    def test_a_job_whose_time_runs_out_while_it_is_being_sent_is_not_ended(self) -> None:
        generation = self.make()

        class ClockPassesDuringTheSubmit(Recorder):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                if request.method == "POST" and "/sora/videos" in request.url.path:
                    long_ago = timezone.now() - timedelta(minutes=11)
                    Generation.objects.filter(pk=generation.pk).update(created_at=long_ago)
                    tasks.step()  # a follower's round while the upstream is taking the job
                return super().handle_request(request)

        with upstream(ClockPassesDuringTheSubmit()):
            tasks.start(generation)
            tasks.step()  # the next round, the upstream now working on it
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)
        self.assertTrue(generation.upstream_task_id)
        self.assertEqual(outcome_of(generation), "")  # still reserved: not given back
        self.assertFalse(generation.events.filter(kind=State.TIMED_OUT).exists())

        self.finish_upstream(generation)
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertEqual(outcome_of(generation), "charge")

    def test_a_job_left_submitting_past_its_time_ends_as_an_uncertain_submit_and_stays_counted(self) -> None:
        generation = self.make()
        long_ago = timezone.now() - timedelta(hours=2)
        Generation.objects.filter(pk=generation.pk).update(
            state=State.SUBMITTING, created_at=long_ago, claimed_at=long_ago, attempts=1
        )
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, "submit_uncertain"))
        self.assertEqual(outcome_of(generation), "charge")

    def test_a_job_claimed_between_the_time_outs_look_and_its_update_is_left_to_its_submit(self) -> None:
        generation = self.make()
        Generation.objects.filter(pk=generation.pk).update(created_at=timezone.now() - timedelta(minutes=11))
        claimer = Generation.objects.get(pk=generation.pk)
        with self.before_mark_failed(generation, claimer, State.QUEUED, claimer.claim_for_submit):
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUBMITTING)
        self.assertEqual(outcome_of(generation), "")

    def test_a_submit_saved_between_the_recoverys_look_and_its_update_is_not_ended(self) -> None:
        generation = self.make()
        stale = timezone.now() - timedelta(minutes=11)
        Generation.objects.filter(pk=generation.pk).update(
            state=State.SUBMITTING, claimed_at=stale, attempts=1
        )
        worker = Generation.objects.get(pk=generation.pk)  # the slow worker, still holding its claim
        with self.before_mark_failed(
            generation, worker, State.SUBMITTING, lambda: worker.mark_submitted("task-late")
        ):
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_task_id), (State.RUNNING, "task-late"))
        self.assertEqual(generation.error_code, "")

    def test_a_job_that_waited_in_the_queue_gets_its_whole_time_once_the_upstream_has_it(self) -> None:
        generation = self.make()
        Generation.objects.filter(pk=generation.pk).update(created_at=timezone.now() - timedelta(minutes=9))
        tasks.start(generation)
        Generation.objects.filter(pk=generation.pk).update(created_at=timezone.now() - timedelta(minutes=11))
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)
        Generation.objects.filter(pk=generation.pk).update(
            submitted_at=timezone.now() - timedelta(minutes=11)
        )
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual((generation.state, outcome_of(generation)), (State.TIMED_OUT, "release"))


class OneTransactionTests(PipelineTestCase):
    """A transition, its timeline event, its ledger entry and its notification are written together or not
    at all: a worker dying between them (here, the later writes failing) leaves the job as it was."""

    def crash(self, target: Any, name: str) -> Any:
        return mock.patch.object(target, name, side_effect=RuntimeError("worker died"))

    def kinds(self, generation: Generation) -> list[str]:
        return list(generation.events.values_list("kind", flat=True))

    def test_a_failure_is_not_written_without_its_release_and_notification(self) -> None:
        generation = self.make()
        before = self.kinds(generation)
        with self.crash(Notification, "send"), self.assertRaises(RuntimeError):
            outcomes.failed(generation, "api_error", "boom", from_states=(State.QUEUED,))
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.QUEUED, ""))
        self.assertEqual(self.kinds(generation), before)
        self.assertEqual(outcome_of(generation), "")
        # Nothing half-written for a sweeper to find: the next attempt ends it whole.
        self.assertTrue(outcomes.failed(generation, "api_error", "boom", from_states=(State.QUEUED,)))
        self.assertEqual(outcome_of(generation), "release")
        self.assertEqual(Notification.objects.filter(generation=generation).count(), 1)

    def test_a_made_video_is_not_moved_on_without_its_charge(self) -> None:
        generation = self.make()
        Generation.objects.filter(pk=generation.pk).update(state=State.RUNNING, upstream_task_id="task-1")
        generation.refresh_from_db()
        before = self.kinds(generation)
        with self.crash(LedgerEntry, "settle"), self.assertRaises(RuntimeError):
            outcomes.upstream_succeeded(generation, "https://example.com/v.mp4")
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.video_url), (State.RUNNING, ""))
        self.assertEqual(self.kinds(generation), before)

    def test_an_archived_video_is_not_marked_without_its_notification(self) -> None:
        generation = self.make()
        Generation.objects.filter(pk=generation.pk).update(state=State.ARCHIVING, upstream_task_id="task-1")
        generation.refresh_from_db()
        self.assertTrue(generation.claim_for_archive(stale_after=60))
        before = self.kinds(generation)
        with self.crash(Notification, "send"), self.assertRaises(RuntimeError):
            generation.mark_archived(video="videos/v.mp4", poster="posters/p.jpg", info={"sha256": "0" * 64})
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.video.name), (State.ARCHIVING, ""))
        self.assertEqual(self.kinds(generation), before)

    def test_a_saved_task_id_is_not_written_without_its_event(self) -> None:
        generation = self.make()
        self.assertTrue(generation.claim_for_submit())
        with self.crash(Event.objects, "create"), self.assertRaises(RuntimeError):
            generation.mark_submitted("task-1")
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_task_id), (State.SUBMITTING, ""))

    @override_settings(EMAIL_HOST="smtp.example.com")
    def test_the_mail_goes_out_only_once_the_failure_is_committed(self) -> None:
        generation = self.make()
        with mock.patch.object(tasks, "enqueue") as enqueue, self.captureOnCommitCallbacks() as callbacks:
            outcomes.failed(generation, "api_error", "boom", from_states=(State.QUEUED,))
            self.assertFalse(enqueue.called)
        self.assertEqual(len(callbacks), 1)


@override_settings(SIMULATOR_SECONDS=600)
class RecoveryTests(PipelineTestCase):
    """A worker killed at any moment: every live job resumes where it was."""

    def test_a_job_abandoned_while_submitting_is_never_sent_again(self) -> None:
        # Its request may have reached the upstream: a second send could make and charge it twice.
        generation = self.make()
        stale = timezone.now() - timedelta(minutes=10, seconds=1)
        Generation.objects.filter(pk=generation.pk).update(
            state=State.SUBMITTING, claimed_at=stale, attempts=1
        )
        tasks.step()
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, "submit_uncertain"))
        self.assertEqual(SimTask.objects.count(), 0)
        self.assertEqual(outcome_of(generation), "charge")  # it may have been made: as any uncertain submit

    @override_settings(SUBMIT_STALE_AFTER=30, UPSTREAM_TIMEOUT=20)
    def test_the_stale_window_is_never_shorter_than_four_upstream_time_outs(self) -> None:
        generation = self.make()
        Generation.objects.filter(pk=generation.pk).update(
            state=State.SUBMITTING, claimed_at=timezone.now() - timedelta(seconds=60), attempts=1
        )
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUBMITTING)

    def test_a_job_being_submitted_right_now_is_left_alone(self) -> None:
        generation = self.make()
        Generation.objects.filter(pk=generation.pk).update(
            state=State.SUBMITTING, claimed_at=timezone.now(), attempts=1
        )
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUBMITTING)
        self.assertEqual(SimTask.objects.count(), 0)

    def test_a_queued_job_whose_task_was_lost_is_dispatched(self) -> None:
        generation = self.make()  # created, but the broker lost its submit task
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)

    def test_a_running_job_resumes_being_followed(self) -> None:
        generation = self.make()
        tasks.start(generation)
        self.finish_upstream(generation)
        tasks.tick()  # the one-minute schedule after a restart
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)

    def test_an_archive_abandoned_midway_is_done_again(self) -> None:
        generation = self.make()
        tasks.start(generation)
        self.finish_upstream(generation)
        with self.settings(Q_TIMEOUT=60):
            Generation.objects.filter(pk=generation.pk).update(
                state=State.ARCHIVING,
                video_url=self.fresh_link(generation),
                claimed_at=timezone.now() - timedelta(minutes=5),
                next_attempt_at=None,
            )
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)

    def test_finished_jobs_are_never_touched_again(self) -> None:
        generation = self.make()
        tasks.start(generation)
        outcomes.failed(generation, "api_error", "boom", from_states=(State.RUNNING,))
        before = Event.objects.count()
        tasks.step()
        tasks.refresh(str(generation.pk))
        tasks.archive(str(generation.pk))
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.FAILED)
        self.assertEqual(Event.objects.count(), before)


@override_settings(SIMULATOR_SECONDS=600)
class Sora2APIPipelineTests(PipelineTestCase):
    def make_sora2(self, prompt: str = "a kite over dunes") -> Generation:
        return self.make(prompt, provider="sora2api", version="", size="", quality="hd", watermark="W")

    def test_it_follows_sora2api_jobs_with_one_record_info_each(self) -> None:
        jobs = [self.make_sora2(f"kite {n}") for n in range(3)]
        recorder = self.follow(jobs)
        reads = recorder.calls("/record-info")
        self.assertEqual(len(reads), 3)
        self.assertEqual(recorder.calls("/sora/tasks"), [])
        for job in jobs:
            self.finish_upstream(job)
        tasks.step()
        self.assertEqual(set(Generation.objects.values_list("state", flat=True)), {State.SUCCEEDED})

    def test_a_sora2api_callback_is_only_a_wake_up(self) -> None:
        generation = self.make_sora2()
        recorder = Recorder()
        with upstream(recorder):
            tasks.start(generation)
            generation.refresh_from_db()
            url = reverse("callback", args=["sora2api", generation.callback_token])
            forged = {
                "code": 200,
                "data": {
                    "taskId": generation.upstream_task_id,
                    "successFlag": 1,
                    "response": {"imageUrl": "https://evil.example.com/x.mp4"},
                },
            }
            self.client.post(url, data=json.dumps(forged), content_type="application/json")
            generation.refresh_from_db()
            self.assertEqual(generation.state, State.RUNNING)  # the simulator says it is still generating

            self.finish_upstream(generation)
            self.client.post(url, data="{}", content_type="application/json")
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertEqual(generation.video_url, "")  # the signed link is not kept once archived
        self.assertTrue(generation.events.filter(kind="archived").exists())
        self.assertTrue(recorder.calls("/record-info"))

    def test_a_callback_to_the_wrong_provider_path_is_refused(self) -> None:
        generation = self.make_sora2()
        url = reverse("callback", args=["acedata", generation.callback_token])
        self.assertEqual(self.client.post(url, data="{}", content_type="application/json").status_code, 404)

    def test_a_refusal_after_acceptance_fails_the_job_with_its_reason(self) -> None:
        generation = self.make_sora2("a real person flying a kite")
        tasks.start(generation)
        self.finish_upstream(generation)
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.FAILED)
        self.assertIn("real person", generation.error_message)


class NoDoubleChargeTests(PipelineTestCase):
    """Review findings: nothing may send a job upstream twice or lose a paid result."""

    def test_a_submit_that_may_have_reached_the_upstream_is_not_sent_again(self) -> None:
        for failure in (httpx.ReadTimeout("slow"), httpx.Response(200, text="{not json")):
            with self.subTest(failure=type(failure).__name__):
                generation = self.make()
                recorder = Recorder()
                with upstream(recorder):
                    recorder.fail_next("/sora/videos", failure)
                    tasks.start(generation)
                    Generation.objects.filter(pk=generation.pk).update(next_attempt_at=timezone.now())
                    tasks.step()
                generation.refresh_from_db()
                self.assertEqual(
                    (generation.state, generation.error_code), (State.FAILED, "submit_uncertain")
                )
                self.assertEqual(len(recorder.calls("/sora/videos")), 1)
                self.assertIn("did not send it again", str(presenters.explanation(generation)))

    def test_a_duplicate_submit_task_waits_for_the_backoff(self) -> None:
        generation = self.make()
        recorder = Recorder()
        limited = httpx.Response(429, json=error_body("too_many_requests"), headers={"Retry-After": "120"})
        with upstream(recorder):
            recorder.fail_next("/sora/videos", limited)
            tasks.start(generation)
            tasks.submit(str(generation.pk))  # a second copy of the task, delivered at once
        self.assertEqual(len(recorder.calls("/sora/videos")), 1)
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.QUEUED)

    def test_a_submit_whose_claim_was_taken_over_does_not_overwrite_it(self) -> None:
        generation = self.make()
        self.assertTrue(generation.claim_for_submit())
        stale_claim = Generation.objects.get(pk=generation.pk)
        Generation.objects.filter(pk=generation.pk).update(claimed_at=timezone.now() + timedelta(seconds=1))
        self.assertFalse(stale_claim.mark_submitted("task-late"))
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_task_id), (State.SUBMITTING, ""))

    @override_settings(GENERATION_TIMEOUT=600, SIMULATOR_SECONDS=600)
    def test_a_made_video_being_saved_is_not_timed_out(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/files/", httpx.ReadTimeout("slow cdn"))
            tasks.start(generation)
            self.finish_upstream(generation)
            tasks.step()
            generation.refresh_from_db()
            self.assertEqual(generation.state, State.ARCHIVING)
            Generation.objects.filter(pk=generation.pk).update(created_at=timezone.now() - timedelta(hours=2))
            tasks.step()
            generation.refresh_from_db()
            self.assertEqual(generation.state, State.ARCHIVING)
            Generation.objects.filter(pk=generation.pk).update(next_attempt_at=timezone.now())
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)

    def test_an_unexpected_archive_error_is_retried_then_ends_plainly(self) -> None:
        generation = self.make()
        with (
            self.settings(ARCHIVE_MAX_ATTEMPTS=2),
            mock.patch.object(media, "probe_video", side_effect=PermissionError("disk says no")),
            self.assertLogs("sorastudio.pipeline.tasks", "ERROR"),
        ):
            tasks.start(generation)
            generation.refresh_from_db()
            self.assertEqual((generation.state, generation.claimed_at), (State.ARCHIVING, None))
            Generation.objects.filter(pk=generation.pk).update(next_attempt_at=timezone.now())
            tasks.archive(str(generation.pk))
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, "archive_failed"))
        self.assertIn("PermissionError", generation.error_message)

    def test_signed_links_are_not_kept_once_a_job_ends(self) -> None:
        generation = self.make()
        tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual(generation.video_url, "")


class RoutingTests(PipelineTestCase):
    @override_settings(SIMULATOR_SECONDS=600)
    def test_a_simulated_job_stays_on_the_simulator_after_the_studio_switches_to_a_real_account(self) -> None:
        generation = self.make()
        tasks.start(generation)
        self.finish_upstream(generation)
        recorder = Recorder()
        with (
            override_settings(
                SORA_PROVIDER="acedata", ACEDATA_API_KEY="sk-real", ACEDATA_BASE_URL="https://paid.example"
            ),
            upstream(recorder),
        ):
            tasks.step()
        self.assertTrue(recorder.requests)
        self.assertTrue(all(r.url.host == "testserver" for r in recorder.requests))
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)


@override_settings(SIMULATOR_SECONDS=600, PUBLIC_BASE_URL="http://testserver")
class AdoptionTests(PipelineTestCase):
    """A worker killed after the upstream took its submit but before the task id was saved: the job's
    callback names the task, and the upstream's own record of it proves it was made for this job."""

    def killed_after_upstream_took(self, generation: Generation) -> str:
        # Each simulated provider keeps its own callback timer: held back, the callback comes from the test.
        simulator = "sora2api" if generation.provider == "sora2api" else "views"
        with (
            mock.patch(f"sorastudio.simulator.{simulator}._schedule_callback"),
            providers.upstream(generation.provider, True) as client,
        ):
            task_id, _trace = client.submit(generation)
        Generation.objects.filter(pk=generation.pk).update(
            state=State.SUBMITTING, claimed_at=timezone.now(), attempts=1
        )
        return task_id

    def callback(self, generation: Generation, body: object) -> Any:
        url = reverse("callback", args=[generation.provider, generation.callback_token])
        return self.client.post(url, data=json.dumps(body), content_type="application/json")

    def test_the_callback_of_a_killed_submit_adopts_its_task(self) -> None:
        generation = self.make()
        task_id = self.killed_after_upstream_took(generation)
        self.finish_upstream_task(task_id)
        self.assertEqual(self.callback(generation, {"success": True, "task_id": task_id}).status_code, 200)
        generation.refresh_from_db()
        self.assertEqual((generation.upstream_task_id, generation.state), (task_id, State.SUCCEEDED))
        self.assertTrue(generation.events.filter(kind="adopted").exists())
        self.assertEqual(SimTask.objects.exclude(outcome="used_up").count(), 1)

    def test_an_adopted_job_is_never_sent_again_nor_failed_as_abandoned(self) -> None:
        generation = self.make()
        task_id = self.killed_after_upstream_took(generation)
        self.callback(generation, {"task_id": task_id})
        Generation.objects.filter(pk=generation.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_task_id), (State.RUNNING, task_id))
        self.assertEqual(SimTask.objects.count(), 1)

    def test_a_submit_that_times_out_after_its_callback_adopted_the_task_does_not_fail_the_job(self) -> None:
        generation = self.make()
        task_id = self.killed_after_upstream_took(generation)
        self.callback(generation, {"task_id": task_id})
        # The worker that sent it was only slow: its read time-out arrives after the adoption.
        tasks._submit_failed(generation, UpstreamError("read timed out", retryable=True, sent=True))
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_task_id), (State.RUNNING, task_id))

    def test_a_callback_naming_another_jobs_task_adopts_nothing(self) -> None:
        other = self.make("another boat")
        tasks.start(other)
        other.refresh_from_db()
        generation = self.make()
        self.killed_after_upstream_took(generation)
        self.callback(generation, {"success": True, "task_id": other.upstream_task_id})
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_task_id), (State.SUBMITTING, ""))
        self.assertFalse(Event.objects.filter(kind="adopted").exists())

    def test_a_callback_naming_an_unknown_task_adopts_nothing(self) -> None:
        generation = self.make()
        self.killed_after_upstream_took(generation)
        self.callback(
            generation, {"task_id": "no-such-task", "data": [{"video_url": "http://127.0.0.1:9/x"}]}
        )
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_task_id), (State.SUBMITTING, ""))

    def test_a_sora2api_callback_adopts_its_task_too(self) -> None:
        generation = self.make(
            "a kite",
            provider="sora2api",
            model="sora-2",
            version="",
            duration=10,
            size="",
            orientation="landscape",
            quality="standard",
        )
        task_id = self.killed_after_upstream_took(generation)
        self.callback(generation, {"code": 200, "msg": "success", "data": {"taskId": task_id}})
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.upstream_task_id), (State.RUNNING, task_id))

    def finish_upstream_task(self, task_id: str) -> None:
        past = timezone.now() - timedelta(seconds=1)
        SimTask.objects.filter(pk=task_id).update(created_at=past - timedelta(seconds=30), finishes_at=past)


class DispatchTests(PipelineTestCase):
    def test_a_job_put_back_to_wait_is_dispatched_when_due_not_a_minute_later(self) -> None:
        # Found by the soak test: a retried download waited for the last dispatch to be a minute old.
        generation = self.make()
        Generation.objects.filter(pk=generation.pk).update(dispatched_at=timezone.now())
        generation.refresh_from_db()
        generation.claim_for_submit()
        generation.retry_later(State.SUBMITTING, 0, reason="HTTP 429")
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
