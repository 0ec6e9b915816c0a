"""What both video API clients share: building their HTTP clients, turning a transport failure into the API's
own error, reading Retry-After and JSON bodies, and downloading a result link.

Each client subclasses `Client`, names its error type and says which statuses are worth retrying; its paths,
bodies, parsing and vendor codes stay in its own module.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import httpx

from . import downloads, tls
from .errors import UpstreamError

Phase = Literal["pending", "processing", "succeeded", "failed", "unknown"]

# Link answers that mean "this signed link is no good any more"; the caller should ask for a fresh one.
EXPIRED_LINK_STATUSES = frozenset({401, 403, 404, 410})


@dataclass(frozen=True)
class Submitted:
    task_id: str
    trace_id: str = ""


@dataclass(frozen=True)
class TaskRead:
    """What each API's reading of a task starts with, under the same names, so the pipeline reads both alike;
    each client's own reading adds its vendor's fields."""

    task_id: str
    phase: Phase
    video_url: str = ""
    error_code: str = ""
    error_message: str = ""
    trace_id: str = ""

    @property
    def is_final(self) -> bool:
        return self.phase in ("succeeded", "failed")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"))


def json_or_none(response: httpx.Response) -> Any:
    """The parsed body, or None when it is not JSON: what that means is up to each API."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _normalise_prefix(prefix: str) -> str:
    prefix = "/" + prefix.strip("/")
    return "" if prefix == "/" else prefix


class Client:
    """An API client: one httpx client that carries the key, and one for result links that never does."""

    error: ClassVar[type[UpstreamError]] = UpstreamError
    # Where the API's paths start under base_url, unless the caller names another prefix.
    default_path_prefix: ClassVar[str] = ""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        path_prefix: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        on_response: Callable[[httpx.Response], None] | None = None,
        download_limits: downloads.Limits | None = None,
    ) -> None:
        # `on_response` sees every answer's status line (before its body is read): how the studio
        # counts its requests without this client knowing about it.
        hooks = {"response": [on_response]} if on_response else {}
        self.base_url = base_url.rstrip("/")
        self.path_prefix = _normalise_prefix(self.default_path_prefix if path_prefix is None else path_prefix)
        timeouts = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            timeout=timeouts,
            transport=transport,
            verify=tls.context(),
            event_hooks=hooks,
        )
        # Result links point at a CDN: a separate client that never carries the API key.
        self._downloads = httpx.Client(
            timeout=timeouts,
            transport=transport,
            verify=tls.context(),
            event_hooks=hooks,
            # No proxy from the environment: it would resolve the name itself, past the address check.
            trust_env=False,
            # Connections are made to a checked IP (downloads.py): one kept open for one name must not
            # carry a request for another name that resolved to the same address.
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self.download_limits = download_limits or downloads.Limits()

    def close(self) -> None:
        self._http.close()
        self._downloads.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def is_retryable(status: int) -> bool:
        """Whether an answer with this status may succeed if sent again."""
        raise NotImplementedError

    @staticmethod
    def code_name(status: int) -> str:
        """The error code a failed download with this status is stored under ("" for none)."""
        return ""

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request. Only transport failures raise here; what a status means is up to the caller."""
        try:
            return self._http.request(method, self.path_prefix + path, params=params, json=payload)
        except httpx.ConnectError as exc:
            raise self.error(f"cannot connect to the upstream: {exc}", retryable=True, sent=False) from exc
        except httpx.TimeoutException as exc:
            # Only a connect (or pool) timeout proves the request never left; after a read timeout the
            # upstream may well have accepted it.
            sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise self.error("the upstream did not answer in time", retryable=True, sent=sent) from exc
        except httpx.TransportError as exc:
            raise self.error(f"the connection to the upstream failed: {exc}", retryable=True) from exc

    @contextmanager
    def download(self, url: str) -> Iterator[httpx.Response]:
        """Open a result link as a stream. Expired or missing links raise a permanent error with code
        `link_expired`, so the caller knows to ask for a fresh link. The link and its redirects are
        checked, and the body capped, by downloads.open_checked (codes download_refused, …_too_large,
        …_too_slow)."""
        try:
            with downloads.open_checked(self._downloads, url, self.download_limits, self.error) as response:
                status = response.status_code
                if status in EXPIRED_LINK_STATUSES:
                    raise self.error(
                        "the video link has expired or is gone", status=status, code="link_expired"
                    )
                if status >= 400:
                    raise self.error(
                        f"the video download failed with HTTP {status}",
                        status=status,
                        code=self.code_name(status),
                        retryable=self.is_retryable(status),
                        retry_after=retry_after(response),
                    )
                yield response
        except httpx.TimeoutException as exc:
            raise self.error("the video download timed out", retryable=True) from exc
        except httpx.TransportError as exc:
            raise self.error(f"the video download failed: {exc}", retryable=True) from exc
