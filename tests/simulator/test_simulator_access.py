"""The simulator serves only the studio: its own key on every API call, a few short holds of a web thread at
most, and a bounded number of renders, so an anonymous caller cannot start renders or use up the server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.test import TestCase, override_settings
from django.utils import timezone

from sorastudio.simulator import slots
from sorastudio.simulator import sora2api as sora2api_simulator
from sorastudio.simulator import views as acedata_simulator
from sorastudio.simulator.models import SimTask
from sorastudio.upstream.acedata import AceDataClient, AceDataError
from tests.helpers import TEST_DOWNLOADS, read_body, simulator_transport

ACEDATA = "/simulator/acedata/sora"
SORA2API = "/simulator/sora2api/api/v1"
KEY = {"Authorization": f"Bearer {settings.SIMULATOR_API_KEY}"}
STRANGERS: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer anything"},
    {"Authorization": f"Bearer {settings.SIMULATOR_API_KEY}x"},
    {"Authorization": f"Bearer {settings.SIMULATOR_API_KEY[:-1]}"},
    {"Authorization": f"Basic {settings.SIMULATOR_API_KEY}"},
]
VIDEO = {"model": "sora-2", "prompt": "a fox in the snow"}


@contextmanager
def taken(slot: Any, count: int) -> Iterator[None]:
    """`count` of the simulator's slots held, as by requests in flight on other threads."""
    with ExitStack() as stack:
        for _ in range(count):
            stack.enter_context(slot())
        yield


class AccessTestCase(TestCase):
    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        return self.client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


class KeyTests(AccessTestCase):
    def test_it_refuses_a_submit_without_its_key(self) -> None:
        for headers in STRANGERS:
            with self.subTest(api="acedata", headers=headers):
                response = self.post(f"{ACEDATA}/videos", {**VIDEO, "async": True}, headers)
                self.assertIn(response.status_code, (400, 401))  # the vendor's 400 no_token, or 401
                self.assertIs(response.json()["success"], False)
                self.assertIn(response.json()["error"]["code"], ("no_token", "invalid_token"))
            for prefix in ("sora2", "sora2api"):
                with self.subTest(api=prefix, headers=headers):
                    response = self.post(f"{SORA2API}/{prefix}/generate", {"prompt": "p"}, headers)
                    self.assertEqual(response.status_code, 401)
                    self.assertEqual(
                        response.json(), {"code": 401, "msg": "Missing or invalid API key", "data": None}
                    )
        self.assertEqual(SimTask.objects.count(), 0)

    def test_it_refuses_a_blocking_submit_without_its_key_and_holds_nothing(self) -> None:
        with mock.patch.object(time, "sleep") as sleep:
            response = self.post(f"{ACEDATA}/videos", VIDEO, {"Authorization": "Bearer anything"})
        self.assertEqual(response.status_code, 401)
        sleep.assert_not_called()

    def test_it_refuses_a_poll_without_its_key(self) -> None:
        task_id = self.post(f"{ACEDATA}/videos", {**VIDEO, "async": True}, KEY).json()["task_id"]
        sora_id = self.post(f"{SORA2API}/sora2/generate", {"prompt": "p"}, KEY).json()["data"]["taskId"]
        for headers in STRANGERS:
            with self.subTest(api="acedata", headers=headers):
                response = self.post(f"{ACEDATA}/tasks", {"id": task_id, "action": "retrieve"}, headers)
                self.assertIn(response.status_code, (400, 401))
                self.assertNotIn(task_id, response.content.decode())
            for prefix in ("sora2", "sora2api"):
                with self.subTest(api=prefix, headers=headers):
                    response = self.client.get(
                        f"{SORA2API}/{prefix}/record-info", {"taskId": sora_id}, headers=headers
                    )
                    self.assertEqual((response.status_code, response.json()["code"]), (401, 401))

    def test_the_studio_own_key_is_answered(self) -> None:
        self.assertEqual(self.post(f"{ACEDATA}/videos", {**VIDEO, "async": True}, KEY).status_code, 200)
        self.assertEqual(self.post(f"{SORA2API}/sora2api/generate", {"prompt": "p"}, KEY).status_code, 200)

    def test_the_key_is_made_per_installation_from_the_secret_key(self) -> None:
        derived = hmac.new(settings.SECRET_KEY.encode(), b"sorastudio simulator api key", hashlib.sha256)
        self.assertEqual(settings.SIMULATOR_API_KEY, derived.hexdigest())
        self.assertNotIn(settings.SECRET_KEY, settings.SIMULATOR_API_KEY)

    @override_settings(SIMULATOR_API_KEY="an-operator-chosen-key")
    def test_a_configured_key_replaces_the_derived_one(self) -> None:
        ours = {"Authorization": "Bearer an-operator-chosen-key"}
        self.assertEqual(self.post(f"{ACEDATA}/videos", {**VIDEO, "async": True}, ours).status_code, 200)
        self.assertEqual(self.post(f"{ACEDATA}/videos", {**VIDEO, "async": True}, KEY).status_code, 401)


@override_settings(SIMULATOR_SECONDS=0)
class FileTests(AccessTestCase):
    """Files need no key (the archive's download never carries one) but a signed link, which only a poll
    with the key hands out: an anonymous caller cannot make the simulator render."""

    def finished(self) -> tuple[str, str]:
        task_id = self.post(f"{ACEDATA}/videos", {**VIDEO, "async": True}, KEY).json()["task_id"]
        record = self.post(f"{ACEDATA}/tasks", {"id": task_id, "action": "retrieve"}, KEY).json()
        return task_id, str(record["response"]["data"][0]["video_url"])

    def test_an_unsigned_file_request_is_refused_without_rendering(self) -> None:
        task_id, _link = self.finished()
        for query in ("", "?se=9999999999&sp=r&sig=forged"):
            with self.subTest(query=query):
                response = self.client.get(f"/simulator/acedata/files/{task_id}.mp4{query}")
                self.assertEqual(response.status_code, 403)
        self.assertFalse((Path(settings.DATA_DIR) / "simulator" / f"{task_id}.mp4").exists())

    def test_a_signed_link_downloads_without_a_key(self) -> None:
        _task_id, link = self.finished()
        response = self.client.get(link.removeprefix("http://testserver"))
        self.assertEqual(response.status_code, 200)
        self.assertTrue(read_body(response))


class HoldTests(AccessTestCase):
    @override_settings(SIMULATOR_MAX_HOLDS=2, SIMULATOR_SECONDS=600)
    def test_a_blocking_submit_beyond_the_holds_answers_at_once(self) -> None:
        with taken(slots.holding, 2), mock.patch.object(time, "sleep") as sleep:
            response = self.post(f"{ACEDATA}/videos", VIDEO, KEY)
        sleep.assert_not_called()
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(set(body), {"task_id", "trace_id"})  # the async answer: poll for the rest
        self.assertTrue(SimTask.objects.filter(pk=body["task_id"]).exists())

    @override_settings(SIMULATOR_MAX_HOLDS=1, SIMULATOR_SECONDS=600, SIMULATOR_HOLD_SECONDS=7)
    def test_a_blocking_submit_holds_one_slot_for_a_hold_at_most(self) -> None:
        during: list[float | None] = []

        def sleep(seconds: float) -> None:
            during.append(seconds)
            with slots.holding() as left:  # another request meanwhile: no slot for it
                during.append(left)

        with mock.patch.object(time, "sleep", side_effect=sleep):
            body = self.post(f"{ACEDATA}/videos", VIDEO, KEY).json()
        self.assertEqual(during, [7, None])
        self.assertEqual(set(body), {"task_id", "trace_id"})  # not finished within the hold
        with slots.holding() as left:  # given back afterwards
            self.assertEqual(left, 7)

    @override_settings(SIMULATOR_MAX_HOLDS=1, SIMULATOR_SECONDS=600)
    def test_a_stream_beyond_the_holds_ends_at_once(self) -> None:
        headers = {**KEY, "Accept": "application/x-ndjson"}
        with taken(slots.holding, 1), mock.patch.object(time, "sleep") as sleep:
            lines = read_body(self.post(f"{ACEDATA}/videos", VIDEO, headers)).decode().splitlines()
        sleep.assert_not_called()
        self.assertEqual([json.loads(line)["data"][0]["state"] for line in lines], ["pending"])

    @override_settings(SIMULATOR_MAX_HOLDS=1)
    def test_a_timeout_marker_beyond_the_holds_answers_at_once_and_stays_uncertain(self) -> None:
        with taken(slots.holding, 1), mock.patch.object(time, "sleep") as sleep:
            acedata = self.post(
                f"{ACEDATA}/videos", {**VIDEO, "prompt": "x [sim:timeout]", "async": True}, KEY
            )
            sora2 = self.post(f"{SORA2API}/sora2/generate", {"prompt": "x [sim:timeout]"}, KEY)
        sleep.assert_not_called()
        for response in (acedata, sora2):
            self.assertEqual(response.status_code, 200)
            with self.assertRaises(json.JSONDecodeError):  # made, but the answer does not say so
                json.loads(response.content)
        self.assertEqual(SimTask.objects.count(), 2)

    @override_settings(SIMULATOR_MAX_HOLDS=1, SIMULATOR_FAULTS={"timeout": 1.0})
    def test_a_timeout_fault_beyond_the_holds_answers_normally(self) -> None:
        with taken(slots.holding, 1), mock.patch.object(time, "sleep") as sleep:
            response = self.post(f"{ACEDATA}/tasks", {"id": "nope", "action": "retrieve"}, KEY)
        sleep.assert_not_called()
        self.assertEqual((response.status_code, response.json()), (200, {}))


@override_settings(SIMULATOR_SECONDS=0, SIMULATOR_MAX_RENDERS=1, SIMULATOR_MAX_HOLDS=1)
class RenderTests(AccessTestCase):
    def links(self) -> list[str]:
        acedata = self.post(f"{ACEDATA}/videos", {**VIDEO, "async": True}, KEY).json()["task_id"]
        sora2 = self.post(f"{SORA2API}/sora2/generate", {"prompt": "a kite"}, KEY).json()["data"]["taskId"]
        SimTask.objects.update(finishes_at=timezone.now() - timedelta(seconds=1))
        record = self.post(f"{ACEDATA}/tasks", {"id": acedata, "action": "retrieve"}, KEY).json()
        info = self.client.get(f"{SORA2API}/sora2/record-info", {"taskId": sora2}, headers=KEY).json()
        return [record["response"]["data"][0]["video_url"], info["data"]["response"]["imageUrl"]]

    def test_a_render_beyond_the_cap_is_told_to_come_back(self) -> None:
        links = self.links()
        with taken(slots.render_slot, 1), taken(slots.holding, 1):
            for link in links:
                with self.subTest(link=link):
                    response = self.client.get(link.removeprefix("http://testserver"))
                    self.assertEqual((response.status_code, response["Retry-After"]), (503, "2"))
        self.assertEqual(list((Path(settings.DATA_DIR) / "simulator").glob("*.mp4")), [])
        for link in links:  # and once a slot is free, the same link works
            self.assertEqual(self.client.get(link.removeprefix("http://testserver")).status_code, 200)

    @override_settings(SIMULATOR_HOLD_SECONDS=0)
    def test_the_studio_client_takes_the_busy_answer_as_transient(self) -> None:
        link = self.links()[0]
        client = AceDataClient(
            "http://testserver/simulator/acedata",
            settings.SIMULATOR_API_KEY,
            transport=simulator_transport(),
            download_limits=TEST_DOWNLOADS,
        )
        with (
            taken(slots.render_slot, 1),
            client,
            self.assertRaises(AceDataError) as caught,
            client.download(link),
        ):
            pass
        self.assertEqual((caught.exception.status, caught.exception.retryable), (503, True))
        self.assertEqual(caught.exception.retry_after, 2.0)

    def test_renders_of_both_apis_take_a_slot(self) -> None:
        seen: list[bool] = []

        def render(*args: Any, **kwargs: Any) -> None:
            with slots.holding() as left, self.assertRaises(slots.Busy):
                seen.append(left is not None)
                with slots.render_slot():
                    pass
            Path(args[0]).write_bytes(b"rendered")

        with (
            mock.patch.object(acedata_simulator, "render_video", side_effect=render),
            mock.patch.object(sora2api_simulator, "render_video", side_effect=render),
            override_settings(SIMULATOR_HOLD_SECONDS=0),
        ):
            for link in self.links():
                self.assertEqual(self.client.get(link.removeprefix("http://testserver")).status_code, 200)
        self.assertEqual(seen, [True, True])
