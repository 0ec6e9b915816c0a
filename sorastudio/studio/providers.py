"""The video services the studio can use, behind one small interface the pipeline relies on.

Each upstream has its own client module (sorastudio/upstream/); an adapter here turns a Generation into that
API's request and its answers into a status the pipeline understands. The built-in simulator serves every
API offline; with SORA_PROVIDER naming real providers, each of those is used with its own key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from django.conf import settings
from django.urls import reverse

from sorastudio.upstream.acedata import AceDataClient, VideoRequest
from sorastudio.upstream.errors import UpstreamError
from sorastudio.upstream.sora2api import GenerateRequest, Sora2APIClient

from .capabilities import ACEDATA, PROVIDERS, SORA2API

if TYPE_CHECKING:
    from .models import Generation

__all__ = ["ACEDATA", "SORA2API"]

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


def _simulator(path: str) -> str:
    return settings.SIMULATOR_BASE_URL + "/simulator/" + path


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
        callback_url=callback_url(ACEDATA, generation.callback_token),
    )


def sora2api_request(generation: Generation, *, preview: bool = False) -> GenerateRequest:
    return GenerateRequest(
        prompt=generation.prompt,
        aspect_ratio=generation.orientation or "landscape",
        quality=generation.quality or "standard",
        image_urls=tuple(_images(generation, inline=False, preview=preview)),
        watermark=generation.watermark,
        callback_url=callback_url(SORA2API, generation.callback_token),
    )


def _character_url(generation: Generation) -> str:
    """The clip's address: the one given, or a signed link to the clip uploaded to the studio."""
    if generation.character_url or not generation.character_clip:
        return generation.character_url
    from .characters import clip_url

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


# --- Adapters -----------------------------------------------------------------------------------------


class AceDataUpstream:
    name = ACEDATA

    def __init__(self, simulated: bool) -> None:
        base = _simulator("acedata") if simulated else settings.ACEDATA_BASE_URL
        # The simulator accepts any non-empty bearer token; a real key never leaves this adapter.
        key = "simulator" if simulated else settings.ACEDATA_API_KEY
        self.client = AceDataClient(
            base, key, timeout=settings.UPSTREAM_TIMEOUT, transport=transport_override
        )
        self.sent: dict[str, Any] = {}

    def submit(self, generation: Generation) -> tuple[str, str]:
        request = acedata_request(generation)
        self.sent = redact_payload(request.to_payload())
        submitted = self.client.submit(request)
        return submitted.task_id, submitted.trace_id

    def statuses(self, task_ids: Sequence[str]) -> dict[str, Status]:
        found: dict[str, Status] = {}
        size = settings.POLL_BATCH_SIZE
        for start in range(0, len(task_ids), size):
            found.update(self.client.retrieve_batch(task_ids[start : start + size]))
        return found

    def retrieve(self, task_id: str) -> Status:
        return self.client.retrieve(task_id)

    def download(self, url: str) -> AbstractContextManager[httpx.Response]:
        return self.client.download(url)

    def close(self) -> None:
        self.client.close()


class Sora2APIUpstream:
    name = SORA2API

    def __init__(self, simulated: bool) -> None:
        base = _simulator("sora2api") if simulated else settings.SORA2API_BASE_URL
        key = "simulator" if simulated else settings.SORA2API_API_KEY
        self.client = Sora2APIClient(
            base,
            key,
            path_prefix=settings.SORA2API_PATH_PREFIX,
            timeout=settings.UPSTREAM_TIMEOUT,
            transport=transport_override,
        )
        self.sent: dict[str, Any] = {}

    def submit(self, generation: Generation) -> tuple[str, str]:
        request = sora2api_request(generation)
        self.sent = redact_payload(request.to_payload())
        submitted = self.client.generate(request)
        return submitted.task_id, submitted.trace_id

    def statuses(self, task_ids: Sequence[str]) -> dict[str, Status]:
        # Sora2API has no batch query: one record-info a task. A task whose read fails is left out (it is
        # asked again next round); only when every read fails is the poll itself a failure.
        found: dict[str, Status] = {}
        last_error: UpstreamError | None = None
        for task_id in task_ids:
            try:
                found[task_id] = self.client.record_info(task_id)
            except UpstreamError as exc:
                last_error = exc
        if last_error is not None and not found:
            raise last_error
        return found

    def retrieve(self, task_id: str) -> Status:
        return self.client.record_info(task_id)

    def download(self, url: str) -> AbstractContextManager[httpx.Response]:
        return self.client.download(url)

    def close(self) -> None:
        self.client.close()


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
