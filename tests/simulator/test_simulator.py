"""The simulator answers exactly like the AceDataCloud API: paths, validation, error bodies and quirks."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from unittest import mock

import httpx
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from sorastudio.simulator import callbacks, faults
from sorastudio.simulator import views as simulator
from sorastudio.simulator.models import SimTask
from tests.helpers import SIMULATOR_AUTH as AUTH
from tests.helpers import SimulatorTestCase, read_body

VIDEOS = "/simulator/acedata/sora/videos"
TASKS = "/simulator/acedata/sora/tasks"


class SubmitTests(SimulatorTestCase):
    def test_it_blocks_and_answers_with_the_finished_video(self) -> None:
        response = self.post(VIDEOS, {"model": "sora-2", "prompt": "cat running on the river"})
        body = response.json()
        self.assertEqual(response.status_code, 200)
        self.assertIs(body["success"], True)
        self.assertTrue(body["task_id"] and body["trace_id"])
        item = body["data"][0]
        self.assertEqual(item["state"], "succeeded")
        self.assertTrue(item["id"].startswith("sora-2:task_"))
        self.assertIn("sig=", item["video_url"])

    def test_it_answers_at_once_in_async_and_callback_modes(self) -> None:
        body = self.post(VIDEOS, {"model": "sora-2", "prompt": "p", "async": True}).json()
        self.assertEqual(set(body), {"task_id", "trace_id"})
        with mock.patch.object(simulator, "_schedule_callback") as schedule:
            body = self.post(
                VIDEOS, {"model": "sora-2", "prompt": "p", "callback_url": "http://127.0.0.1:1/cb"}
            ).json()
        self.assertEqual(set(body), {"task_id"})
        schedule.assert_called_once()

    def test_it_streams_ndjson_when_asked(self) -> None:
        headers = {**AUTH, "Accept": "application/x-ndjson"}
        response = self.post(VIDEOS, {"model": "sora-2", "prompt": "p"}, headers=headers)
        lines = [json.loads(line) for line in read_body(response).decode().splitlines()]
        self.assertEqual(response["Content-Type"], "application/x-ndjson")
        self.assertEqual(lines[-1]["data"][0]["state"], "succeeded")

    def test_it_validates_like_the_real_api(self) -> None:
        cases = [
            ({"prompt": "p"}, "model"),
            ({"model": "sora-3", "prompt": "p"}, "model"),
            ({"model": "sora-2"}, "prompt"),
            ({"model": "sora-2", "prompt": "p", "duration": 25}, "duration"),
            ({"model": "sora-2", "prompt": "p", "size": "large"}, "size"),
            ({"model": "sora-2", "prompt": "p", "version": "2.0", "duration": 10}, "duration"),
            ({"model": "sora-2", "prompt": "p", "version": "2.0", "orientation": "portrait"}, "orientation"),
            ({"model": "sora-2", "prompt": "p", "version": "3.0"}, "version"),
            ({"model": "sora-2", "prompt": "p", "character_url": "https://x/c.mp4"}, "character_start"),
            (
                {
                    "model": "sora-2",
                    "prompt": "p",
                    "character_url": "https://x/c.mp4",
                    "character_start": 0,
                    "character_end": 5,
                },
                "between 1 and 3",
            ),
            (
                {
                    "model": "sora-2",
                    "prompt": "p",
                    "version": "2.0",
                    "character_url": "https://x/c.mp4",
                    "character_start": 0,
                    "character_end": 2,
                },
                "version 1.0",
            ),
            ({"model": "sora-2", "prompt": "p", "image_urls": "https://x/a.png"}, "image_urls"),
            ({"model": "sora-2", "prompt": "p", "image_urls": ["not an image!"]}, "image_urls"),
        ]
        for body, word in cases:
            with self.subTest(body=body):
                response = self.post(VIDEOS, body)
                self.assertEqual(response.status_code, 400)
                error = response.json()
                self.assertIs(error["success"], False)
                self.assertEqual(error["error"]["code"], "bad_request")
                self.assertIn(word, error["error"]["message"])
                self.assertTrue(error["trace_id"])
        self.assertEqual(SimTask.objects.count(), 0)

    def test_it_accepts_the_integer_version_some_samples_send_and_base64_images(self) -> None:
        body = {
            "model": "sora-2",
            "prompt": "p",
            "version": 2,
            "duration": 8,
            "async": True,
            "image_urls": ["data:image/png;base64,iVBORw0KGgo="],
        }
        self.assertEqual(self.post(VIDEOS, body).status_code, 200)

    def test_it_wants_a_token(self) -> None:
        missing = self.post(VIDEOS, {"model": "sora-2", "prompt": "p"}, headers={})
        self.assertEqual((missing.status_code, missing.json()["error"]["code"]), (400, "no_token"))
        empty = self.post(VIDEOS, {"model": "sora-2", "prompt": "p"}, headers={"Authorization": "Bearer "})
        self.assertEqual((empty.status_code, empty.json()["error"]["code"]), (401, "invalid_token"))

    def test_it_refuses_malformed_json(self) -> None:
        response = self.client.post(VIDEOS, data="{oops", content_type="application/json", headers=AUTH)
        self.assertEqual(response.json()["error"]["code"], "bad_request")


class TaskTests(SimulatorTestCase):
    def submit(self, prompt: str = "p") -> str:
        with override_settings(SIMULATOR_SECONDS=100):
            return str(
                self.post(VIDEOS, {"model": "sora-2", "prompt": prompt, "async": True}).json()["task_id"]
            )

    def test_a_record_goes_through_its_phases(self) -> None:
        task_id = self.submit()
        pending = self.post(TASKS, {"id": task_id, "action": "retrieve"}).json()
        self.assertNotIn("response", pending)
        self.assertEqual(pending["request"]["prompt"], "p")
        for key in ("_id", "api_id", "application_id", "credential_id", "user_id", "created_at", "trace_id"):
            self.assertIn(key, pending)

        SimTask.objects.filter(pk=task_id).update(created_at=timezone.now() - timedelta(seconds=50))
        running = self.post(TASKS, {"id": task_id}).json()
        self.assertNotIn("success", running["response"])

        SimTask.objects.filter(pk=task_id).update(finishes_at=timezone.now())
        done = self.post(TASKS, {"id": task_id}).json()
        self.assertIs(done["response"]["success"], True)
        self.assertIn("finished_at", done)
        self.assertIn("elapsed", done)

    def test_a_refusal_reads_as_a_failed_response(self) -> None:
        task_id = self.submit("a celebrity on stage")
        SimTask.objects.filter(pk=task_id).update(finishes_at=timezone.now())
        done = self.post(TASKS, {"id": task_id}).json()
        self.assertIs(done["response"]["success"], False)
        self.assertEqual(done["response"]["error"]["code"], "content_policy_violation")

    def test_an_unknown_id_gets_an_empty_object(self) -> None:
        response = self.post(TASKS, {"id": "nope", "action": "retrieve"})
        self.assertEqual((response.status_code, response.json()), (200, {}))

    def test_a_batch_returns_known_ids_in_order(self) -> None:
        first, second = self.submit("a"), self.submit("b")
        body = self.post(TASKS, {"ids": [second, "nope", first], "action": "retrieve_batch"}).json()
        self.assertEqual(body["count"], 2)
        self.assertEqual([item["id"] for item in body["items"]], [second, first])

    def test_it_refuses_an_unknown_action(self) -> None:
        self.assertEqual(self.post(TASKS, {"id": "x", "action": "delete"}).status_code, 400)


class CallbackDeliveryTests(SimulatorTestCase):
    def deliver(self, callback_url: str, times: int = 1) -> tuple[str, mock.MagicMock]:
        """A task asking for a callback, its callback delivered `times` times; the task and the posts made."""
        with mock.patch.object(simulator, "_schedule_callback"):
            task_id = self.post(
                VIDEOS, {"model": "sora-2", "prompt": "p", "callback_url": callback_url}
            ).json()["task_id"]
        with (
            mock.patch.object(httpx, "post") as post,
            mock.patch.object(callbacks, "close_old_connections"),
        ):
            for _ in range(times):
                simulator._deliver_callback(task_id)
        return task_id, post

    def test_it_posts_the_result_to_the_callback_url_once(self) -> None:
        task_id, post = self.deliver("http://testserver/cb/x/", times=2)
        post.assert_called_once()
        url, body = post.call_args.args[0], post.call_args.kwargs["json"]
        self.assertEqual(url, "http://testserver/cb/x/")
        self.assertEqual((body["task_id"], body["success"]), (task_id, True))

    def test_it_never_calls_an_address_outside_the_studio(self) -> None:
        _, post = self.deliver("http://169.254.169.254/latest/")
        post.assert_not_called()


class VideoFileTests(SimulatorTestCase):
    def link(self) -> str:
        return str(self.post(VIDEOS, {"model": "sora-2", "prompt": "p"}).json()["data"][0]["video_url"])

    def test_it_serves_a_real_mp4_with_ranges(self) -> None:
        self.assert_serves_an_mp4_with_ranges(self.link())

    def test_it_refuses_tampered_or_expired_links(self) -> None:
        self.assert_refuses_tampered_or_expired(self.link())


class FaultTests(SimulatorTestCase):
    """SIMULATOR_FAULTS: the simulator misbehaving on purpose, for the soak test (bench/soak.py)."""

    def submit(self, prompt: str = "p", **extra: Any) -> Any:
        return self.post(VIDEOS, {"model": "sora-2", "prompt": prompt, "async": True, **extra})

    def read(self, task_id: str) -> Any:
        return self.post(TASKS, {"id": task_id, "action": "retrieve"})

    def test_it_injects_nothing_by_default(self) -> None:
        task_id = self.submit().json()["task_id"]
        self.assertEqual(self.read(task_id).status_code, 200)
        self.assertEqual(faults.counts(), {})

    def test_a_429_carries_retry_after_and_a_refused_submit_makes_no_task(self) -> None:
        task_id = self.submit().json()["task_id"]
        with override_settings(SIMULATOR_FAULTS={"429": 1.0}):
            read = self.read(task_id)
            submit = self.submit()
        self.assertEqual((read.status_code, read["Retry-After"]), (429, "1"))
        self.assertEqual(submit.status_code, 429)
        self.assertEqual(SimTask.objects.count(), 1)
        self.assertEqual(faults.counts(), {"429@status": 1, "429@submit": 1})

    def test_a_500_on_a_submit_makes_no_task(self) -> None:
        with override_settings(SIMULATOR_FAULTS={"500": 1.0}):
            response = self.submit()
        self.assertEqual(response.status_code, 500)
        self.assertFalse(SimTask.objects.exists())

    def test_malformed_answers_are_not_json_and_not_a_video(self) -> None:
        finished = self.post(VIDEOS, {"model": "sora-2", "prompt": "p"}).json()
        link = finished["data"][0]["video_url"]
        with override_settings(SIMULATOR_FAULTS={"malformed": 1.0}):
            read = self.read(finished["task_id"])
            download = self.client.get(link)
        self.assertEqual(read.status_code, 200)
        with self.assertRaises(json.JSONDecodeError):
            json.loads(read.content)
        self.assertEqual(download.status_code, 200)
        self.assertNotEqual(read_body(download)[4:8], b"ftyp")

    def test_a_timeout_holds_the_answer_past_the_clients_patience(self) -> None:
        task_id = self.submit().json()["task_id"]
        with (
            override_settings(SIMULATOR_FAULTS={"timeout": 1.0}),
            mock.patch.object(time, "sleep") as sleep,
        ):
            self.read(task_id)
        sleep.assert_called_once()
        self.assertGreater(sleep.call_args.args[0], settings.UPSTREAM_TIMEOUT)

    def test_the_submit_markers_make_the_task_then_spoil_the_answer(self) -> None:
        malformed = self.submit("a boat [sim:malformed]")
        with self.assertRaises(json.JSONDecodeError):
            json.loads(malformed.content)
        with mock.patch.object(time, "sleep") as sleep:
            late = self.submit("a boat [sim:timeout]")
        sleep.assert_called_once()
        self.assertEqual(late.status_code, 504)
        self.assertEqual(SimTask.objects.count(), 2)

    def test_callback_faults_drop_double_delay_or_forge_the_callback(self) -> None:
        cases = {
            "missing_callback": [],
            "duplicate_callback": [simulator._deliver_callback, simulator._deliver_callback],
            "late_callback": [simulator._deliver_callback],
            "forged_callback": [simulator._forge_callback, simulator._deliver_callback],
        }
        for kind, expected in cases.items():
            with (
                self.subTest(kind),
                override_settings(SIMULATOR_FAULTS={kind: 1.0}, SIMULATOR_SECONDS=10),
                mock.patch.object(faults, "_timer") as timer,
            ):
                faults.schedule_callbacks("t", 10, simulator._deliver_callback, simulator._forge_callback)
            self.assertEqual([c.args[1] for c in timer.call_args_list], expected)
            if kind == "late_callback":
                self.assertGreater(timer.call_args.args[0], 10 + 20)

    def test_a_forged_callback_lies_to_the_jobs_address_and_to_an_unknown_one(self) -> None:
        other = self.post(VIDEOS, {"model": "sora-2", "prompt": "another"}).json()["task_id"]
        with mock.patch.object(simulator, "_schedule_callback"):
            task_id = self.submit(callback_url="http://testserver/callbacks/acedata/tok/").json()["task_id"]
        with (
            mock.patch.object(httpx, "post") as post,
            mock.patch.object(callbacks, "close_old_connections"),
        ):
            simulator._forge_callback(task_id)
        urls = [c.args[0] for c in post.call_args_list]
        self.assertEqual(urls[0], "http://testserver/callbacks/acedata/tok/")
        self.assertTrue(urls[1].startswith("http://testserver/callbacks/acedata/forged"))
        body = post.call_args.kwargs["json"]
        self.assertEqual(body["task_id"], other)
        self.assertEqual(body["data"][0]["video_url"], faults.FORGED_VIDEO_URL)

    def test_an_expired_link_fault_spoils_only_the_first_link(self) -> None:
        task_id = self.submit().json()["task_id"]
        with override_settings(SIMULATOR_FAULTS={"expired_link": 1.0}):
            first = self.read(task_id).json()["response"]["data"][0]["video_url"]
            second = self.read(task_id).json()["response"]["data"][0]["video_url"]
        self.assertEqual(self.client.get(first).status_code, 403)
        self.assertEqual(self.client.get(second).status_code, 200)
