"""The AceDataCloud client against the studio's simulator (in-process) and against scripted failures."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from django.conf import settings
from django.test import TestCase, override_settings
from django.utils import timezone

from sorastudio.simulator.models import SimTask
from sorastudio.upstream.acedata import (
    AceDataClient,
    AceDataError,
    VideoRequest,
    parse_task,
)
from sorastudio.upstream.http import parse_retry_after
from tests.helpers import TEST_DOWNLOADS, scripted, simulator_transport

BASE = "http://testserver/simulator/acedata"


def client(
    transport: httpx.BaseTransport | None = None, key: str = settings.SIMULATOR_API_KEY
) -> AceDataClient:
    return AceDataClient(
        BASE, key, timeout=5, transport=transport or simulator_transport(), download_limits=TEST_DOWNLOADS
    )


class SubmitTests(TestCase):
    def test_it_submits_async_and_gets_a_task_id(self) -> None:
        with client() as c:
            submitted = c.submit(VideoRequest(model="sora-2", prompt="a cat on a river", duration=10))
        task = SimTask.objects.get(pk=submitted.task_id)
        self.assertEqual(task.request["async"], True)
        self.assertEqual(task.request["duration"], 10)
        self.assertEqual(task.request["version"], "1.0")

    def test_it_asks_for_a_callback_instead_of_async_when_given_one(self) -> None:
        request = VideoRequest(model="sora-2", prompt="x", callback_url="http://127.0.0.1:9/cb/abc/")
        payload = request.to_payload()
        self.assertEqual(payload["callback_url"], "http://127.0.0.1:9/cb/abc/")
        self.assertNotIn("async", payload)

    def test_it_sends_every_v1_field(self) -> None:
        request = VideoRequest(
            model="sora-2-pro",
            prompt="p",
            version="1.0",
            duration=25,
            size="large",
            orientation="portrait",
            image_urls=("https://example.com/a.png",),
            character_url="https://example.com/c.mp4",
            character_start=1,
            character_end=3,
        )
        with client() as c:
            submitted = c.submit(request)
        body = SimTask.objects.get(pk=submitted.task_id).request
        sent = {
            "model": "sora-2-pro",
            "duration": 25,
            "size": "large",
            "orientation": "portrait",
            "image_urls": ["https://example.com/a.png"],
            "character_url": "https://example.com/c.mp4",
            "character_start": 1,
            "character_end": 3,
        }
        self.assertEqual({k: body[k] for k in sent}, sent)

    def test_it_reports_a_validation_error_as_permanent(self) -> None:
        with client() as c, self.assertRaises(AceDataError) as caught:
            c.submit(VideoRequest(model="sora-2", prompt="p", duration=25))
        error = caught.exception
        self.assertEqual((error.status, error.code, error.retryable), (400, "bad_request", False))
        self.assertIn("duration", error.message)
        self.assertTrue(error.trace_id)

    def test_it_reports_a_missing_token(self) -> None:
        with client(key="") as c, self.assertRaises(AceDataError) as caught:
            c.submit(VideoRequest(model="sora-2", prompt="p"))
        self.assertIn(caught.exception.status, (400, 401))
        self.assertFalse(caught.exception.retryable)

    def test_it_reports_used_up_balance_as_permanent(self) -> None:
        with client() as c, self.assertRaises(AceDataError) as caught:
            c.submit(VideoRequest(model="sora-2", prompt="please [sim:used_up]"))
        self.assertEqual((caught.exception.status, caught.exception.code), (403, "used_up"))
        self.assertFalse(caught.exception.retryable)

    def test_it_marks_rate_limits_retryable_and_honours_retry_after(self) -> None:
        body = {
            "success": False,
            "error": {"code": "too_many_requests", "message": "slow down"},
            "trace_id": "t1",
        }
        transport = scripted(httpx.Response(429, json=body, headers={"Retry-After": "7"}))
        with client(transport) as c, self.assertRaises(AceDataError) as caught:
            c.submit(VideoRequest(model="sora-2", prompt="p"))
        error = caught.exception
        self.assertEqual(
            (error.retryable, error.retry_after, error.code, error.trace_id),
            (True, 7.0, "too_many_requests", "t1"),
        )

    def test_it_marks_server_errors_retryable(self) -> None:
        transport = scripted(httpx.Response(502, text="<html>bad gateway</html>"))
        with client(transport) as c, self.assertRaises(AceDataError) as caught:
            c.submit(VideoRequest(model="sora-2", prompt="p"))
        self.assertTrue(caught.exception.retryable)
        self.assertEqual(caught.exception.status, 502)

    def test_it_marks_malformed_json_retryable(self) -> None:
        transport = scripted(httpx.Response(200, text="{not json"))
        with client(transport) as c, self.assertRaises(AceDataError) as caught:
            c.retrieve("t")
        self.assertTrue(caught.exception.retryable)

    def test_it_says_a_refused_connection_never_reached_the_upstream(self) -> None:
        transport = scripted(httpx.ConnectError("refused"))
        with client(transport) as c, self.assertRaises(AceDataError) as caught:
            c.submit(VideoRequest(model="sora-2", prompt="p"))
        self.assertEqual((caught.exception.retryable, caught.exception.sent), (True, False))

    def test_it_says_a_read_timeout_may_have_reached_the_upstream(self) -> None:
        transport = scripted(httpx.ReadTimeout("slow"))
        with client(transport) as c, self.assertRaises(AceDataError) as caught:
            c.submit(VideoRequest(model="sora-2", prompt="p"))
        self.assertEqual((caught.exception.retryable, caught.exception.sent), (True, True))

    def test_it_never_sends_the_key_to_the_video_host(self) -> None:
        transport = scripted(httpx.Response(200, content=b"mp4"))
        with client(transport) as c, c.download("https://cdn.example.com/v.mp4?sig=x") as response:
            self.assertEqual(response.read(), b"mp4")
        self.assertNotIn("authorization", transport.seen[0].headers)  # type: ignore[attr-defined]


class RetrieveTests(TestCase):
    def submit(self, prompt: str = "a dog") -> str:
        with client() as c:
            return c.submit(VideoRequest(model="sora-2", prompt=prompt)).task_id

    def test_it_reads_pending_processing_and_succeeded(self) -> None:
        task_id = self.submit()
        task = SimTask.objects.get(pk=task_id)
        now = timezone.now()
        phases = []
        for created, finishes in (
            (now, now + timedelta(seconds=60)),
            (now - timedelta(seconds=30), now + timedelta(seconds=30)),
            (now - timedelta(seconds=60), now - timedelta(seconds=1)),
        ):
            SimTask.objects.filter(pk=task.pk).update(created_at=created, finishes_at=finishes)
            with client() as c:
                phases.append(c.retrieve(task_id))
        self.assertEqual([s.phase for s in phases], ["pending", "processing", "succeeded"])
        self.assertIn("/simulator/acedata/files/", phases[2].video_url)
        self.assertIn("sig=", phases[2].video_url)

    def test_it_reads_a_refusal_with_its_reason(self) -> None:
        task_id = self.submit("a real person waving")
        with client() as c:
            status = c.retrieve(task_id)
        self.assertEqual(status.phase, "failed")
        self.assertEqual(status.error_code, "content_policy_violation")
        self.assertIn("real person", status.error_message)

    def test_it_reads_an_unknown_id_as_unknown(self) -> None:
        with client() as c:
            self.assertEqual(c.retrieve("no-such-task").phase, "unknown")

    def test_it_retrieves_a_batch_in_one_request(self) -> None:
        ids = [self.submit(f"clip {i}") for i in range(3)]
        calls: list[httpx.Request] = []
        inner = simulator_transport()

        class Counting(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                calls.append(request)
                return inner.handle_request(request)

        with client(Counting()) as c:
            statuses = c.retrieve_batch([*ids, "unknown-id"])
        self.assertEqual(len(calls), 1)
        self.assertEqual(json.loads(calls[0].content)["action"], "retrieve_batch")
        self.assertEqual(set(statuses), set(ids))
        self.assertTrue(all(s.phase == "succeeded" for s in statuses.values()))

    def test_it_downloads_the_video_with_range_support(self) -> None:
        task_id = self.submit()
        with client() as c:
            url = c.retrieve(task_id).video_url
            with c.download(url) as response:
                data = response.read()
        self.assertEqual(data[4:8], b"ftyp")
        with client() as c:
            response = c._downloads.get(url, headers={"Range": "bytes=0-9"})
        self.assertEqual(response.status_code, 206)
        self.assertEqual(response.content, data[:10])

    def test_it_reports_an_expired_link(self) -> None:
        task_id = self.submit("sunset [sim:expired]")
        with client() as c:
            first = c.retrieve(task_id).video_url
            with self.assertRaises(AceDataError) as caught, c.download(first):
                pass
            fresh = c.retrieve(task_id).video_url
            with c.download(fresh) as response:
                self.assertEqual(response.status_code, 200)
        self.assertEqual(caught.exception.code, "link_expired")
        self.assertFalse(caught.exception.retryable)

    @override_settings(SIMULATOR_SECONDS=0)
    def test_it_rejects_a_forged_link(self) -> None:
        task_id = self.submit()
        with client() as c:
            url = c.retrieve(task_id).video_url.replace("sig=", "sig=0")
            with self.assertRaises(AceDataError) as caught, c.download(url):
                pass
        self.assertEqual(caught.exception.status, 403)


class ParsingTests(TestCase):
    def test_it_reads_retry_after_in_seconds_and_as_a_date(self) -> None:
        self.assertEqual(parse_retry_after("3"), 3.0)
        self.assertIsNone(parse_retry_after("soon"))
        later = parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT")
        self.assertIsNotNone(later)

    def test_it_treats_a_response_without_success_as_processing(self) -> None:
        status = parse_task({"id": "t", "response": {"data": [{"state": "processing"}]}})
        self.assertEqual(status.phase, "processing")

    def test_it_reads_a_success_without_a_url_as_still_processing(self) -> None:
        status = parse_task({"id": "t", "response": {"success": True, "data": [{"state": "pending"}]}})
        self.assertEqual(status.phase, "processing")

    def test_it_reads_a_failed_item_in_a_successful_response_as_failed(self) -> None:
        status = parse_task({"id": "t", "response": {"success": True, "data": [{"state": "failed"}]}})
        self.assertEqual(status.phase, "failed")
