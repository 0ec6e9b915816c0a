"""Fetching a finished video from the link an upstream handed out, without letting that link point anywhere.

A result link comes from the upstream's answer (or, before it is confirmed, from a callback anyone could
post), so it is not trusted: the studio's workers sit inside the deployment's network, and a link (or one
of its redirects) to 127.0.0.1, 10.x, 169.254.169.254 or [::1] would make them fetch what only they can
reach. So every hop is resolved once, refused unless each address is public, and then connected to that
very address (the URL's host is swapped for the checked IP, with the original name kept as the Host header
and the TLS server name), so a second DNS answer cannot swap in another address. Redirects are followed
here, a few at most, each one checked the same way; the body is capped in size (the announced
Content-Length before reading, the bytes counted while streaming) and in total time.

The one exception is an origin the caller names in `Limits.allowed` (the studio passes its own simulator,
which is on loopback by default): it is fetched as it is, unresolved and unchecked.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from .errors import UpstreamError

REFUSED = "download_refused"
TOO_LARGE = "download_too_large"
TOO_SLOW = "download_too_slow"
CODES = frozenset({REFUSED, TOO_LARGE, TOO_SLOW})

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (the system resolver, as a connection would use it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 2048 * 1024 * 1024
    timeout: float = 210.0  # seconds for the whole download, redirects and body included
    max_redirects: int = 5
    # "host:port" origins fetched without the address check: the studio's own simulator.
    allowed: frozenset[str] = frozenset()
    resolver: Resolver = field(default=resolve, compare=False)


def origin(url: str) -> str:
    """The "host:port" of a URL, the form `Limits.allowed` holds."""
    parsed = httpx.URL(url)
    port = parsed.port or DEFAULT_PORTS.get(parsed.scheme, 0)
    return f"{parsed.host.lower()}:{port}"


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    flags = (
        address.is_private,
        address.is_loopback,
        address.is_link_local,
        address.is_multicast,
        address.is_reserved,
        address.is_unspecified,
    )
    # is_global also rules out the ranges without a flag of their own (100.64.0.0/10, 192.0.0.0/24, ...).
    return not any(flags) and address.is_global


class _Capped(httpx.SyncByteStream):
    """The body as it streams, ended with an error once it outgrows the cap or the deadline."""

    def __init__(
        self, inner: httpx.SyncByteStream, limits: Limits, deadline: float, error: type[UpstreamError]
    ) -> None:
        self.inner = inner
        self.limits = limits
        self.deadline = deadline
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self.inner:
            seen += len(chunk)
            if seen > self.limits.max_bytes:
                raise _too_large(self.error, self.limits)
            if time.monotonic() > self.deadline:
                raise _too_slow(self.error, self.limits)
            yield chunk

    def close(self) -> None:
        self.inner.close()


@contextmanager
def open_checked(
    client: httpx.Client, url: str, limits: Limits, error: type[UpstreamError]
) -> Iterator[httpx.Response]:
    """The response to a GET of `url` after any redirects, its body not read yet and capped. Raises
    `error` with code download_refused, download_too_large or download_too_slow (all permanent: the same
    link would be refused again); transport errors are left to the caller."""
    deadline = time.monotonic() + limits.timeout
    for _hop in range(limits.max_redirects + 1):
        request = _pinned_request(client, url, limits, error, deadline)
        response = client.send(request, stream=True)
        location = response.headers.get("location")
        if response.status_code in REDIRECT_STATUSES and location:
            response.close()
            url = str(httpx.URL(url).join(location))
            continue
        try:
            _check_length(response, limits, error)
            response.stream = _Capped(response.stream, limits, deadline, error)  # type: ignore[arg-type]
            yield response
        finally:
            response.close()
        return
    raise error(f"the video link redirected more than {limits.max_redirects} times", code=REFUSED)


def _pinned_request(
    client: httpx.Client, url: str, limits: Limits, error: type[UpstreamError], deadline: float
) -> httpx.Request:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _too_slow(error, limits)
    timeout = _shortened(client.timeout, remaining)
    parsed = httpx.URL(url)
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host:
        raise error("the video link is not an http(s) address", code=REFUSED)
    if origin(url) in limits.allowed:
        return client.build_request("GET", parsed, timeout=timeout)
    address = _checked_address(parsed, limits, error)
    # Connect to the address that was checked; the name stays in Host and in the TLS handshake (SNI and
    # the certificate check), so the server sees the request it would have seen.
    port = parsed.port
    host_header = parsed.host if port is None else f"{_bracketed(parsed.host)}:{port}"
    return client.build_request(
        "GET",
        parsed.copy_with(host=address),
        headers={"Host": host_header},
        timeout=timeout,
        extensions={"sni_hostname": parsed.host},
    )


def _checked_address(parsed: httpx.URL, limits: Limits, error: type[UpstreamError]) -> str:
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    try:
        addresses = [ipaddress.ip_address(value) for value in _addresses(parsed.host, port, limits)]
    except ValueError as exc:
        raise error(f"the video link's host has no usable address: {exc}", code=REFUSED) from exc
    except OSError as exc:
        # A resolver that is down now may answer later: not a refusal of the link.
        raise error(f"the video link's host cannot be resolved: {exc}", retryable=True) from exc
    if not addresses:
        raise error("the video link's host has no address", code=REFUSED)
    # All of them, not only the first: a name that also points inside is not a CDN's.
    if not all(is_public(address) for address in addresses):
        raise error("the video link points at a private or local address", code=REFUSED)
    return str(addresses[0])


def _addresses(host: str, port: int, limits: Limits) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]  # a literal needs no resolver
    except ValueError:
        return limits.resolver(host, port)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _shortened(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    def cut(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cut(timeout.connect), read=cut(timeout.read), write=cut(timeout.write), pool=cut(timeout.pool)
    )


def _check_length(response: httpx.Response, limits: Limits, error: type[UpstreamError]) -> None:
    try:
        announced = int(response.headers.get("content-length", ""))
    except ValueError:
        return
    if announced > limits.max_bytes:
        raise _too_large(error, limits)


def _too_large(error: type[UpstreamError], limits: Limits) -> UpstreamError:
    return error(f"the video is larger than {limits.max_bytes // (1024 * 1024)} MB", code=TOO_LARGE)


def _too_slow(error: type[UpstreamError], limits: Limits) -> UpstreamError:
    return error(f"the video took longer than {limits.timeout:g} s to download", code=TOO_SLOW)
