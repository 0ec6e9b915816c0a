"""Serving files with HTTP range requests, so that <video> can seek."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import RequestFactory

from sorastudio.lib.ranged import CHUNK_SIZE, ranged_response

DATA = bytes(range(256)) * 4  # 1024 bytes
BIG = bytes(range(251)) * 1000  # 251,000 bytes: several chunks, and not a multiple of the chunk size


class TrackedFile(io.BytesIO):
    """A file that counts its reads."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads += 1
        return super().read(size)


@dataclass
class Served:
    response: HttpResponseBase
    body: bytes
    file: TrackedFile
    chunks: list[bytes]

    @property
    def headers(self) -> Any:
        return self.response.headers

    @property
    def status(self) -> int:
        return self.response.status_code


def serve(
    range_header: str | None = None,
    *,
    method: str = "get",
    data: bytes = DATA,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> Served:
    all_headers = {**({"Range": range_header} if range_header is not None else {}), **(headers or {})}
    request = getattr(RequestFactory(), method)("/video", headers=all_headers)
    fileobj = TrackedFile(data)
    options.setdefault("content_type", "video/mp4")
    response = ranged_response(request, fileobj, size=len(data), **options)
    if isinstance(response, StreamingHttpResponse):
        chunks = [bytes(chunk) for chunk in response.streaming_content]  # type: ignore[union-attr]
    else:
        chunks = [response.content]  # type: ignore[attr-defined]
    return Served(response, b"".join(chunks), fileobj, chunks)


def assert_full(served: Served, data: bytes = DATA) -> None:
    assert served.status == 200
    assert served.body == data
    assert served.headers["Content-Length"] == str(len(data))
    assert "Content-Range" not in served.headers


def assert_partial(served: Served, first: int, last: int, data: bytes = DATA) -> None:
    assert served.status == 206
    assert served.body == data[first : last + 1]
    assert served.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
    assert served.headers["Content-Length"] == str(last - first + 1)


def assert_unsatisfiable(served: Served, size: int = len(DATA)) -> None:
    assert served.status == 416
    assert served.body == b""
    assert served.headers["Content-Range"] == f"bytes */{size}"
    assert served.file.reads == 0
    assert served.file.closed


class TestWholeFile:
    def test_it_sends_the_whole_file_without_a_range(self) -> None:
        served = serve()

        assert_full(served)
        assert served.headers["Content-Type"] == "video/mp4"
        assert served.headers["Accept-Ranges"] == "bytes"
        assert served.headers["Cache-Control"] == "private, max-age=3600"
        assert "Content-Disposition" not in served.headers
        assert "ETag" not in served.headers
        assert served.file.closed

    def test_it_streams_a_large_file_in_chunks(self) -> None:
        served = serve(data=BIG)

        assert_full(served, BIG)
        assert len(served.chunks) == 4
        assert all(len(chunk) <= CHUNK_SIZE for chunk in served.chunks)

    def test_it_sends_an_empty_file(self) -> None:
        assert_full(serve(data=b""), b"")

    @pytest.mark.parametrize(
        "header", ["", "bytes=abc", "bytes=-", "bytes=1-2-3", "bytes=0x10-", "items=0-9", "0-9", "bytes 0-9"]
    )
    def test_it_ignores_a_header_that_is_not_a_byte_range(self, header: str) -> None:
        assert_full(serve(header))

    @pytest.mark.parametrize("header", ["bytes=0-9,20-29", "bytes=0-9, -10", "bytes=5-2,0-1"])
    def test_it_sends_the_whole_file_when_several_ranges_are_asked_for(self, header: str) -> None:
        assert_full(serve(header))


class TestRanges:
    @pytest.mark.parametrize(
        ("header", "first", "last"),
        [
            ("bytes=10-19", 10, 19),
            ("bytes=0-0", 0, 0),
            ("bytes=1023-1023", 1023, 1023),
            ("bytes=1000-", 1000, 1023),
            ("bytes=0-", 0, 1023),
            ("bytes=-24", 1000, 1023),
            ("Bytes=10-19", 10, 19),
            ("bytes= 10-19 ,", 10, 19),
        ],
    )
    def test_it_sends_just_the_range(self, header: str, first: int, last: int) -> None:
        served = serve(header)

        assert_partial(served, first, last)
        assert served.headers["Accept-Ranges"] == "bytes"
        assert served.headers["Cache-Control"] == "private, max-age=3600"
        assert served.file.closed

    def test_it_clamps_a_range_that_ends_beyond_the_file(self) -> None:
        assert_partial(serve("bytes=1000-5000"), 1000, 1023)

    def test_it_clamps_a_suffix_longer_than_the_file(self) -> None:
        assert_partial(serve("bytes=-5000"), 0, 1023)

    def test_it_sends_a_range_across_chunk_boundaries(self) -> None:
        first, last = CHUNK_SIZE - 7, 2 * CHUNK_SIZE + 7

        served = serve(f"bytes={first}-{last}", data=BIG)

        assert_partial(served, first, last, BIG)
        assert [len(chunk) for chunk in served.chunks] == [CHUNK_SIZE, 15]

    @pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=5-2", "bytes=-0"])
    def test_it_answers_416_to_an_unsatisfiable_range(self, header: str) -> None:
        served = serve(header)

        assert_unsatisfiable(served)
        assert served.headers["Accept-Ranges"] == "bytes"

    @pytest.mark.parametrize("header", ["bytes=0-", "bytes=0-0", "bytes=-1"])
    def test_it_answers_416_to_any_range_of_an_empty_file(self, header: str) -> None:
        assert_unsatisfiable(serve(header, data=b""), size=0)

    def test_it_stops_short_when_the_file_shrank(self) -> None:
        request = RequestFactory().get("/video", headers={"Range": "bytes=1000-"})
        response = ranged_response(request, io.BytesIO(DATA[:1010]), size=len(DATA), content_type="video/mp4")

        assert isinstance(response, StreamingHttpResponse)
        assert b"".join(response.streaming_content) == DATA[1000:1010]  # type: ignore[arg-type]


class TestIfRange:
    @pytest.mark.parametrize("etag", ["v1", '"v1"'])
    def test_it_honours_a_range_when_if_range_is_the_current_etag(self, etag: str) -> None:
        served = serve("bytes=10-19", etag=etag, headers={"If-Range": '"v1"'})

        assert_partial(served, 10, 19)
        assert served.headers["ETag"] == '"v1"'

    @pytest.mark.parametrize("if_range", ['"v0"', 'W/"v1"', "v1", "Wed, 21 Oct 2015 07:28:00 GMT"])
    def test_it_sends_the_whole_file_when_if_range_does_not_match(self, if_range: str) -> None:
        served = serve("bytes=10-19", etag="v1", headers={"If-Range": if_range})

        assert_full(served)
        assert served.headers["ETag"] == '"v1"'

    def test_it_sends_the_whole_file_for_a_weak_etag(self) -> None:
        assert_full(serve("bytes=10-19", etag='W/"v1"', headers={"If-Range": 'W/"v1"'}))

    def test_it_sends_the_whole_file_when_there_is_no_etag_to_compare(self) -> None:
        assert_full(serve("bytes=10-19", headers={"If-Range": '"v1"'}))


class TestHead:
    def test_it_answers_with_headers_only_and_without_reading(self) -> None:
        served = serve(method="head", etag="v1", filename="clip.mp4")

        assert served.status == 200
        assert served.body == b""
        assert served.headers["Content-Length"] == "1024"
        assert served.headers["Accept-Ranges"] == "bytes"
        assert served.headers["ETag"] == '"v1"'
        assert served.headers["Content-Disposition"] == 'inline; filename="clip.mp4"'
        assert served.file.reads == 0
        assert served.file.closed

    def test_it_ignores_a_range(self) -> None:
        # RFC 9110 defines range handling for GET only; HEAD describes the whole GET response.
        served = serve("bytes=10-19", method="head")

        assert served.status == 200
        assert served.body == b""
        assert served.headers["Content-Length"] == "1024"
        assert "Content-Range" not in served.headers
        assert served.file.reads == 0


class TestContentDisposition:
    def test_it_names_a_download_with_a_non_ascii_filename(self) -> None:
        served = serve(filename="vidéo d'été.mp4", as_attachment=True)

        assert_full(served)
        assert (
            served.headers["Content-Disposition"]
            == "attachment; filename*=utf-8''vid%C3%A9o%20d%27%C3%A9t%C3%A9.mp4"
        )

    def test_it_names_an_inline_range(self) -> None:
        served = serve("bytes=0-9", filename="clip.mp4")

        assert_partial(served, 0, 9)
        assert served.headers["Content-Disposition"] == 'inline; filename="clip.mp4"'

    def test_it_marks_an_unnamed_download_as_an_attachment(self) -> None:
        assert serve(as_attachment=True).headers["Content-Disposition"] == "attachment"


class TestClosing:
    def test_it_closes_the_file_when_the_response_is_closed_unsent(self) -> None:
        request = RequestFactory().get("/video", headers={"Range": "bytes=10-19"})
        fileobj = TrackedFile(DATA)
        response = ranged_response(request, fileobj, size=len(DATA), content_type="video/mp4")

        response.close()

        assert fileobj.closed
        assert fileobj.reads == 0

    def test_it_closes_the_file_when_given_a_negative_size(self) -> None:
        request = RequestFactory().get("/video")
        fileobj = TrackedFile(DATA)

        with pytest.raises(ValueError, match="negative"):
            ranged_response(request, fileobj, size=-1, content_type="video/mp4")
        assert fileobj.closed
