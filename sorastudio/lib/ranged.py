"""Serving a file with HTTP range requests (RFC 9110 section 14), which ``<video>`` needs to seek.

Django's ``FileResponse`` always sends the whole file, so a browser could only play videos from the start.
``ranged_response`` answers ``Range: bytes=...`` with 206 and just those bytes.

Choices the RFC leaves to the server:

* A request for several ranges (``bytes=0-9,20-29``) is answered with the whole file (200), which the RFC
  always allows, rather than with ``multipart/byteranges``: browsers never ask for several ranges, and
  sending only the first range would hand a client that did something other than what it asked for.
* A Range header that is not a syntactically valid list of byte ranges is ignored (200), as is one in any
  other unit. A well-formed range that cannot be satisfied (starting at or beyond the end, ``bytes=5-2``,
  the empty suffix ``bytes=-0``) gets 416 with ``Content-Range: bytes */size``.
* Ranges apply to GET only (the RFC defines them for no other method); HEAD answers with the headers of a
  full GET, without reading the file.
* ``If-Range`` is honoured for a strong ETag equal to ``etag``; anything else (a date, a weak or different
  ETag, or no ``etag`` to compare with) means the client's copy may be stale, so the whole file is sent.
"""

from __future__ import annotations

import re
from typing import IO

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header, quote_etag

CHUNK_SIZE = 64 * 1024
CACHE_CONTROL = "private, max-age=3600"

# "bytes=" then a comma-separated list whose elements may be empty and padded with spaces or tabs.
_BYTES_RANGES = re.compile(r"bytes=(?P<specs>[0-9\-, \t]*)", re.IGNORECASE)
_RANGE_SPEC = re.compile(r"(?P<first>[0-9]*)-(?P<last>[0-9]*)")


class _Unsatisfiable(Exception):
    pass


def ranged_response(
    request: HttpRequest,
    fileobj: IO[bytes],
    *,
    size: int,
    content_type: str,
    filename: str | None = None,
    as_attachment: bool = False,
    etag: str | None = None,
) -> HttpResponseBase:
    """Answer ``request`` with ``fileobj`` (``size`` bytes long), honouring a single byte range.

    The response takes ownership of ``fileobj``: it is closed once the body has been sent, or straight away
    when no body is needed (HEAD, 416). ``fileobj`` must be seekable. ``etag`` may be given bare or quoted.
    """
    if size < 0:
        fileobj.close()
        raise ValueError(f"size must not be negative, not {size}")
    quoted_etag = quote_etag(etag) if etag else None

    try:
        byte_range = _requested_range(request, size, quoted_etag)
    except _Unsatisfiable:
        fileobj.close()
        return _unsatisfiable(size, quoted_etag)

    start, end = byte_range if byte_range else (0, size - 1)
    length = end - start + 1 if size else 0
    status = 206 if byte_range else 200
    if request.method == "HEAD":
        fileobj.close()
        # Content-Length is set by hand below; Django only fills it in from the (empty) content if missing.
        response: HttpResponseBase = HttpResponse(status=status, content_type=content_type)
    else:
        body = _FileRange(fileobj, start, length)
        response = StreamingHttpResponse(body, status=status, content_type=content_type)

    response.headers["Content-Length"] = str(length)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = CACHE_CONTROL
    if byte_range:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if quoted_etag:
        response.headers["ETag"] = quoted_etag
    disposition = content_disposition_header(as_attachment, filename) if filename else None
    if disposition:
        response.headers["Content-Disposition"] = disposition
    elif as_attachment:
        response.headers["Content-Disposition"] = "attachment"
    return response


def _unsatisfiable(size: int, quoted_etag: str | None) -> HttpResponse:
    """416, with the file's size in Content-Range so the client can ask again within it."""
    response = HttpResponse(status=416, content_type="text/plain; charset=utf-8")
    response.headers["Content-Range"] = f"bytes */{size}"
    response.headers["Content-Length"] = "0"
    response.headers["Accept-Ranges"] = "bytes"
    if quoted_etag:
        response.headers["ETag"] = quoted_etag
    return response


def _requested_range(request: HttpRequest, size: int, etag: str | None) -> tuple[int, int] | None:
    """The one range to send as (first, last) byte positions, or None for the whole file."""
    header = request.headers.get("Range")
    if not header or request.method != "GET":
        return None
    if_range = request.headers.get("If-Range")
    # If-Range needs the strong comparison: a weak ETag never matches, nor does a date (no Last-Modified).
    if if_range is not None and (etag is None or etag.startswith("W/") or if_range.strip() != etag):
        return None

    specs = _parse_byte_ranges(header)
    if specs is None or len(specs) != 1:
        return None
    first, last = specs[0]

    if first is None:
        suffix = last or 0  # never None here: the parser rejects a bare "-"
        if suffix == 0 or size == 0:
            raise _Unsatisfiable
        return max(0, size - suffix), size - 1
    if (last is not None and last < first) or first >= size:
        raise _Unsatisfiable
    return first, size - 1 if last is None else min(last, size - 1)


def _parse_byte_ranges(header: str) -> list[tuple[int | None, int | None]] | None:
    """The (first, last) pairs of a ``bytes=`` Range header, None on either side when left out, or None
    if the header is not a valid byte-range list at all. ``(None, n)`` is the suffix range ``-n``."""
    match = _BYTES_RANGES.fullmatch(header.strip())
    if not match:
        return None
    specs: list[tuple[int | None, int | None]] = []
    for element in match["specs"].split(","):
        if not element.strip():
            continue
        spec = _RANGE_SPEC.fullmatch(element.strip())
        if spec is None or not (spec["first"] or spec["last"]):
            return None
        first, last = spec["first"], spec["last"]
        specs.append((int(first) if first else None, int(last) if last else None))
    return specs or None


class _FileRange:
    """Iterates over ``length`` bytes of ``fileobj`` from ``start``, and closes the file when closed.

    A class rather than a generator: Django calls ``close()`` on the streaming content when the response is
    closed, and a generator that never started would not run its cleanup then.
    """

    def __init__(self, fileobj: IO[bytes], start: int, length: int) -> None:
        self.fileobj = fileobj
        self.position = start
        self.remaining = length
        self.started = False

    def __iter__(self) -> _FileRange:
        return self

    def __next__(self) -> bytes:
        if self.remaining <= 0:
            self.close()
            raise StopIteration
        if not self.started:
            # Seeking lazily: a response that is never sent never touches the file.
            self.fileobj.seek(self.position)
            self.started = True
        chunk = self.fileobj.read(min(CHUNK_SIZE, self.remaining))
        if not chunk:
            # The file shrank under us; stopping short makes the client see a truncated body rather than
            # wait forever for bytes that will not come.
            self.close()
            raise StopIteration
        self.remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self.remaining = 0
        self.fileobj.close()
