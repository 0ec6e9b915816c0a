"""The queue's pipeline against the simulator: submit, batched follow, callbacks, archive, and recovery."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from django.core.files.storage import default_storage
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from sorastudio.simulator.models import SimTask
from sorastudio.studio import providers, tasks
from sorastudio.studio.models import Event, Generation, PollLease, State, Team
from tests.helpers import make_member, simulator_transport, upstream


class Recorder(httpx.BaseTransport):
    """Passes requests to the simulator, records them, and can answer some with scripted failures."""

    def __init__(self) -> None:
        self.inner = simulator_transport()
        self.requests: list[httpx.Request] = []
        self.failures: list[tuple[str, httpx.Response | Exception]] = []

    def fail_next(self, path_part: str, answer: httpx.Response | Exception) -> None:
        self.failures.append((path_part, answer))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for index, (part, answer) in enumerate(self.failures):
            if part in request.url.path:
                del self.failures[index]
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return self.inner.handle_request(request)

    def calls(self, path_part: str) -> list[httpx.Request]:
        return [r for r in self.requests if path_part in r.url.path]


def error_body(code: str, message: str = "nope") -> dict[str, object]:
    return {"success": False, "error": {"code": code, "message": message}, "trace_id": "trace-1"}


class PipelineTestCase(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)

    def make(self, prompt: str = "a paper boat in the rain", **params: object) -> Generation:
        values: dict[str, object] = {
            "model": "sora-2",
            "version": "1.0",
            "duration": 10,
            "size": "small",
            "orientation": "landscape",
        }
        values.update(params)
        return Generation.create_for(team=self.team, user=self.alice, simulated=True, prompt=prompt, **values)

    def fresh_link(self, generation: Generation) -> str:
        with providers.upstream(generation.provider) as upstream:
            return upstream.retrieve(generation.upstream_task_id).video_url

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
        self.assertEqual(kinds, ["created", "submitted", "upstream_succeeded", "archived"])

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
        recorder = Recorder()
        with upstream(recorder):
            for job in jobs:
                tasks.start(job)
            recorder.requests.clear()
            tasks.step()
            tasks.step()
        polls = recorder.calls("/sora/tasks")
        self.assertEqual(len(polls), 2)
        self.assertEqual(len(json.loads(polls[0].content)["ids"]), 5)

    @override_settings(POLL_BATCH_SIZE=2)
    def test_it_splits_a_large_batch(self) -> None:
        recorder = Recorder()
        with upstream(recorder):
            for i in range(5):
                tasks.start(self.make(f"clip {i}"))
            recorder.requests.clear()
            tasks.step()
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
        self.assertIn("real person", generation.explanation)

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
        Generation.objects.filter(pk=generation.pk).update(created_at=timezone.now() - timedelta(minutes=11))
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.TIMED_OUT, "timed_out"))
        self.assertIn("took too long", generation.explanation)

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
        # (An account out of credit is not a refusal of the job: see tests/test_provider_pause.py.)
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
        retrieve = json.loads(recorder.calls("/sora/tasks")[0].content)
        self.assertEqual(retrieve, {"id": generation.upstream_task_id, "action": "retrieve"})
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

    def test_a_failed_download_is_retried_later(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/files/", httpx.ReadTimeout("slow cdn"))
            tasks.start(generation)
            generation.refresh_from_db()
            self.assertEqual((generation.state, generation.attempts), (State.ARCHIVING, 1))
            Generation.objects.filter(pk=generation.pk).update(next_attempt_at=timezone.now())
            tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)

    def test_a_download_that_is_not_a_video_fails_the_job(self) -> None:
        generation = self.make()
        recorder = Recorder()
        with upstream(recorder):
            recorder.fail_next("/files/", httpx.Response(200, content=b"<html>login page</html>"))
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, "archive_failed"))
        self.assertFalse(generation.video)

    def test_archiving_twice_keeps_one_file(self) -> None:
        generation = self.make()
        tasks.start(generation)
        generation.refresh_from_db()
        Generation.objects.filter(pk=generation.pk).update(
            state=State.ARCHIVING, claimed_at=None, video_url=self.fresh_link(generation)
        )
        tasks.archive(str(generation.pk))
        generation.refresh_from_db()
        folder = Path(generation.video.path).parent
        self.assertEqual(len(list(folder.iterdir())), 1)
        self.assertEqual(generation.state, State.SUCCEEDED)


@override_settings(SIMULATOR_SECONDS=600)
class RecoveryTests(PipelineTestCase):
    """A worker killed at any moment: every live job resumes where it was."""

    def test_a_job_abandoned_while_submitting_is_submitted_again(self) -> None:
        generation = self.make()
        stale = timezone.now() - timedelta(minutes=10)
        Generation.objects.filter(pk=generation.pk).update(
            state=State.SUBMITTING, claimed_at=stale, attempts=1
        )
        tasks.step()
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.RUNNING)
        self.assertEqual(SimTask.objects.count(), 1)

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
        generation.mark_failed("api_error", "boom")
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
        recorder = Recorder()
        with upstream(recorder):
            for job in jobs:
                tasks.start(job)
            recorder.requests.clear()
            tasks.step()
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
                self.assertIn("did not send it again", str(generation.explanation))

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
            mock.patch.object(tasks.media, "probe_video", side_effect=PermissionError("disk says no")),
            self.assertLogs("sorastudio.studio.tasks", "ERROR"),
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
