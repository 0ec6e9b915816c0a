"""Which upstream the studio talks to, and how it reaches it: the simulator by default, or a real account."""

from __future__ import annotations

import httpx
from django.conf import settings
from django.urls import reverse

from sorastudio.upstream.acedata import AceDataClient

# Tests point the clients at the studio itself (httpx.WSGITransport) through this hook.
transport_override: httpx.BaseTransport | None = None


def is_simulated() -> bool:
    return settings.SORA_PROVIDER == "simulator"


def acedata_base_url() -> str:
    if is_simulated():
        return settings.SIMULATOR_BASE_URL + "/simulator/acedata"
    return settings.ACEDATA_BASE_URL


def acedata_client() -> AceDataClient:
    # The simulator accepts any non-empty bearer token; a real account's key never leaves this function.
    key = "simulator" if is_simulated() else settings.ACEDATA_API_KEY
    return AceDataClient(
        acedata_base_url(), key, timeout=settings.UPSTREAM_TIMEOUT, transport=transport_override
    )


def callback_url(token: str) -> str:
    """Where the upstream should call us back for one job, or "" when the studio is not reachable."""
    if not settings.PUBLIC_BASE_URL:
        return ""
    return settings.PUBLIC_BASE_URL + reverse("callback", args=["acedata", token])


def describe() -> dict[str, str | bool]:
    return {
        "name": "acedata",
        "simulated": is_simulated(),
        "base_url": acedata_base_url(),
        "callbacks": bool(settings.PUBLIC_BASE_URL),
    }
