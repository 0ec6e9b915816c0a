"""The video services the studio can use, behind one small interface the pipeline relies on.

Each upstream has its own client module (sorastudio/upstream/); an adapter here turns a Generation into that
API's request and its answers into a status the pipeline understands. The built-in simulator serves every
API offline; a real account is used for each provider named in SORA_PROVIDER whose key is set.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol

import httpx
from django.conf import settings
from django.urls import reverse

from sorastudio.upstream.acedata import AceDataClient, VideoRequest

if TYPE_CHECKING:
    from .models import Generation

ACEDATA = "acedata"
LABELS = {ACEDATA: "AceDataCloud Sora"}

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


def callback_url(provider: str, token: str) -> str:
    """Where the upstream should call us back for one job, or "" when the studio is not reachable."""
    if not settings.PUBLIC_BASE_URL:
        return ""
    return settings.PUBLIC_BASE_URL + reverse("callback", args=[provider, token])


class AceDataUpstream:
    name = ACEDATA

    def __init__(self) -> None:
        simulated = is_simulated(ACEDATA)
        base = settings.SIMULATOR_BASE_URL + "/simulator/acedata" if simulated else settings.ACEDATA_BASE_URL
        # The simulator accepts any non-empty bearer token; a real key never leaves this adapter.
        key = "simulator" if simulated else settings.ACEDATA_API_KEY
        self.base_url = base
        self.client = AceDataClient(
            base, key, timeout=settings.UPSTREAM_TIMEOUT, transport=transport_override
        )

    def submit(self, generation: Generation) -> tuple[str, str]:
        request = VideoRequest(
            model=generation.model,
            prompt=generation.prompt,
            version=generation.version,
            duration=generation.duration,
            size=generation.size,
            orientation=generation.orientation,
            image_urls=tuple(generation.reference_images(inline=True)),
            character_url=generation.character_url,
            character_start=generation.character_start,
            character_end=generation.character_end,
            callback_url=callback_url(ACEDATA, generation.callback_token),
        )
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


ADAPTERS: dict[str, type[AceDataUpstream]] = {ACEDATA: AceDataUpstream}


@contextmanager
def upstream(provider: str) -> Iterator[Upstream]:
    adapter = ADAPTERS[provider]()
    try:
        yield adapter
    finally:
        adapter.close()


def usable() -> list[str]:
    return list(ADAPTERS)


def describe() -> dict[str, str | bool]:
    return {
        "name": ACEDATA,
        "simulated": is_simulated(ACEDATA),
        "callbacks": bool(settings.PUBLIC_BASE_URL),
    }
