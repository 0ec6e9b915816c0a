"""Downloading the videos ticked in the gallery as one zip, streamed while it is made."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from typing import Any

from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sorastudio.studio.gallery import CHUNK_SIZE
from sorastudio.studio.models import Generation, State
from sorastudio.teams.models import Team
from tests.helpers import TeamTestCase, read_body

URL = reverse("studio:download_zip")


class ZipTests(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.bob)
        # Several chunks each, and different bytes, so that a mixed-up or cut entry shows.
        self.boat = self.finished("A paper boat in the rain", size=3 * CHUNK_SIZE + 123)
        self.same = self.finished("A paper boat in the rain", size=CHUNK_SIZE // 2)
        self.fox = self.finished("A fox in the snow", size=5000, model="sora-2-pro", duration=25)

    def finished(self, prompt: str, *, size: int, team: Team | None = None, **fields: Any) -> Generation:
        data = os.urandom(size)
        video = Generation.objects.create(
            team=team or self.studio,
            created_by=self.alice,
            prompt=prompt,
            model=fields.pop("model", "sora-2"),
            duration=fields.pop("duration", 10),
            state=State.SUCCEEDED,
            finished_at=timezone.now(),
            sha256=hashlib.sha256(data).hexdigest(),
            size_bytes=size,
            **fields,
        )
        video.video.save("v.mp4", ContentFile(data))
        return video

    def download(self, *videos: Generation, client: Client | None = None) -> Any:
        return (client or self.client).post(URL, {"ids": [v.pk for v in videos]})

    def test_it_holds_each_chosen_video_under_its_download_name(self) -> None:
        response = self.download(self.fox, self.boat, self.same)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertRegex(
            response["Content-Disposition"], r'^attachment; filename="sora-studio-\d{4}-\d\d-\d\d\.zip"$'
        )
        archive = zipfile.ZipFile(io.BytesIO(read_body(response)))
        self.assertIsNone(archive.testzip())
        # Newest first, as in the gallery; the second of two equal names is numbered.
        self.assertEqual(
            archive.namelist(),
            [
                "a-fox-in-the-snow-sora-2-pro-25s.mp4",
                "a-paper-boat-in-the-rain-sora-2-10s.mp4",
                "a-paper-boat-in-the-rain-sora-2-10s-2.mp4",
            ],
        )
        for entry, video in zip(archive.infolist(), (self.fox, self.same, self.boat), strict=True):
            with self.subTest(entry=entry.filename):
                data = archive.read(entry)
                self.assertEqual(hashlib.sha256(data).hexdigest(), video.sha256)
                with video.video.open("rb") as stored:
                    self.assertEqual(data, stored.read())
                self.assertEqual(entry.compress_type, zipfile.ZIP_STORED)

    def test_it_is_streamed_a_chunk_at_a_time(self) -> None:
        response = self.download(self.boat, self.fox)
        self.assertTrue(response.streaming)
        self.assertFalse(response.has_header("Content-Length"))
        chunks = [bytes(chunk) for chunk in response.streaming_content]
        # The biggest piece sent at once is one chunk of a video and a little zip bookkeeping: never a
        # whole video, never the whole archive.
        self.assertGreaterEqual(len(chunks), 5)
        self.assertLess(max(map(len, chunks)), CHUNK_SIZE + 1024)
        self.assertEqual(len(zipfile.ZipFile(io.BytesIO(b"".join(chunks))).namelist()), 2)

    def test_any_id_that_is_not_one_of_the_teams_visible_videos_is_404(self) -> None:
        theirs = self.finished("Agency's film", size=100, team=self.agency)
        trashed = self.finished("An old draft", size=100)
        trashed.soft_delete(self.alice)
        for other in (theirs.pk, trashed.pk, "7d1e0c3a-0000-4000-8000-000000000000", "not-an-id"):
            with self.subTest(other=other):
                response = self.client.post(URL, {"ids": [self.boat.pk, other]})
                self.assertEqual(response.status_code, 404)
        self.assertEqual(self.download(self.boat, client=self.as_carol()).status_code, 404)

    def as_carol(self) -> Client:
        client = Client()
        client.force_login(self.carol)
        return client

    def test_it_leaves_out_videos_that_are_not_ready(self) -> None:
        failed = Generation.objects.create(
            team=self.studio,
            created_by=self.alice,
            prompt="Refused",
            model="sora-2",
            duration=10,
            state=State.FAILED,
        )
        archive = zipfile.ZipFile(io.BytesIO(read_body(self.download(self.fox, failed))))
        self.assertEqual(archive.namelist(), ["a-fox-in-the-snow-sora-2-pro-25s.mp4"])

        response = self.download(failed)
        self.assertRedirects(response, reverse("studio:index"))
        said = [str(m) for m in get_messages(response.wsgi_request)]
        self.assertEqual(said, ["None of the chosen videos is ready to download yet."])

    def test_nothing_ticked_goes_back_with_a_message(self) -> None:
        response = self.client.post(URL, headers={"Referer": "http://testserver/?q=fox"})
        self.assertRedirects(response, "http://testserver/?q=fox", fetch_redirect_response=False)
        self.assertEqual(
            [str(m) for m in get_messages(response.wsgi_request)], ["Tick one or more videos first."]
        )

    def test_only_a_post_downloads(self) -> None:
        self.assertEqual(self.client.get(URL, {"ids": [str(self.boat.pk)]}).status_code, 405)
