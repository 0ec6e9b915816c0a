"""The simulator answers exactly like Sora2API: paths, validation, envelopes, phases, callbacks and files."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any
from unittest import mock

import av
import httpx
import numpy as np
from django.test import override_settings
from django.utils import timezone

from sorastudio.simulator import callbacks
from sorastudio.simulator import sora2api as simulator
from sorastudio.simulator.models import SimTask
from tests.helpers import SIMULATOR_AUTH as AUTH
from tests.helpers import SimulatorTestCase, read_body

PREFIXES = ("/simulator/sora2api/api/v1/sora2", "/simulator/sora2api/api/v1/sora2api")
GENERATE = PREFIXES[0] + "/generate"
RECORD_INFO = PREFIXES[0] + "/record-info"


class Sora2APITestCase(SimulatorTestCase):
    def generate(self, prompt: str = "a lighthouse", seconds: float = 100, **options: Any) -> str:
        with override_settings(SIMULATOR_SECONDS=seconds):
            response = self.post(GENERATE, {"prompt": prompt, **options})
        self.assertEqual(response.status_code, 200, response.content)
        return str(response.json()["data"]["taskId"])

    def record(self, task_id: str, prefix: str = PREFIXES[0]) -> dict[str, Any]:
        response = self.client.get(prefix + "/record-info", {"taskId": task_id}, headers=AUTH)
        self.assertEqual(response.status_code, 200)
        body: dict[str, Any] = response.json()
        return body

    def finish(self, task_id: str) -> None:
        SimTask.objects.filter(pk=task_id).update(
            created_at=timezone.now() - timedelta(seconds=60),
            finishes_at=timezone.now() - timedelta(seconds=1),
        )


class GenerateTests(Sora2APITestCase):
    def test_it_answers_with_a_task_id_on_both_prefixes(self) -> None:
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                response = self.post(prefix + "/generate", {"prompt": "a cat on a river"})
                body = response.json()
                self.assertEqual(response.status_code, 200)
                self.assertEqual((body["code"], body["msg"], set(body["data"])), (200, "success", {"taskId"}))
                task = SimTask.objects.get(pk=body["data"]["taskId"])
                self.assertEqual((task.provider, task.request), ("sora2api", {"prompt": "a cat on a river"}))

    def test_it_accepts_every_documented_option(self) -> None:
        body = {
            "prompt": "Animate this image with natural motion effects",
            "aspectRatio": "portrait",
            "quality": "hd",
            "imageUrls": ["https://example.com/source-image.jpg"],
            "watermark": "x" * 50,
            "callBackUrl": "https://your-app.com/webhook/sora2-callback",
        }
        with mock.patch.object(simulator, "_schedule_callback"):
            response = self.post(GENERATE, body)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(SimTask.objects.get().request, body)

    def test_it_validates_like_the_real_api(self) -> None:
        cases = [
            ({}, "prompt"),
            ({"prompt": "   "}, "prompt"),
            ({"prompt": 5}, "prompt"),
            ({"prompt": "p", "aspectRatio": "square"}, "aspectRatio"),
            ({"prompt": "p", "quality": "4k"}, "quality"),
            ({"prompt": "p", "imageUrls": "https://x/a.png"}, "imageUrls"),
            (
                {"prompt": "p", "imageUrls": ["data:image/png;base64,iVBORw0KGgo="]},
                "publicly accessible URLs",
            ),
            ({"prompt": "p", "imageUrls": ["iVBORw0KGgo="]}, "publicly accessible URLs"),
            ({"prompt": "p", "watermark": "x" * 51}, "watermark"),
            ({"prompt": "p", "watermark": 7}, "watermark"),
            ({"prompt": "p", "callBackUrl": "ftp://example.com/cb"}, "callBackUrl"),
        ]
        for body, word in cases:
            with self.subTest(body=body):
                response = self.post(GENERATE, body)
                self.assertEqual(response.status_code, 400)
                error = response.json()
                self.assertEqual(
                    (set(error), error["code"], error["data"]), ({"code", "msg", "data"}, 400, None)
                )
                self.assertIn(word, error["msg"])
        self.assertEqual(SimTask.objects.count(), 0)

    def test_it_wants_an_api_key(self) -> None:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}):
            with self.subTest(headers=headers):
                response = self.post(GENERATE, {"prompt": "p"}, headers=headers)
                self.assertEqual(response.status_code, 401)
                self.assertEqual(
                    response.json(), {"code": 401, "msg": "Missing or invalid API key", "data": None}
                )
        missing = self.client.get(RECORD_INFO, {"taskId": "x"})
        self.assertEqual((missing.status_code, missing.json()["code"]), (401, 401))

    def test_it_refuses_malformed_json(self) -> None:
        response = self.client.post(GENERATE, data="{oops", content_type="application/json", headers=AUTH)
        self.assertEqual((response.status_code, response.json()["code"]), (400, 400))

    def test_it_refuses_when_the_credits_are_used_up(self) -> None:
        response = self.post(GENERATE, {"prompt": "a boat [sim:used_up]"})
        self.assertEqual(response.status_code, 402)
        self.assertEqual((response.json()["code"], response.json()["data"]), (402, None))
        self.assertIn("insufficient credits", response.json()["msg"].lower())
        # No task, only the marker that lets the same prompt through next time (the account "topped up").
        self.assertEqual(list(SimTask.objects.values_list("outcome", flat=True)), ["used_up"])
        self.assertEqual(self.post(GENERATE, {"prompt": "a boat [sim:used_up]"}).status_code, 200)

    def test_it_takes_the_simulator_time_and_three_times_that_when_slow(self) -> None:
        for prompt, expected in (("a dog", 10), ("a dog [sim:slow]", 30)):
            with self.subTest(prompt=prompt):
                task = SimTask.objects.get(pk=self.generate(prompt, seconds=10))
                self.assertEqual((task.finishes_at - task.created_at).total_seconds(), expected)


class RecordInfoTests(Sora2APITestCase):
    def test_a_record_goes_from_generating_to_done(self) -> None:
        task_id = self.generate("a lighthouse", aspectRatio="portrait")
        body = self.record(task_id)
        self.assertEqual((body["code"], body["msg"]), (200, "success"))
        running = body["data"]
        self.assertEqual(
            set(running),
            {
                "taskId",
                "paramJson",
                "createTime",
                "completeTime",
                "response",
                "successFlag",
                "errorCode",
                "errorMessage",
            },
        )
        self.assertEqual((running["taskId"], running["successFlag"]), (task_id, 0))
        self.assertEqual((running["response"], running["completeTime"]), (None, None))
        self.assertEqual(
            json.loads(running["paramJson"]), {"prompt": "a lighthouse", "aspectRatio": "portrait"}
        )
        self.assertRegex(running["createTime"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")

        SimTask.objects.filter(pk=task_id).update(created_at=timezone.now() - timedelta(seconds=50))
        self.assertEqual(self.record(task_id)["data"]["successFlag"], 0)

        SimTask.objects.filter(pk=task_id).update(finishes_at=timezone.now())
        done = self.record(task_id)["data"]
        self.assertEqual((done["successFlag"], done["errorCode"], done["errorMessage"]), (1, 0, None))
        self.assertRegex(done["completeTime"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        self.assertRegex(
            done["response"]["imageUrl"], r"/simulator/sora2api/files/sora2_task_\w+\.mp4\?se=\d+&sp=r&sig="
        )

    def test_both_prefixes_answer_for_the_same_task(self) -> None:
        task_id = self.generate()
        first, second = (self.record(task_id, prefix)["data"] for prefix in PREFIXES)
        self.assertEqual((first["taskId"], first["successFlag"]), (second["taskId"], second["successFlag"]))

    def test_a_refusal_shows_only_in_the_record(self) -> None:
        response = self.post(GENERATE, {"prompt": "a celebrity on stage"})
        self.assertEqual((response.status_code, response.json()["code"]), (200, 200))
        task_id = response.json()["data"]["taskId"]
        self.finish(task_id)
        refused = self.record(task_id)
        self.assertEqual(refused["code"], 200)
        self.assertEqual((refused["data"]["successFlag"], refused["data"]["errorCode"]), (3, 400))
        self.assertIn("real person", refused["data"]["errorMessage"])
        self.assertIsNone(refused["data"]["response"])

    def test_a_simulated_error_reads_as_task_creation_failed(self) -> None:
        task_id = self.generate("a boat [sim:error]")
        self.finish(task_id)
        data = self.record(task_id)["data"]
        self.assertEqual(data["successFlag"], 2)
        self.assertIn("creation failed", data["errorMessage"].lower())

    def test_an_unknown_id_gets_code_404_over_http_200(self) -> None:
        self.assertEqual(
            self.record("sora2_task_nope"), {"code": 404, "msg": "record not found", "data": None}
        )

    def test_it_does_not_show_another_providers_task(self) -> None:
        acedata = self.post(
            "/simulator/acedata/sora/videos", {"model": "sora-2", "prompt": "p", "async": True}
        )
        self.assertEqual(self.record(acedata.json()["task_id"])["code"], 404)

    def test_it_wants_a_task_id(self) -> None:
        response = self.client.get(RECORD_INFO, headers=AUTH)
        self.assertEqual((response.status_code, response.json()["code"]), (400, 400))


class CallbackDeliveryTests(Sora2APITestCase):
    def submit_with_callback(self, prompt: str) -> str:
        with mock.patch.object(simulator, "_schedule_callback") as schedule:
            task_id = self.generate(prompt, seconds=20, callBackUrl="http://testserver/cb/x/")
        schedule.assert_called_once_with(task_id, 20)
        self.finish(task_id)
        return task_id

    def deliver(self, task_id: str, times: int = 1) -> Any:
        with (
            mock.patch.object(httpx, "post") as post,
            mock.patch.object(callbacks, "close_old_connections"),
        ):
            for _ in range(times):
                simulator._deliver_callback(task_id)
        return post

    def test_it_posts_the_record_to_the_callback_url_once(self) -> None:
        task_id = self.submit_with_callback("a dog")
        post = self.deliver(task_id, times=2)
        post.assert_called_once()
        url, body = post.call_args.args[0], post.call_args.kwargs["json"]
        self.assertEqual(url, "http://testserver/cb/x/")
        self.assertEqual((body["code"], body["msg"]), (200, "success"))
        self.assertEqual((body["data"]["taskId"], body["data"]["successFlag"]), (task_id, 1))
        self.assertTrue(
            body["data"]["response"]["imageUrl"].startswith("http://testserver/simulator/sora2api/files/")
        )

    def test_a_failed_task_calls_back_with_code_500(self) -> None:
        task_id = self.submit_with_callback("a real person dancing")
        body = self.deliver(task_id).call_args.kwargs["json"]
        self.assertEqual(
            (body["code"], body["data"]["successFlag"], body["data"]["errorCode"]), (500, 3, 400)
        )
        self.assertIn("real person", body["msg"])


def frames(data: bytes, indexes: set[int]) -> dict[int, np.ndarray]:
    with av.open(io.BytesIO(data), mode="r") as container:
        return {
            i: frame.to_ndarray(format="rgb24")
            for i, frame in enumerate(container.decode(video=0))
            if i in indexes
        }


class VideoFileTests(Sora2APITestCase):
    def link(self, prompt: str = "a lighthouse", **options: Any) -> str:
        task_id = self.generate(prompt, **options)
        self.finish(task_id)
        return str(self.record(task_id)["data"]["response"]["imageUrl"])

    def test_it_serves_a_real_ten_second_mp4_with_ranges(self) -> None:
        whole = self.assert_serves_an_mp4_with_ranges(self.link())
        with av.open(io.BytesIO(whole)) as container:
            stream = container.streams.video[0]
            self.assertEqual((stream.width, stream.height, stream.frames), (640, 360, 240))

    def test_it_makes_portrait_videos_portrait(self) -> None:
        whole = read_body(self.client.get(self.link(aspectRatio="portrait", quality="hd")))
        with av.open(io.BytesIO(whole)) as container:
            stream = container.streams.video[0]
            self.assertEqual((stream.width, stream.height), (360, 640))

    def test_it_refuses_tampered_or_expired_links(self) -> None:
        self.assert_refuses_tampered_or_expired(self.link())

    def test_the_first_link_of_an_expired_task_has_expired(self) -> None:
        task_id = self.generate("sunset [sim:expired]")
        self.finish(task_id)
        first = self.record(task_id)["data"]["response"]["imageUrl"]
        fresh = self.record(task_id)["data"]["response"]["imageUrl"]
        self.assertEqual(self.client.get(first).status_code, 403)
        self.assertEqual(self.client.get(fresh).status_code, 200)

    def test_its_links_do_not_open_on_the_acedata_route(self) -> None:
        url = self.link()
        elsewhere = url.replace("/simulator/sora2api/files/", "/simulator/acedata/files/")
        self.assertEqual(self.client.get(elsewhere).status_code, 404)

    def test_it_draws_the_watermark_on_every_frame(self) -> None:
        marked = read_body(self.client.get(self.link("a lighthouse", watermark="ACME Studio")))
        plain = read_body(self.client.get(self.link("a lighthouse")))
        picked = {0, 120, 239}
        with_mark, without = frames(marked, picked), frames(plain, picked)
        height, width = without[0].shape[:2]
        # The watermark sits at the bottom right, above the timecode; the short prompt stays in the middle.
        rows, columns = slice(height // 2, height * 3 // 4), slice(width * 2 // 3, width)
        for index in sorted(picked):
            with self.subTest(frame=index):
                a = with_mark[index][rows, columns].astype(int)
                b = without[index][rows, columns].astype(int)
                changed = int((np.abs(a - b).max(axis=2) > 48).sum())
                self.assertGreater(changed, 500)
                # A dark, semi-transparent box: the area is darker overall but not blacked out.
                self.assertLess(a.mean(), b.mean())
                # The same rows on the left, where there is no watermark, are the same in both videos.
                left = slice(0, width // 3)
                a, b = with_mark[index][rows, left].astype(int), without[index][rows, left].astype(int)
                self.assertLess(np.abs(a - b).max(), 24)
