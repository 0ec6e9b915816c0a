"""The Sora2API client against the studio's simulator (in-process) and against scripted failures."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.test import TestCase, override_settings
from django.utils import timezone

from sorastudio.simulator.models import SimTask
from sorastudio.upstream.sora2api import (
    GenerateRequest,
    RecordInfo,
    Sora2APIClient,
    Sora2APIError,
    parse_record,
)
from tests.helpers import TEST_DOWNLOADS, scripted, simulator_transport

BASE = "http://testserver/simulator/sora2api"
DOCUMENTED_PREFIX = "/api/v1/sora2"
CLIENTS_PREFIX = "/api/v1/sora2api"
PREFIXES = (DOCUMENTED_PREFIX, CLIENTS_PREFIX)


def client(
    transport: httpx.BaseTransport | None = None,
    key: str = settings.SIMULATOR_API_KEY,
    prefix: str = DOCUMENTED_PREFIX,
) -> Sora2APIClient:
    return Sora2APIClient(
        BASE,
        key,
        path_prefix=prefix,
        timeout=5,
        transport=transport or simulator_transport(),
        download_limits=TEST_DOWNLOADS,
    )


def envelope(code: int, msg: str = "", data: Any = None) -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": data}


def record(**fields: Any) -> dict[str, Any]:
    """A record-info `data` object with the given fields on top of a plain one."""
    return {"taskId": "sora2_task_1", "createTime": "2024-03-20 10:25:00", **fields}


class GenerateTests(TestCase):
    def test_it_submits_on_both_path_prefixes(self) -> None:
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix), client(prefix=prefix) as c:
                submitted = c.generate(GenerateRequest(prompt="a cat on a river"))
                task = SimTask.objects.get(pk=submitted.task_id)
                self.assertEqual(task.provider, "sora2api")
                self.assertEqual(submitted.trace_id, "")

    def test_it_sends_every_option(self) -> None:
        request = GenerateRequest(
            prompt="a lighthouse in a storm",
            aspect_ratio="portrait",
            quality="hd",
            image_urls=("https://example.com/a.png", "https://example.com/b.jpg"),
            watermark="Studio",
            callback_url="http://127.0.0.1:9/callbacks/sora2api/abc/",
        )
        with client() as c:
            submitted = c.generate(request)
        self.assertEqual(
            SimTask.objects.get(pk=submitted.task_id).request,
            {
                "prompt": "a lighthouse in a storm",
                "aspectRatio": "portrait",
                "quality": "hd",
                "imageUrls": ["https://example.com/a.png", "https://example.com/b.jpg"],
                "watermark": "Studio",
                "callBackUrl": "http://127.0.0.1:9/callbacks/sora2api/abc/",
            },
        )

    def test_it_leaves_out_empty_options(self) -> None:
        self.assertEqual(
            GenerateRequest(prompt="p").to_payload(),
            {"prompt": "p", "aspectRatio": "landscape", "quality": "standard"},
        )

    def test_it_sends_the_key_as_a_bearer_token_in_json(self) -> None:
        transport = scripted(httpx.Response(200, json=envelope(200, "success", {"taskId": "t1"})))
        with client(transport, key="secret-key") as c:
            self.assertEqual(c.generate(GenerateRequest(prompt="p")).task_id, "t1")
        sent = transport.seen[0]  # type: ignore[attr-defined]
        self.assertEqual((sent.method, sent.url.path), ("POST", "/simulator/sora2api/api/v1/sora2/generate"))
        self.assertEqual(sent.headers["authorization"], "Bearer secret-key")
        self.assertEqual(sent.headers["content-type"], "application/json")
        self.assertEqual(json.loads(sent.content)["prompt"], "p")

    def test_it_reports_a_validation_error_as_permanent(self) -> None:
        with client() as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p", watermark="x" * 51))
        error = caught.exception
        self.assertEqual((error.status, error.code, error.retryable), (400, "bad_request", False))
        self.assertIn("watermark", error.message)

    def test_it_reports_a_missing_key_as_permanent(self) -> None:
        with client(key="") as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        error = caught.exception
        self.assertEqual((error.status, error.code, error.retryable), (401, "invalid_token", False))
        self.assertEqual(error.message, "Missing or invalid API key")

    def test_it_reports_used_up_credits_as_permanent(self) -> None:
        with client() as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="please [sim:used_up]"))
        error = caught.exception
        self.assertEqual((error.status, error.code, error.retryable), (402, "insufficient_credits", False))

    def test_it_reads_the_status_from_code_even_when_http_says_200(self) -> None:
        transport = scripted(httpx.Response(200, json=envelope(402, "Insufficient credits")))
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        error = caught.exception
        self.assertEqual(
            (error.status, error.code, error.message), (402, "insufficient_credits", "Insufficient credits")
        )

    def test_it_trusts_the_http_status_when_code_still_says_200(self) -> None:
        transport = scripted(httpx.Response(503, json=envelope(200, "success", {"taskId": "t1"})))
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        self.assertEqual((caught.exception.status, caught.exception.retryable), (503, True))

    def test_it_maps_each_code_to_a_name_and_says_whether_to_retry(self) -> None:
        expected = {
            400: ("bad_request", False),
            401: ("invalid_token", False),
            402: ("insufficient_credits", False),
            404: ("not_found", False),
            408: ("error_408", True),
            422: ("unprocessable", False),
            429: ("too_many_requests", True),
            455: ("service_unavailable", True),
            500: ("api_error", True),
            501: ("not_implemented", False),
            502: ("error_502", True),
            503: ("error_503", True),
            504: ("error_504", True),
            505: ("version_not_supported", False),
            418: ("error_418", False),
        }
        for status, (name, retryable) in expected.items():
            with self.subTest(status=status):
                # Once in the body of an HTTP 200, once as the HTTP status itself.
                for answer in (
                    httpx.Response(200, json=envelope(status, "no")),
                    httpx.Response(status, json=envelope(status, "no")),
                ):
                    with client(scripted(answer)) as c, self.assertRaises(Sora2APIError) as caught:
                        c.generate(GenerateRequest(prompt="p"))
                    error = caught.exception
                    self.assertEqual((error.status, error.code, error.retryable), (status, name, retryable))

    def test_it_marks_rate_limits_retryable_and_honours_retry_after(self) -> None:
        transport = scripted(
            httpx.Response(429, json=envelope(429, "Too many requests"), headers={"Retry-After": "7"})
        )
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        error = caught.exception
        self.assertEqual(
            (error.status, error.code, error.retryable, error.retry_after),
            (429, "too_many_requests", True, 7.0),
        )

    def test_it_marks_a_server_error_without_a_json_body_retryable(self) -> None:
        transport = scripted(httpx.Response(500, text="<html>internal error</html>"))
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        error = caught.exception
        self.assertEqual((error.status, error.code, error.retryable), (500, "api_error", True))

    def test_it_marks_malformed_json_retryable(self) -> None:
        for call in ("generate", "record_info"):
            with self.subTest(call=call):
                transport = scripted(httpx.Response(200, text="{not json"))
                with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
                    if call == "generate":
                        c.generate(GenerateRequest(prompt="p"))
                    else:
                        c.record_info("t")
                self.assertTrue(caught.exception.retryable)

    def test_it_recovers_the_task_id_from_a_malformed_success_body(self) -> None:
        # Truncated mid-body: failing would make the caller retry and pay for a second video.
        transport = scripted(
            httpx.Response(200, text='{"code": 200, "msg": "success", "data": {"taskId": "sora2_task_9"')
        )
        with client(transport) as c:
            self.assertEqual(c.generate(GenerateRequest(prompt="p")).task_id, "sora2_task_9")

    def test_it_complains_about_a_success_without_a_task_id(self) -> None:
        transport = scripted(httpx.Response(200, json=envelope(200, "success", {})))
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        self.assertTrue(caught.exception.retryable)

    def test_it_says_a_refused_connection_never_reached_the_upstream(self) -> None:
        transport = scripted(httpx.ConnectError("refused"))
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        self.assertEqual((caught.exception.retryable, caught.exception.sent), (True, False))

    def test_it_says_a_connect_timeout_never_reached_the_upstream(self) -> None:
        transport = scripted(httpx.ConnectTimeout("slow to connect"))
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        self.assertEqual((caught.exception.retryable, caught.exception.sent), (True, False))

    def test_it_says_a_read_timeout_may_have_reached_the_upstream(self) -> None:
        transport = scripted(httpx.ReadTimeout("slow"))
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.generate(GenerateRequest(prompt="p"))
        self.assertEqual((caught.exception.retryable, caught.exception.sent), (True, True))

    def test_it_puts_a_time_limit_on_every_call(self) -> None:
        with client() as c:
            for http in (c._http, c._downloads):
                self.assertEqual(http.timeout.read, 5)
                self.assertLessEqual(http.timeout.connect or 0, 10)
        with Sora2APIClient(BASE, "k", timeout=60) as c:
            self.assertEqual((c._http.timeout.read, c._http.timeout.connect), (60, 10))


class RecordInfoTests(TestCase):
    def submit(self, prompt: str = "a dog", prefix: str = DOCUMENTED_PREFIX) -> str:
        with override_settings(SIMULATOR_SECONDS=100), client(prefix=prefix) as c:
            return c.generate(GenerateRequest(prompt=prompt)).task_id

    def finish(self, task_id: str) -> None:
        SimTask.objects.filter(pk=task_id).update(
            created_at=timezone.now() - timedelta(seconds=60),
            finishes_at=timezone.now() - timedelta(seconds=1),
        )

    def test_it_follows_a_task_to_its_video_on_both_prefixes(self) -> None:
        for prefix in PREFIXES:
            with self.subTest(prefix=prefix):
                task_id = self.submit(prefix=prefix)
                SimTask.objects.filter(pk=task_id).update(created_at=timezone.now() - timedelta(seconds=30))
                with client(prefix=prefix) as c:
                    running = c.record_info(task_id)
                    self.finish(task_id)
                    done = c.record_info(task_id)
                self.assertEqual(
                    (running.phase, running.success_flag, running.is_final), ("processing", 0, False)
                )
                self.assertEqual((done.phase, done.success_flag, done.is_final), ("succeeded", 1, True))
                self.assertEqual(done.task_id, task_id)
                self.assertIn("/simulator/sora2api/files/", done.video_url)
                self.assertIn("sig=", done.video_url)
                self.assertRegex(done.created_at, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
                self.assertTrue(done.completed_at)
                self.assertEqual(json.loads(done.raw["paramJson"])["prompt"], "a dog")

    def test_it_reads_a_refusal_that_generate_accepted(self) -> None:
        task_id = self.submit("a real person waving")
        self.finish(task_id)
        with client() as c:
            status = c.record_info(task_id)
        self.assertEqual((status.phase, status.success_flag, status.is_final), ("failed", 3, True))
        self.assertEqual(status.error_code, "content_policy_violation")  # its words say it was refused
        self.assertIn("real person", status.error_message)

    def test_it_reads_a_task_creation_failure(self) -> None:
        task_id = self.submit("a boat [sim:error]")
        self.finish(task_id)
        with client() as c:
            status = c.record_info(task_id)
        self.assertEqual((status.phase, status.success_flag), ("failed", 2))
        self.assertIn("creation failed", status.error_message)

    def test_it_reads_an_unknown_id_as_unknown(self) -> None:
        with client() as c:
            status = c.record_info("sora2_task_nope")
        self.assertEqual(
            (status.task_id, status.phase, status.is_final), ("sora2_task_nope", "unknown", False)
        )

    def test_it_reads_a_404_or_a_null_record_as_unknown(self) -> None:
        answers = {
            "HTTP 404": httpx.Response(404, json=envelope(404, "record not found")),
            "HTTP 404 without JSON": httpx.Response(404, text="not found"),
            "code 404": httpx.Response(200, json=envelope(404, "record not found")),
            "data null": httpx.Response(200, json=envelope(200, "success")),
            "data empty": httpx.Response(200, json=envelope(200, "success", {})),
        }
        for name, answer in answers.items():
            with self.subTest(name), client(scripted(answer)) as c:
                self.assertEqual(c.record_info("t1").phase, "unknown")

    def test_it_asks_with_the_task_id_as_a_query_parameter(self) -> None:
        transport = scripted(httpx.Response(200, json=envelope(200, "success", record(successFlag=0))))
        with client(transport, prefix=CLIENTS_PREFIX) as c:
            c.record_info("sora2_task_1")
        sent = transport.seen[0]  # type: ignore[attr-defined]
        self.assertEqual(sent.method, "GET")
        self.assertEqual(sent.url.path, "/simulator/sora2api/api/v1/sora2api/record-info")
        self.assertEqual(sent.url.params["taskId"], "sora2_task_1")

    def test_it_raises_for_other_errors(self) -> None:
        transport = scripted(httpx.Response(200, json=envelope(401, "Missing or invalid API key")))
        with client(transport) as c, self.assertRaises(Sora2APIError) as caught:
            c.record_info("t1")
        self.assertEqual((caught.exception.code, caught.exception.retryable), ("invalid_token", False))

    def test_it_downloads_the_video_with_range_support(self) -> None:
        task_id = self.submit()
        self.finish(task_id)
        with client() as c:
            url = c.record_info(task_id).video_url
            with c.download(url) as response:
                data = response.read()
            partial = c._downloads.get(url, headers={"Range": "bytes=0-9"})
        self.assertEqual(data[4:8], b"ftyp")
        self.assertEqual((partial.status_code, partial.content), (206, data[:10]))

    def test_it_reports_an_expired_link_and_gets_a_fresh_one(self) -> None:
        task_id = self.submit("sunset [sim:expired]")
        self.finish(task_id)
        with client() as c:
            first = c.record_info(task_id).video_url
            with self.assertRaises(Sora2APIError) as caught, c.download(first):
                pass
            with c.download(c.record_info(task_id).video_url) as response:
                self.assertEqual(response.status_code, 200)
        error = caught.exception
        self.assertEqual((error.status, error.code, error.retryable), (403, "link_expired", False))

    def test_it_never_sends_the_key_to_the_video_host(self) -> None:
        task_id = self.submit()
        self.finish(task_id)
        seen: list[httpx.Request] = []
        inner = simulator_transport()

        class Recording(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                seen.append(request)
                return inner.handle_request(request)

        with client(Recording()) as c:
            url = c.record_info(task_id).video_url
            with c.download(url) as response:
                response.read()
        api_call, video_call = seen
        self.assertEqual(api_call.headers["authorization"], f"Bearer {settings.SIMULATOR_API_KEY}")
        self.assertNotIn("authorization", video_call.headers)
        self.assertNotIn(b"secret-key", b"".join(v for _, v in video_call.headers.raw))

    def test_it_reports_a_failed_download_by_its_status(self) -> None:
        transport = scripted(httpx.Response(503, text="busy", headers={"Retry-After": "3"}))
        with (
            client(transport) as c,
            self.assertRaises(Sora2APIError) as caught,
            c.download("https://cdn.example/v.mp4"),
        ):
            pass
        error = caught.exception
        self.assertEqual((error.status, error.retryable, error.retry_after), (503, True, 3.0))


class ParseRecordTests(TestCase):
    def test_it_reads_flag_0_as_processing(self) -> None:
        status = parse_record(record(successFlag=0, response=None, completeTime=None))
        self.assertEqual((status.phase, status.is_final, status.completed_at), ("processing", False, ""))

    def test_it_reads_flag_1_with_the_link_in_image_url(self) -> None:
        status = parse_record(
            record(
                successFlag=1,
                errorCode=0,
                errorMessage=None,
                completeTime="2024-03-20 10:30:00",
                response={"imageUrl": "https://cdn.sora2api.ai/videos/v.mp4"},
            )
        )
        self.assertEqual(
            (status.phase, status.video_url, status.error_code, status.created_at, status.completed_at),
            (
                "succeeded",
                "https://cdn.sora2api.ai/videos/v.mp4",
                "",
                "2024-03-20 10:25:00",
                "2024-03-20 10:30:00",
            ),
        )

    def test_it_reads_flags_2_and_3_as_failed_with_their_reason(self) -> None:
        creation = parse_record(record(successFlag=2, errorCode=500, errorMessage="no capacity"))
        generation = parse_record(
            record(successFlag=3, errorCode="content_policy_violation", errorMessage="no")
        )
        self.assertEqual(
            (creation.phase, creation.error_code, creation.error_message), ("failed", "500", "no capacity")
        )
        self.assertEqual((generation.phase, generation.error_code), ("failed", "content_policy_violation"))

    def test_it_gives_a_failure_without_a_reason_a_plain_default(self) -> None:
        for flag in (2, 3):
            with self.subTest(flag=flag):
                status = parse_record(record(successFlag=flag, errorCode=None, errorMessage=None))
                self.assertEqual((status.phase, status.error_code), ("failed", "generation_failed"))
                self.assertTrue(status.error_message)

    def test_it_reads_an_unexpected_flag_as_a_final_failure(self) -> None:
        status = parse_record(record(successFlag=7))
        self.assertEqual((status.phase, status.is_final, status.success_flag), ("failed", True, 7))
        self.assertEqual(status.error_code, "generation_failed")
        self.assertIn("7", status.error_message)

    def test_it_accepts_a_flag_sent_as_text(self) -> None:
        status = parse_record(record(successFlag="1", response={"imageUrl": "https://cdn.example/v.mp4"}))
        self.assertEqual(status.phase, "succeeded")

    def test_it_keeps_polling_a_success_that_has_no_link_yet(self) -> None:
        self.assertEqual(parse_record(record(successFlag=1, response=None)).phase, "processing")

    def test_it_reads_the_older_callback_shape(self) -> None:
        body = {
            "code": 200,
            "msg": "success",
            "data": {
                "taskId": "sora2_task_1",
                "promptJson": "{}",
                "resultUrls": ["https://cdn.example/v.mp4"],
            },
        }
        status = parse_record(body)
        self.assertEqual(
            (status.task_id, status.phase, status.video_url),
            ("sora2_task_1", "succeeded", "https://cdn.example/v.mp4"),
        )
        self.assertIs(status.raw, body)

    def test_it_reads_result_urls_inside_the_response(self) -> None:
        status = parse_record(record(successFlag=1, response={"resultUrls": ["https://cdn.example/v.mp4"]}))
        self.assertEqual(status.video_url, "https://cdn.example/v.mp4")

    def test_it_reads_a_failed_callback_without_a_flag(self) -> None:
        status = parse_record({"code": 500, "msg": "generation failed", "data": {"taskId": "sora2_task_1"}})
        self.assertEqual((status.phase, status.error_message), ("failed", "generation failed"))

    def test_it_reads_a_current_callback_body(self) -> None:
        body = envelope(500, "refused", record(successFlag=3, errorCode=400, errorMessage="real person"))
        status = parse_record(body)
        self.assertEqual(
            (status.phase, status.error_code, status.error_message),
            ("failed", "content_policy_violation", "real person"),
        )

    def test_it_reads_an_empty_record_as_unknown(self) -> None:
        self.assertEqual(parse_record({}, "t1"), RecordInfo(task_id="t1", phase="unknown"))
        self.assertEqual(parse_record(envelope(404, "record not found"), "t1").phase, "unknown")
