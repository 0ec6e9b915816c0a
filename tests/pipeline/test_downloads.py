"""The finished video's download: only public addresses (the studio's own simulator excepted), redirects
followed by hand and each one checked, the address pinned, and the size and total time capped. Real HTTP
servers on loopback stand for a CDN that points somewhere it should not."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import httpx
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from sorastudio.billing.models import LedgerEntry
from sorastudio.pipeline import providers, tasks
from sorastudio.studio import presenters
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from sorastudio.upstream import downloads
from sorastudio.upstream.acedata import AceDataClient
from sorastudio.upstream.errors import UpstreamError
from sorastudio.upstream.sora2api import Sora2APIClient
from tests.helpers import make_job, make_member

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    answer: Handler
    hits: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # a body without Content-Length ends when the connection closes
    server: _Server

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        self.server.answer(self)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serving(answer: Handler) -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.answer = answer
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url_of(server: _Server, path: str = "/v.mp4") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def origin_of(server: _Server) -> str:
    return f"127.0.0.1:{server.server_address[1]}"


def video(handler: http.server.BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "video/mp4")
    handler.send_header("Content-Length", "4")
    handler.end_headers()
    handler.wfile.write(b"\x00\x00\x00\x18")


def redirect_to(target: str) -> Handler:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", target)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def announcing(size: int) -> Handler:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        handler.wfile.write(b"x" * min(size, 1024))

    return answer


def growing(chunks: int, size: int = 1024, pause: float = 0.0) -> Handler:
    """A body without Content-Length, written a chunk at a time (until the client hangs up)."""

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        try:
            for _ in range(chunks):
                handler.wfile.write(b"x" * size)
                handler.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass

    return answer


CLIENTS: dict[str, Callable[[downloads.Limits], AceDataClient | Sora2APIClient]] = {
    "acedata": lambda limits: AceDataClient("http://127.0.0.1:9", "key", timeout=5, download_limits=limits),
    "sora2api": lambda limits: Sora2APIClient("http://127.0.0.1:9", "key", timeout=5, download_limits=limits),
}


class GuardTestCase(TestCase):
    def fetch(self, name: str, url: str, limits: downloads.Limits) -> bytes:
        with CLIENTS[name](limits) as client, client.download(url) as response:
            return b"".join(response.iter_bytes())

    def refusal(self, name: str, url: str, limits: downloads.Limits) -> UpstreamError:
        with self.assertRaises(UpstreamError) as caught:
            self.fetch(name, url, limits)
        self.assertFalse(caught.exception.retryable)
        return caught.exception


class AddressTests(GuardTestCase):
    def test_it_refuses_a_redirect_to_loopback(self) -> None:
        with serving(video) as inside:
            for target in (url_of(inside), f"http://localhost:{inside.server_address[1]}/v.mp4"):
                with serving(redirect_to(target)) as cdn:
                    for name in CLIENTS:
                        with self.subTest(client=name, target=target):
                            limits = downloads.Limits(allowed=frozenset({origin_of(cdn)}))
                            error = self.refusal(name, url_of(cdn), limits)
                            self.assertEqual(error.code, "download_refused")
            self.assertEqual(inside.hits, [])

    def test_it_refuses_a_redirect_to_the_metadata_address(self) -> None:
        with serving(redirect_to("http://169.254.169.254/latest/meta-data/")) as cdn:
            limits = downloads.Limits(allowed=frozenset({origin_of(cdn)}))
            self.assertEqual(self.refusal("acedata", url_of(cdn), limits).code, "download_refused")

    def test_it_refuses_a_loopback_server_that_is_not_the_simulator(self) -> None:
        with serving(video) as inside:
            for name in CLIENTS:
                with self.subTest(client=name):
                    error = self.refusal(name, url_of(inside), downloads.Limits())
                    self.assertEqual(error.code, "download_refused")
            self.assertEqual(inside.hits, [])

    def test_it_refuses_private_and_local_address_literals(self) -> None:
        hosts = [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "127.0.0.1",
            "0.0.0.0",  # noqa: S104 (an address refused, not one bound to)
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "[::1]",
            "[::]",
            "[fe80::1]",
            "[fc00::1]",
            "[ff02::1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:10.0.0.1]",
        ]
        for host in hosts:
            for name in CLIENTS:
                with self.subTest(host=host, client=name):
                    error = self.refusal(name, f"http://{host}:8080/v.mp4", downloads.Limits())
                    self.assertEqual(error.code, "download_refused")

    def test_it_refuses_a_name_that_also_resolves_inside(self) -> None:
        limits = downloads.Limits(resolver=lambda host, port: ["93.184.215.14", "10.1.2.3"])
        error = self.refusal("sora2api", "https://cdn.example/v.mp4", limits)
        self.assertEqual(error.code, "download_refused")

    def test_it_refuses_what_is_not_http(self) -> None:
        error = self.refusal("acedata", "file:///etc/passwd", downloads.Limits())
        self.assertEqual(error.code, "download_refused")

    def test_it_follows_a_redirect_within_the_allowed_origin(self) -> None:
        def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
            (video if handler.path == "/final.mp4" else redirect_to("/final.mp4"))(handler)

        with serving(answer) as simulator:
            limits = downloads.Limits(allowed=frozenset({origin_of(simulator)}))
            self.assertEqual(self.fetch("acedata", url_of(simulator), limits), b"\x00\x00\x00\x18")
            self.assertEqual(simulator.hits, ["/v.mp4", "/final.mp4"])

    def test_it_stops_after_a_few_redirects(self) -> None:
        with serving(redirect_to("/again")) as simulator:
            limits = downloads.Limits(allowed=frozenset({origin_of(simulator)}), max_redirects=3)
            self.assertEqual(self.refusal("sora2api", url_of(simulator), limits).code, "download_refused")
            self.assertEqual(len(simulator.hits), 4)


class PinningTests(GuardTestCase):
    def test_it_connects_to_the_address_it_checked_and_keeps_the_name(self) -> None:
        answers = iter(["93.184.215.14", "127.0.0.1"])  # a rebinding resolver: public first, then loopback
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, content=b"video")

        limits = downloads.Limits(resolver=lambda host, port: [next(answers)])
        client = AceDataClient(
            "http://127.0.0.1:9", "key", transport=httpx.MockTransport(handler), download_limits=limits
        )
        with client, client.download("https://cdn.example:8443/v.mp4?sig=1") as response:
            self.assertEqual(response.read(), b"video")
        (request,) = seen
        self.assertEqual((request.url.host, request.url.port), ("93.184.215.14", 8443))
        self.assertEqual(request.headers["host"], "cdn.example:8443")
        self.assertEqual(request.extensions["sni_hostname"], "cdn.example")


class SizeAndTimeTests(GuardTestCase):
    def test_it_refuses_a_content_length_over_the_cap_before_reading(self) -> None:
        with serving(announcing(10_000)) as simulator:
            for name in CLIENTS:
                with self.subTest(client=name):
                    limits = downloads.Limits(max_bytes=5000, allowed=frozenset({origin_of(simulator)}))
                    self.assertEqual(self.refusal(name, url_of(simulator), limits).code, "download_too_large")

    def test_it_stops_a_body_that_grows_past_the_cap(self) -> None:
        with serving(growing(chunks=50)) as simulator:
            for name in CLIENTS:
                with self.subTest(client=name):
                    limits = downloads.Limits(max_bytes=8 * 1024, allowed=frozenset({origin_of(simulator)}))
                    self.assertEqual(self.refusal(name, url_of(simulator), limits).code, "download_too_large")

    def test_it_stops_a_body_that_trickles_past_the_deadline(self) -> None:
        with serving(growing(chunks=400, size=16, pause=0.05)) as simulator:
            for name in CLIENTS:
                with self.subTest(client=name):
                    limits = downloads.Limits(timeout=0.3, allowed=frozenset({origin_of(simulator)}))
                    self.assertEqual(self.refusal(name, url_of(simulator), limits).code, "download_too_slow")


class ArchiveTests(TestCase):
    def setUp(self) -> None:
        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)

    def archiving(self, video_url: str) -> Generation:
        """A simulated job whose video is made and whose link points at `video_url`."""
        generation = make_job(self.team, self.alice)
        Generation.objects.filter(pk=generation.pk).update(
            state=State.ARCHIVING,
            upstream_task_id="task-1",
            upstream_finished_at=timezone.now(),
            video_url=video_url,
        )
        return generation

    def test_the_simulator_path_still_archives(self) -> None:
        generation = make_job(self.team, self.alice)
        tasks.start(generation)  # SIMULATOR_SECONDS is 0 in tests: made and archived at once
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED)
        self.assertTrue(generation.video.name)

    def test_a_refused_link_fails_the_job_plainly(self) -> None:
        with serving(video) as inside:
            generation = self.archiving(url_of(inside))
            tasks.archive(str(generation.pk))
            self.assertEqual(inside.hits, [])
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, "download_refused"))
        self.assertEqual(generation.attempts, 1)  # permanent: not downloaded again
        self.client.force_login(self.alice)
        for page in (
            self.client.get(reverse("studio:generation", args=[generation.pk])),
            self.client.get(reverse("studio:index")),  # the card in the gallery
        ):
            self.assertContains(page, "pointed somewhere the studio does not download from")
            self.assertNotContains(page, "127.0.0.1")

    def test_a_refused_download_settles_the_job_like_any_failed_archive(self) -> None:
        with serving(video) as inside:
            refused = self.archiving(url_of(inside))
            tasks.archive(str(refused.pk))
        failed = self.archiving("http://testserver/simulator/acedata/files/missing.mp4")
        with self.settings(ARCHIVE_MAX_ATTEMPTS=1):
            tasks.archive(str(failed.pk))
        refused.refresh_from_db()
        failed.refresh_from_db()
        self.assertEqual(failed.state, State.FAILED)
        settled = [
            list(LedgerEntry.objects.filter(generation=job).values_list("kind", "credits").order_by("pk"))
            for job in (refused, failed)
        ]
        self.assertEqual(settled[0], settled[1])
        self.assertIn(LedgerEntry.Kind.CHARGE, [kind for kind, _credits in settled[0]])  # made: charged

    def test_a_video_over_the_size_cap_fails_with_its_own_message(self) -> None:
        generation = make_job(self.team, self.alice)
        small = downloads.Limits(max_bytes=16, allowed=frozenset({"testserver:80"}))
        with mock.patch.object(providers, "download_limits", return_value=small):
            tasks.start(generation)
        generation.refresh_from_db()
        self.assertEqual((generation.state, generation.error_code), (State.FAILED, "download_too_large"))
        self.assertIn("larger than the studio accepts", presenters.explanation(generation))

    @override_settings(DOWNLOAD_MAX_MB=3, DOWNLOAD_TIMEOUT=7.5, SIMULATOR_BASE_URL="http://sim.local:8000")
    def test_the_settings_reach_the_guard_and_only_simulated_jobs_may_use_the_simulator(self) -> None:
        simulated, real = providers.download_limits(True), providers.download_limits(False)
        self.assertEqual((simulated.max_bytes, simulated.timeout), (3 * 1024 * 1024, 7.5))
        self.assertEqual((simulated.allowed, real.allowed), (frozenset({"sim.local:8000"}), frozenset()))
