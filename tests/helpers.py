"""Shared test plumbing, the one place test modules take fixtures from (no test module imports another): the
upstream clients talk to the studio's own simulator, in-process; the people, jobs, form posts and images the
tests make."""

from __future__ import annotations

import io
import json
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections, connection
from django.test import Client, TestCase
from django.test.client import ClientHandler
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from sorastudio.pipeline import providers, submit
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Membership, Team
from sorastudio.upstream import downloads


def django_wsgi_app() -> Any:
    """The studio as a WSGI app, through Django's test handler so that nested requests made while a test
    request is being served keep the test's database transaction open."""
    handler = ClientHandler(enforce_csrf_checks=True)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        response = handler(environ)
        headers = list(response.items())
        for cookie in response.cookies.values():
            headers.append(("Set-Cookie", cookie.output(header="")))
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        if getattr(response, "streaming", False):
            return response.streaming_content  # type: ignore[attr-defined]
        return [response.content]  # type: ignore[attr-defined]

    return app


# The clients' download guard in client tests: the in-process simulator is allowed (as the studio allows its
# own), and any other name "resolves" to a public address, so scripted CDN answers are reached (pinned to it).
TEST_DOWNLOADS = downloads.Limits(
    allowed=frozenset({"testserver:80"}), resolver=lambda host, port: ["93.184.215.14"]
)


def simulator_transport() -> httpx.BaseTransport:
    return httpx.WSGITransport(app=django_wsgi_app())


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
    """An AceDataCloud error answer."""
    return {"success": False, "error": {"code": code, "message": message}, "trace_id": "trace-1"}


def scripted(*responses: httpx.Response | Exception) -> httpx.MockTransport:
    """A transport that answers with the given responses in order, recording the requests."""
    queue = list(responses)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = httpx.MockTransport(handler)
    transport.seen = seen  # type: ignore[attr-defined]
    return transport


@contextmanager
def upstream(transport: httpx.BaseTransport) -> Iterator[httpx.BaseTransport]:
    previous = providers.transport_override
    providers.transport_override = transport
    try:
        yield transport
    finally:
        providers.transport_override = previous


SIMULATOR_AUTH = {"Authorization": f"Bearer {settings.SIMULATOR_API_KEY}"}


class SimulatorTestCase(TestCase):
    """Requests to the simulator as a client of the API sends them: JSON, with the simulator's key."""

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            headers=SIMULATOR_AUTH if headers is None else headers,
        )

    def assert_serves_an_mp4_with_ranges(self, url: str) -> bytes:
        """The whole file behind a result link, checked to be an MP4 that also answers a range."""
        whole = read_body(self.client.get(url))
        self.assertEqual(whole[4:8], b"ftyp")
        part = self.client.get(url, headers={"Range": "bytes=0-15"})
        self.assertEqual((part.status_code, read_body(part)), (206, whole[:16]))
        return whole

    def assert_refuses_tampered_or_expired(self, url: str) -> None:
        tampered = self.client.get(url.replace("sig=", "sig=f"))
        self.assertEqual(tampered.status_code, 403)
        self.assertIn(b"AuthenticationFailed", tampered.content)
        expired = self.client.get(url.split("?")[0] + "?se=1&sig=abc")
        self.assertEqual(expired.status_code, 403)


def read_body(response: Any) -> bytes:
    """The whole body of a test-client response, streamed or not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def make_member(username: str, team: Team, role: str = Membership.Role.CREATOR) -> Any:
    user = get_user_model().objects.create_user(username, password=f"{username}-pass-123")
    Membership.objects.create(team=team, user=user, role=role)
    return user


# A 10-second Sora 2 job on AceDataCloud 1.0, as the form asks for it: 10 credits at the default price.
JOB: dict[str, Any] = {
    "model": "sora-2",
    "version": "1.0",
    "duration": 10,
    "size": "small",
    "orientation": "landscape",
}


def make_job(team: Team, user: Any, prompt: str = "a paper boat in the rain", **params: Any) -> Generation:
    """A queued job on the simulator, made as the form makes it; `params` override JOB's."""
    return submit.create_job(team=team, user=user, simulated=True, prompt=prompt, **{**JOB, **params})


# JOB as the generate form posts it, and a version 2.0 job the same way.
VALID: dict[str, str] = {
    "prompt": "A paper boat in the rain",
    "model": "sora-2",
    "version": "1.0",
    "duration": "10",
    "size": "small",
    "orientation": "landscape",
}
V2: dict[str, str] = {**VALID, "version": "2.0", "duration": "4", "size": "1280x720", "orientation": ""}
# VALID with its provider named, as the form posts it once a second provider is offered.
ACEDATA_FORM: dict[str, str] = {"provider": "acedata", **VALID}


def make_row(team: Team, user: Any, prompt: str = "A paper boat", **fields: Any) -> Generation:
    """A video row made straight in the database (no pipeline, no files): a ten-second Sora 2 video, small,
    in whatever state `fields` give it."""
    return Generation.objects.create(
        team=team,
        created_by=user,
        prompt=prompt,
        **{"model": "sora-2", "duration": 10, "size": "small", **fields},
    )


def make_finished(team: Team, user: Any, prompt: str = "A paper boat", **fields: Any) -> Generation:
    """A finished ten-second video made without the pipeline: a few bytes stand for the files, which
    pages link to but do not read."""
    video = make_row(
        team,
        user,
        prompt,
        state=State.SUCCEEDED,
        finished_at=timezone.now(),
        video_duration=10.0,
        sha256="0" * 64,
        **fields,
    )
    video.video.save("v.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42 not a real video"), save=False)
    video.poster.save("p.jpg", ContentFile(b"\xff\xd8\xff fake jpeg"), save=False)
    video.size_bytes = video.video.size
    video.save()
    return video


def make_people(on: Any) -> None:
    """Sets TeamTestCase's teams and people on `on`: a test case class, or a test case making them anew in
    each setUp."""
    on.studio = Team.objects.create(name="Studio")
    on.agency = Team.objects.create(name="Agency")
    on.alice = make_member("alice", on.studio, Membership.Role.CREATOR)
    on.bob = make_member("bob", on.studio, Membership.Role.REVIEWER)
    on.dana = make_member("dana", on.studio, Membership.Role.ADMIN)
    on.carol = make_member("carol", on.agency, Membership.Role.ADMIN)


class TeamTestCase(TestCase):
    """The people the tests talk about: team Studio with alice (creator), bob (reviewer) and dana (admin),
    and team Agency with carol (admin), an outsider to everything of Studio's."""

    studio: ClassVar[Team]
    agency: ClassVar[Team]
    alice: ClassVar[Any]
    bob: ClassVar[Any]
    dana: ClassVar[Any]
    carol: ClassVar[Any]

    @classmethod
    def setUpTestData(cls) -> None:
        make_people(cls)

    def as_(self, user: Any) -> Client:
        """A client of its own, logged in as `user`, beside the test's own self.client."""
        client = Client()
        client.force_login(user)
        return client


def all_at_once(
    submits: list[Callable[[], Any]], refusal: type[BaseException]
) -> tuple[int, int, list[BaseException]]:
    """Runs each callable in its own thread, every thread released by the same barrier; counts those that
    went through and those refused with `refusal`, and returns any other failure for the test to report."""
    barrier = threading.Barrier(len(submits))
    made, refused, errors = [], [], []

    def run(submit: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            submit()
            made.append(submit)
        except refusal:
            refused.append(submit)
        except BaseException as exc:  # reported by the caller: any other failure fails the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(submit,)) for submit in submits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return len(made), len(refused), errors


INDEX = reverse("studio:index")


class GalleryTestCase(TeamTestCase):
    """TeamTestCase with alice logged in and video rows made straight in the database."""

    now: ClassVar[datetime]

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.now = timezone.now()

    def setUp(self) -> None:
        self.client.force_login(self.alice)

    def make(
        self, prompt: str = "A paper boat", *, by: Any = None, ago: timedelta = timedelta(), **fields: Any
    ) -> Generation:
        """A video row as the pipeline leaves it, without files: the gallery links to them but never reads
        them. Finished unless told otherwise."""
        fields.setdefault("state", State.SUCCEEDED)
        if fields["state"] == State.SUCCEEDED:
            fields.setdefault("video", "videos/v.mp4")
            fields.setdefault("poster", "posters/p.jpg")
        fields.setdefault("created_at", self.now - ago)
        return make_row(fields.pop("team", self.studio), by or self.alice, prompt, **fields)


# --- Images -----------------------------------------------------------------------------------------------

RED = (220, 30, 30)
GREEN = (30, 200, 30)
BLUE = (30, 30, 220)
BLACK = (0, 0, 0)


def png_bytes(width: int = 64, height: int = 36) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def banded(width: int = 400, height: int = 300, band: int = 30) -> Image.Image:
    """Red, with green bands along the top and bottom edges, green along the left and right edges, and a blue
    square in the middle: what a fit keeps and what it cuts is easy to see."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(GREEN, (0, 0, width, band))
    image.paste(GREEN, (0, height - band, width, height))
    image.paste(GREEN, (0, 0, band, height))
    image.paste(GREEN, (width - band, 0, width, height))
    image.paste(BLUE, (width // 2 - 20, height // 2 - 20, width // 2 + 20, height // 2 + 20))
    return image


def encoded(image: Image.Image, kind: str = "PNG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG whose header claims width x height pixels, without the pixels (tiny to send)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


# --- The deployment ---------------------------------------------------------------------------------------

ROOT = Path(settings.BASE_DIR)
# Variables the studio reads: settings.py through its env_* helpers, gunicorn.conf.py through os.environ.
STUDIO_VARS = {
    *re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', (ROOT / "sorastudio" / "settings.py").read_text()),
    *re.findall(r"os\.environ\.get\(\s*[\"']([A-Z0-9_]+)[\"']", (ROOT / "gunicorn.conf.py").read_text()),
}
