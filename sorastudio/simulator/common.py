"""What every simulated provider shares: its key, the prompt markers that decide how a task ends and how
long it takes, the bounds on what it may cost the web server, signed, expiring links to its rendered videos
(a blob-storage-like `?se=<expiry>&sp=r&sig=<hmac>` query) and serving the file behind such a link with
range support. Each API keeps only its wire format: its bodies, codes and record shapes.

The simulator is served by the studio's own web server, so an anonymous caller must not be able to use it
up: its APIs answer only the bearer SIMULATOR_API_KEY (which the studio's own clients send), a request
that would hold a web thread (the blocking and streaming answers, the time-out faults) holds one only while
fewer than SIMULATOR_MAX_HOLDS do and for SIMULATOR_HOLD_SECONDS at most, and at most SIMULATOR_MAX_RENDERS
videos are encoded at once. The limits are threading semaphores, so they hold across the threads of one
process; each web process has its own.

A link is signed over the task id and its expiry with a key derived from SECRET_KEY, so any web process can
check it without shared state, and an expired or tampered link gets the storage-style 403 XML a real CDN
sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone

from sorastudio.lib.ranged import ranged_response

from . import faults
from .models import SimTask
from .slots import Busy

LINK_LIFETIME = timedelta(days=6)


def bearer_matches(header: str) -> bool:
    """Whether an Authorization header is "Bearer <the simulator's key>", compared in constant time."""
    scheme, _, token = header.partition(" ")
    key = settings.SIMULATOR_API_KEY.encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key)


# How a prompt's markers make a task end, the same for both APIs; each words the ending in its own codes.
Ending = Literal["succeeded", "refused", "refused_generically", "error"]


def ending_for(prompt: str) -> Ending:
    """ "real person" or "celebrity": a refusal; "[sim:refused]": a refusal under the API's generic error
    code, which only its message tells apart from an internal error; "[sim:error]": an internal error."""
    text = prompt.lower()
    if "real person" in text or "celebrity" in text:
        return "refused"
    if "[sim:refused]" in text:
        return "refused_generically"
    if "[sim:error]" in text:
        return "error"
    return "succeeded"


def create_task(prompt: str, **fields: Any) -> tuple[SimTask, float]:
    """A new task and the seconds it takes: SIMULATOR_SECONDS, three times that with "[sim:slow]". With
    "[sim:expired]" its first link has already expired."""
    seconds = settings.SIMULATOR_SECONDS * (3 if "[sim:slow]" in prompt.lower() else 1)
    now = timezone.now()
    task = SimTask.objects.create(
        created_at=now,
        finishes_at=now + timedelta(seconds=seconds),
        expire_first_link="[sim:expired]" in prompt.lower(),
        **fields,
    )
    return task, seconds


def busy() -> HttpResponse:
    """What a storage service answers when it is too busy: 503 with a Retry-After, which clients retry."""
    response = HttpResponse(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
        "<Message>The server is busy. Retry the request later.</Message></Error>",
        status=503,
        content_type="application/xml",
    )
    response["Retry-After"] = "2"
    return response


def signature(task_id: str, expires: int) -> str:
    key = (settings.SECRET_KEY + ":simulator").encode()
    return hmac.new(key, f"{task_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_link(
    request: HttpRequest | None, task: SimTask, route: str, lifetime: timedelta = LINK_LIFETIME
) -> str:
    """A fresh link to the task's video at the named route. A task made with "[sim:expired]" (or hit by the
    `expired_link` fault) gets an already expired first link, so that a client's "ask again for a fresh
    link" path can be exercised."""
    if task.links_issued == 0 and (task.expire_first_link or faults.first_link_expired()):
        expires = int(time.time()) - 60
    else:
        expires = int((timezone.now() + lifetime).timestamp())
    SimTask.objects.filter(pk=task.pk).update(links_issued=task.links_issued + 1)
    task.links_issued += 1
    path = reverse(route, args=[task.id])
    query = urlencode({"se": expires, "sp": "r", "sig": signature(task.id, expires)})
    # Callbacks are sent outside any request: they use the simulator's configured address instead.
    base = request.build_absolute_uri("/").rstrip("/") if request else settings.SIMULATOR_BASE_URL
    return f"{base}{path}?{query}"


def link_is_valid(request: HttpRequest, task_id: str) -> bool:
    try:
        expires = int(request.GET.get("se", ""))
    except ValueError:
        expires = 0
    valid = hmac.compare_digest(request.GET.get("sig", ""), signature(task_id, expires))
    return valid and expires >= time.time()


def link_refused() -> HttpResponse:
    return HttpResponse(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
        "<Message>Signed expiry time has expired or the signature does not match.</Message></Error>",
        status=403,
        content_type="application/xml",
    )


def video_file(
    request: HttpRequest, task_id: str, provider: str, render: Callable[[SimTask, Path], None]
) -> HttpResponseBase:
    """The video behind a signed link, for a finished task of this provider only (another simulated API's
    task has no request this one can render)."""
    if not link_is_valid(request, task_id):
        return link_refused()
    task = SimTask.objects.filter(id=task_id, provider=provider, outcome="succeeded").first()
    if task is None or task.phase() != "succeeded":
        raise Http404("no such video")
    if fault := faults.http_fault("download"):
        return fault
    try:
        path = _rendered(task, render)
    except Busy:
        return busy()
    return ranged_response(
        request, path.open("rb"), size=path.stat().st_size, content_type="video/mp4", etag=f'"{task.id}"'
    )


def _rendered(task: SimTask, render: Callable[[SimTask, Path], None]) -> Path:
    """The task's video, made by `render(task, path)` once and kept: every later link to it serves the
    same bytes."""
    folder = Path(settings.DATA_DIR) / "simulator"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{task.id}.mp4"
    if not path.exists():
        render(task, path)
    return path


def json_object(request: HttpRequest) -> dict[str, Any] | Literal["not_json", "not_object"]:
    """The request's body as a JSON object, or what is wrong with it."""
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "not_json"
    return body if isinstance(body, dict) else "not_object"


def out_of_credit(provider: str, prompt: str) -> bool:
    """A prompt with "[sim:used_up]" finds the account empty the first time it is sent; sent again (after an
    admin "topped up" the account and resumed the service) it is taken. A marker task, which no client ever
    asks for, remembers the refusal in the database, so that every web process agrees."""
    if "[sim:used_up]" not in prompt.lower():
        return False
    marker = "used-up-" + hashlib.sha256(f"{provider}:{prompt}".encode()).hexdigest()[:40]
    _task, created = SimTask.objects.get_or_create(
        id=marker,
        defaults={"provider": provider, "outcome": "used_up", "finishes_at": timezone.now(), "trace_id": "-"},
    )
    return created
