"""Shared test plumbing: the upstream clients talk to the studio's own simulator, in-process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import close_old_connections, connection
from django.test import TestCase
from django.test.client import ClientHandler
from django.utils import timezone

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


@contextmanager
def upstream(transport: httpx.BaseTransport) -> Iterator[httpx.BaseTransport]:
    previous = providers.transport_override
    providers.transport_override = transport
    try:
        yield transport
    finally:
        providers.transport_override = previous


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


def make_finished(team: Team, user: Any, prompt: str = "A paper boat", **fields: Any) -> Generation:
    """A finished ten-second video made without the pipeline: a few bytes stand for the files, which
    pages link to but do not read."""
    video = Generation.objects.create(
        team=team,
        created_by=user,
        prompt=prompt,
        model="sora-2",
        duration=10,
        size="small",
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
        cls.studio = Team.objects.create(name="Studio")
        cls.agency = Team.objects.create(name="Agency")
        cls.alice = make_member("alice", cls.studio, Membership.Role.CREATOR)
        cls.bob = make_member("bob", cls.studio, Membership.Role.REVIEWER)
        cls.dana = make_member("dana", cls.studio, Membership.Role.ADMIN)
        cls.carol = make_member("carol", cls.agency, Membership.Role.ADMIN)


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
