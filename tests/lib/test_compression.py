"""Compression: pages go out gzipped to a browser that accepts it (issue #6's page weight is measured over the
wire, and gunicorn is the documented front server); streamed files go out as they are stored."""

from __future__ import annotations

import gzip

from django.urls import reverse

from tests.helpers import TeamTestCase, make_finished

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


class CompressionTests(TeamTestCase):
    def setUp(self) -> None:
        self.video = make_finished(self.studio, self.alice, "A lighthouse in the rain")
        self.client.force_login(self.alice)

    def test_it_gzips_the_gallery_for_a_browser_that_accepts_it(self) -> None:
        response = self.client.get(reverse("studio:index"), headers=GZIP)
        self.assertEqual(response["Content-Encoding"], "gzip")
        self.assertIn("Accept-Encoding", response["Vary"])
        page = gzip.decompress(response.content).decode()
        self.assertIn("A lighthouse in the rain", page)
        self.assertLess(len(response.content), len(page) / 3)

    def test_it_sends_the_page_as_it_is_to_a_client_that_does_not(self) -> None:
        response = self.client.get(reverse("studio:index"))
        self.assertFalse(response.has_header("Content-Encoding"))
        self.assertContains(response, "A lighthouse in the rain")

    def test_it_streams_a_video_as_stored_with_its_length_and_ranges(self) -> None:
        url = reverse("studio:video", args=[self.video.pk])
        stored = self.video.video.open("rb").read()
        whole = self.client.get(url, headers=GZIP)
        self.assertFalse(whole.has_header("Content-Encoding"))
        self.assertEqual(whole["Content-Length"], str(len(stored)))
        self.assertEqual(b"".join(whole.streaming_content), stored)  # type: ignore[attr-defined]
        part = self.client.get(url, headers={**GZIP, "Range": "bytes=4-11"})
        self.assertEqual(part.status_code, 206)
        self.assertFalse(part.has_header("Content-Encoding"))
        self.assertEqual(b"".join(part.streaming_content), stored[4:12])  # type: ignore[attr-defined]

    def test_it_streams_a_poster_as_stored(self) -> None:
        response = self.client.get(reverse("studio:poster", args=[self.video.pk]), headers=GZIP)
        self.assertFalse(response.has_header("Content-Encoding"))
        self.assertEqual(b"".join(response.streaming_content), self.video.poster.open("rb").read())  # type: ignore[attr-defined]
