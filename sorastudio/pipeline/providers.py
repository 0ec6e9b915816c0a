"""The video services the studio can use, behind one small interface the pipeline relies on.

Each upstream has its own client module (sorastudio/upstream/); an adapter here turns a Generation into that
API's request and its answers into a status the pipeline understands. The built-in simulator serves every
API offline; with SORA_PROVIDER naming real providers, each of those is used with its own key.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from sorastudio.lib.capabilities import ACEDATA, PROVIDERS, SORA2API
from sorastudio.upstream import downloads
from sorastudio.upstream.acedata import AceDataClient, VideoRequest
from sorastudio.upstream.errors import UpstreamError
from sorastudio.upstream.http import Client as UpstreamClient
from sorastudio.upstream.sora2api import GenerateRequest, Sora2APIClient

if TYPE_CHECKING:
    from sorastudio.studio.models import Generation

__all__ = ["ACEDATA", "SORA2API"]

log = logging.getLogger(__name__)

# Tests point the clients at the studio itself (httpx.WSGITransport) through this hook.
transport_override: httpx.BaseTransport | None = None


class Status(Protocol):
    """What the pipeline reads of an upstream task, whichever API it came from."""

    @property
    def task_id(self) -> str: ...
    @property
    def phase(self) -> str: ...  # pending, processing, succeeded, failed or unknown
    @property
    def video_url(self) -> str: ...
    @property
    def error_code(self) -> str: ...
    @property
    def error_message(self) -> str: ...
    @property
    def trace_id(self) -> str: ...


class Upstream(Protocol):
    name: str

    def submit(self, generation: Generation) -> tuple[str, str]:
        """Start the job upstream; return its task id and trace id."""
        ...

    def statuses(self, task_ids: Sequence[str]) -> dict[str, Status]:
        """Statuses of many tasks, in as few requests as the API allows."""
        ...

    def retrieve(self, task_id: str) -> Status: ...

    def download(self, url: str) -> AbstractContextManager[httpx.Response]: ...

    def close(self) -> None: ...


def is_simulated(provider: str = ACEDATA) -> bool:
    return settings.SORA_PROVIDER == "simulator"


def usable() -> list[str]:
    """The providers the form offers: both on the simulator, else those with a key."""
    if is_simulated():
        return list(PROVIDERS)
    chosen = {name.strip() for name in settings.SORA_PROVIDER.split(",")}
    return [name for name in PROVIDERS if name in chosen]


def callback_url(provider: str, token: str) -> str:
    """Where the upstream should call us back for one job, or "" when the studio is not reachable."""
    if not settings.PUBLIC_BASE_URL:
        return ""
    return settings.PUBLIC_BASE_URL + reverse("callback", args=[provider, token])


def task_named_in(callback_body: bytes) -> str:
    """The task id a callback's body names (AceDataCloud's `task_id`, Sora2API's `data.taskId`), or "".
    Only a lead: nothing in the body is believed until the upstream confirms it."""
    try:
        body = json.loads(callback_body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    if not isinstance(body, dict):
        return ""
    data = body.get("data")
    named = body.get("task_id") or (data.get("taskId") if isinstance(data, dict) else "")
    return str(named or "")[:200]


def made_for(status: Status, token: str) -> bool:
    """Whether the upstream's own record of a task carries this job's callback token, i.e. the task was
    made by a submit of this job: the proof a callback's body cannot give."""
    raw = getattr(status, "raw", None)
    if not token or not isinstance(raw, dict):
        return False
    if "paramJson" not in raw and isinstance(raw.get("data"), dict):
        raw = raw["data"]  # a whole Sora2API envelope
    request = raw.get("request")
    if not isinstance(request, dict):
        try:
            request = json.loads(str(raw.get("paramJson") or "{}"))  # Sora2API keeps the request as text
        except json.JSONDecodeError:
            return False
    if not isinstance(request, dict):
        return False
    url = str(request.get("callback_url") or request.get("callBackUrl") or "")
    return url.rstrip("/").endswith("/" + token)


def _simulator(path: str) -> str:
    return settings.SIMULATOR_BASE_URL + "/simulator/" + path


def download_limits(simulated: bool) -> downloads.Limits:
    """How far a video download may go. Only a simulated job's links may point at the simulator, which is
    on the studio's own (often loopback) address; a real upstream's never may."""
    allowed = frozenset({downloads.origin(settings.SIMULATOR_BASE_URL)}) if simulated else frozenset()
    return downloads.Limits(
        max_bytes=settings.DOWNLOAD_MAX_MB * 1024 * 1024, timeout=settings.DOWNLOAD_TIMEOUT, allowed=allowed
    )


# --- Requests -----------------------------------------------------------------------------------------


def acedata_request(generation: Generation, *, preview: bool = False) -> VideoRequest:
    return VideoRequest(
        model=generation.model,
        prompt=generation.prompt,
        version=generation.version,
        duration=generation.duration,
        size=generation.size,
        orientation=generation.orientation,
        image_urls=tuple(_images(generation, inline=True, preview=preview)),
        character_url=_character_url(generation),
        character_start=generation.character_start,
        character_end=generation.character_end,
        callback_url=_callback_url(ACEDATA, generation, preview),
    )


def sora2api_request(generation: Generation, *, preview: bool = False) -> GenerateRequest:
    return GenerateRequest(
        prompt=generation.prompt,
        aspect_ratio=generation.orientation or "landscape",
        quality=generation.quality or "standard",
        image_urls=tuple(_images(generation, inline=False, preview=preview)),
        watermark=generation.watermark,
        callback_url=_callback_url(SORA2API, generation, preview),
    )


# Stands in for the token of a draft, which gets its own only when it is saved (the preview hides a real
# one anyway: it opens the job's callback).
DRAFT_STAND_IN = "token"


def _callback_url(provider: str, generation: Generation, preview: bool) -> str:
    token = generation.callback_token or (DRAFT_STAND_IN if preview else "")
    return callback_url(provider, token)


def _character_url(generation: Generation) -> str:
    """The clip's address: the one given, or a signed link to the clip uploaded to the studio."""
    if generation.character_url or not generation.character_clip:
        return generation.character_url
    from sorastudio.studio.characters import clip_url

    return clip_url(generation.character_clip.name or "")


def _images(generation: Generation, *, inline: bool, preview: bool) -> list[str]:
    if not preview:
        return generation.reference_images(inline=inline)
    # A preview neither reads every upload nor mints a signed link: it names them.
    shown = [url for url in generation.image_urls if url]
    if not generation._state.adding:
        count = generation.uploads.count()
        shown += [
            f"(uploaded image {number}, sent as {'base64' if inline else 'a signed link'})"
            for number in range(1, count + 1)
        ]
    return shown


def api_call(generation: Generation) -> dict[str, Any]:
    """The request as it was (or would be) sent, for the "Show the API call" panel: inline images are
    shortened and the callback's secret token is hidden."""
    if generation.sent_payload:
        return {"path": _path(generation.provider, "generate"), "body": generation.sent_payload}
    if generation.provider == SORA2API:
        payload = sora2api_request(generation, preview=True).to_payload()
    else:
        payload = acedata_request(generation, preview=True).to_payload()
    return {"path": _path(generation.provider, "generate"), "body": redact_payload(payload)}


def _path(provider: str, action: str) -> str:
    if provider == SORA2API:
        return f"POST {settings.SORA2API_PATH_PREFIX}/generate"
    return "POST /sora/videos"


_TOKEN = re.compile(r"(/callbacks/[^/]+/)[^/]+(/?)")
_CLIP_TOKEN = re.compile(r"(/clips/)[^/?#]+")
_REFERENCE_TOKEN = re.compile(r"(/references/)[^/?#]+")


def redact_payload(payload: dict[str, Any]) -> dict[str, Any]:
    shown = dict(payload)
    for key in ("image_urls", "imageUrls"):
        if key in shown:
            shown[key] = [_short(value) for value in shown[key]]
    for key in ("callback_url", "callBackUrl"):
        if key in shown:
            shown[key] = _TOKEN.sub(r"\1…\2", shown[key])
    ours = (settings.PUBLIC_BASE_URL or settings.SIMULATOR_BASE_URL) + "/clips/"
    if str(shown.get("character_url", "")).startswith(ours):
        shown["character_url"] = _CLIP_TOKEN.sub(r"\1…", shown["character_url"])  # a week's access
    return shown


def _short(value: str) -> str:
    # A signed link to an uploaded image opens it without a login for a week: never stored or shown.
    value = _REFERENCE_TOKEN.sub(r"\1…", value)
    if value.startswith("data:"):
        kind = value[5 : value.find(";")] if ";" in value else "image"
        return f"data:{kind};base64,… ({len(value) * 3 // 4 // 1024} KB)"
    return value


# --- Counting requests --------------------------------------------------------------------------------


class _Recorded:
    """Each request an adapter makes becomes one UpstreamCall row, for the pipeline health page. Recorded
    here, around each client call, because only here are both the kind of call (and how many jobs a batch
    read covered) and the outcome (the error's code) known; the client's response hook adds the real HTTP
    status. Counting must never cost the pipeline a call: a failed insert is logged and forgotten."""

    name: str
    client: UpstreamClient

    def __init__(self, simulated: bool) -> None:
        self.simulated = simulated
        self.seen_status: int | None = None
        self.sent: dict[str, Any] = {}  # the last request submitted, redacted: what the job keeps of it

    def _client_options(self) -> dict[str, Any]:
        """What every client is given besides its address and key: the same limits, and our response hook."""
        return {
            "timeout": settings.UPSTREAM_TIMEOUT,
            "transport": transport_override,
            "on_response": self._saw,
            "download_limits": download_limits(self.simulated),
        }

    def download(self, url: str) -> AbstractContextManager[httpx.Response]:
        return self._download(self.client.download(url))

    def close(self) -> None:
        self.client.close()

    def _saw(self, response: httpx.Response) -> None:
        self.seen_status = response.status_code

    @contextmanager
    def _recorded(self, kind: str, jobs: int = 1) -> Iterator[None]:
        self.seen_status = None
        started = time.monotonic()
        try:
            yield
        except UpstreamError as exc:
            self._record(kind, jobs, started, exc)
            raise
        self._record(kind, jobs, started, None)

    @contextmanager
    def _download(self, opening: AbstractContextManager[httpx.Response]) -> Iterator[httpx.Response]:
        """A download counts once its answer arrived (or failed to): the time to stream the body is not
        the upstream's latency, and an error of ours while saving it is not the upstream's error."""
        with ExitStack() as stack:
            with self._recorded("download"):
                response = stack.enter_context(opening)
            yield response

    def _record(self, kind: str, jobs: int, started: float, error: UpstreamError | None) -> None:
        from .models import UpstreamCall

        status = self.seen_status or (error.status if error else None)
        code = ""
        if error is not None:
            code = error.code or (f"http_{status}" if status else "no_answer")
        try:
            row = UpstreamCall(
                provider=self.name,
                simulated=self.simulated,
                kind=kind,
                http_status=status,
                error_code=code[:60],
                ok=error is None,
                rate_limited=429 in (status, error.status if error else None),
                duration_ms=round((time.monotonic() - started) * 1000),
                jobs=jobs,
            )
            if connection.in_atomic_block:
                # A savepoint, so a failed insert cannot spoil the caller's transaction.
                with transaction.atomic():
                    row.save(force_insert=True)
            else:
                row.save(force_insert=True)
        except Exception:
            log.warning("could not record a %s call to %s", kind, self.name, exc_info=True)


# --- Adapters -----------------------------------------------------------------------------------------


class AceDataUpstream(_Recorded):
    name = ACEDATA
    client: AceDataClient

    def __init__(self, simulated: bool) -> None:
        super().__init__(simulated)
        base = _simulator("acedata") if simulated else settings.ACEDATA_BASE_URL
        # The simulator takes only its own key; a real key never leaves this adapter.
        key = settings.SIMULATOR_API_KEY if simulated else settings.ACEDATA_API_KEY
        self.client = AceDataClient(base, key, **self._client_options())

    def submit(self, generation: Generation) -> tuple[str, str]:
        request = acedata_request(generation)
        self.sent = redact_payload(request.to_payload())
        with self._recorded("submit"):
            submitted = self.client.submit(request)
        return submitted.task_id, submitted.trace_id

    def statuses(self, task_ids: Sequence[str]) -> dict[str, Status]:
        found: dict[str, Status] = {}
        size = settings.POLL_BATCH_SIZE
        for start in range(0, len(task_ids), size):
            chunk = task_ids[start : start + size]
            with self._recorded("status", jobs=len(chunk)):
                found.update(self.client.retrieve_batch(chunk))
        return found

    def retrieve(self, task_id: str) -> Status:
        with self._recorded("retrieve"):
            return self.client.retrieve(task_id)


class Sora2APIUpstream(_Recorded):
    name = SORA2API
    client: Sora2APIClient

    def __init__(self, simulated: bool) -> None:
        super().__init__(simulated)
        base = _simulator("sora2api") if simulated else settings.SORA2API_BASE_URL
        key = settings.SIMULATOR_API_KEY if simulated else settings.SORA2API_API_KEY
        self.client = Sora2APIClient(
            base, key, path_prefix=settings.SORA2API_PATH_PREFIX, **self._client_options()
        )

    def submit(self, generation: Generation) -> tuple[str, str]:
        request = sora2api_request(generation)
        self.sent = redact_payload(request.to_payload())
        with self._recorded("submit"):
            submitted = self.client.generate(request)
        return submitted.task_id, submitted.trace_id

    def statuses(self, task_ids: Sequence[str]) -> dict[str, Status]:
        # Sora2API has no batch query: one record-info a task. A task whose read fails is left out (it is
        # asked again next round); only when every read fails is the poll itself a failure.
        found: dict[str, Status] = {}
        last_error: UpstreamError | None = None
        for task_id in task_ids:
            try:
                with self._recorded("status"):
                    found[task_id] = self.client.record_info(task_id)
            except UpstreamError as exc:
                last_error = exc
        if last_error is not None and not found:
            raise last_error
        return found

    def retrieve(self, task_id: str) -> Status:
        with self._recorded("retrieve"):
            return self.client.record_info(task_id)


ADAPTERS: dict[str, type[AceDataUpstream] | type[Sora2APIUpstream]] = {
    ACEDATA: AceDataUpstream,
    SORA2API: Sora2APIUpstream,
}


@contextmanager
def upstream(provider: str, simulated: bool | None = None) -> Iterator[AceDataUpstream | Sora2APIUpstream]:
    """The provider's adapter. A job says itself whether it was made for the simulator, so a change of
    SORA_PROVIDER never sends a simulated job to a paid account (or a real one to the simulator)."""
    adapter = ADAPTERS[provider](is_simulated(provider) if simulated is None else simulated)
    try:
        yield adapter
    finally:
        adapter.close()


def describe() -> dict[str, Any]:
    return {
        "names": usable(),
        "simulated": is_simulated(),
        "callbacks": bool(settings.PUBLIC_BASE_URL),
    }
