"""The simulator answers exactly like the AceDataCloud API: paths, validation, error bodies and quirks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from unittest import mock

from django.test import TestCase, override_settings
from django.utils import timezone

from sorastudio.simulator import views as simulator
from sorastudio.simulator.models import SimTask
from tests.helpers import read_body

VIDEOS = "/simulator/acedata/sora/videos"
TASKS = "/simulator/acedata/sora/tasks"
AUTH = {"Authorization": "Bearer anything"}


class SimulatorTestCase(TestCase):
    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            headers=AUTH if headers is None else headers,
        )


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
    def test_it_posts_the_result_to_the_callback_url_once(self) -> None:
        with mock.patch.object(simulator, "_schedule_callback"):
            task_id = self.post(
                VIDEOS, {"model": "sora-2", "prompt": "p", "callback_url": "http://testserver/cb/x/"}
            ).json()["task_id"]
        with (
            mock.patch.object(simulator.httpx, "post") as post,
            mock.patch.object(simulator, "close_old_connections"),
        ):
            simulator._deliver_callback(task_id)
            simulator._deliver_callback(task_id)
        post.assert_called_once()
        url, body = post.call_args.args[0], post.call_args.kwargs["json"]
        self.assertEqual(url, "http://testserver/cb/x/")
        self.assertEqual((body["task_id"], body["success"]), (task_id, True))

    def test_it_never_calls_an_address_outside_the_studio(self) -> None:
        with mock.patch.object(simulator, "_schedule_callback"):
            task_id = self.post(
                VIDEOS, {"model": "sora-2", "prompt": "p", "callback_url": "http://169.254.169.254/latest/"}
            ).json()["task_id"]
        with (
            mock.patch.object(simulator.httpx, "post") as post,
            mock.patch.object(simulator, "close_old_connections"),
        ):
            simulator._deliver_callback(task_id)
        post.assert_not_called()


class VideoFileTests(SimulatorTestCase):
    def link(self) -> str:
        return str(self.post(VIDEOS, {"model": "sora-2", "prompt": "p"}).json()["data"][0]["video_url"])

    def test_it_serves_a_real_mp4_with_ranges(self) -> None:
        url = self.link()
        whole = read_body(self.client.get(url))
        self.assertEqual(whole[4:8], b"ftyp")
        part = self.client.get(url, headers={"Range": "bytes=0-15"})
        self.assertEqual((part.status_code, read_body(part)), (206, whole[:16]))

    def test_it_refuses_tampered_or_expired_links(self) -> None:
        url = self.link()
        tampered = self.client.get(url.replace("sig=", "sig=f"))
        self.assertEqual(tampered.status_code, 403)
        self.assertIn(b"AuthenticationFailed", tampered.content)
        expired = self.client.get(url.split("?")[0] + "?se=1&sig=abc")
        self.assertEqual(expired.status_code, 403)
