"""What every simulated provider shares: signed, expiring links to its rendered videos (a blob-storage-like
`?se=<expiry>&sp=r&sig=<hmac>` query) and serving the file behind such a link with range support.

A link is signed over the task id and its expiry with a key derived from SECRET_KEY, so any web process can
check it without shared state, and an expired or tampered link gets the storage-style 403 XML a real CDN
sends.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone

from sorastudio.studio.ranged import ranged_response

from . import faults
from .models import SimTask

LINK_LIFETIME = timedelta(days=6)


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


def serve_video(request: HttpRequest, path: Path, etag: str) -> HttpResponseBase:
    return ranged_response(
        request, path.open("rb"), size=path.stat().st_size, content_type="video/mp4", etag=f'"{etag}"'
    )


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


def callback_allowed(url: str) -> bool:
    """The simulator takes no real credentials, so it only ever calls the studio itself back: it must not
    become a way to make this server send requests to any address a caller names."""
    own = [base for base in (settings.PUBLIC_BASE_URL, settings.SIMULATOR_BASE_URL) if base]
    return any(url.startswith(base + "/") for base in own)
