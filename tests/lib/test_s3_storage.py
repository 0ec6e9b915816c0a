"""Media on an S3-compatible store: a job archived into a bucket, played with Range requests, zipped, served
to the upstream as a signed clip link, and purged. The bucket is a real S3 API (moto's server) on loopback."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import boto3
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from moto.server import ThreadedMotoServer

from sorastudio.lib import storage
from sorastudio.pipeline import tasks
from sorastudio.studio import characters
from sorastudio.studio.models import Generation, GenerationImage, State
from tests.helpers import TeamTestCase, make_finished, make_job, read_body

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "studio-media"
KEYS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret"}


class S3TestCase(TeamTestCase):
    server: ClassVar[ThreadedMotoServer]
    endpoint: ClassVar[str]
    s3: ClassVar[Any]
    storage_override: ClassVar[override_settings]

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        cls.server.start()
        host, port = cls.server.get_host_and_port()
        cls.endpoint = f"http://{host}:{port}"
        cls.s3 = boto3.client(
            "s3",
            endpoint_url=cls.endpoint,
            region_name="us-east-1",
            aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
        )
        cls.s3.create_bucket(Bucket=BUCKET)
        options = {
            "bucket_name": BUCKET,
            "endpoint_url": cls.endpoint,
            "region_name": "us-east-1",
            "access_key": KEYS["AWS_ACCESS_KEY_ID"],
            "secret_key": KEYS["AWS_SECRET_ACCESS_KEY"],
            "addressing_style": "path",
            "querystring_auth": True,
            "file_overwrite": False,
            "max_memory_size": 2 * 1024 * 1024,
        }
        cls.storage_override = override_settings(
            STORAGES={
                "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            }
        )
        cls.storage_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.storage_override.disable()
        cls.server.stop()

    def setUp(self) -> None:
        self.assertTrue(storage.on_s3())

    def keys(self) -> set[str]:
        return {item["Key"] for item in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}

    def stored(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def archived_job(self) -> Generation:
        generation = make_job(self.studio, self.alice, "A paper boat in the rain")
        tasks.start(generation)  # the queue runs in-process: submit, then archive
        generation.refresh_from_db()
        self.assertEqual(generation.state, State.SUCCEEDED, generation.error_message)
        return generation


class ArchiveTests(S3TestCase):
    def test_it_archives_plays_seeks_and_purges_a_video_in_the_bucket(self) -> None:
        job = self.archived_job()
        video_name, poster_name = str(job.video.name), str(job.poster.name)
        names = {video_name, poster_name}
        self.assertTrue(video_name.startswith(f"videos/{self.studio.pk}/{job.pk}-"), video_name)
        self.assertTrue(poster_name.startswith(f"posters/{self.studio.pk}/{job.pk}-"), poster_name)
        self.assertLessEqual(names, self.keys())
        video = self.stored(video_name)
        self.assertEqual(hashlib.sha256(video).hexdigest(), job.sha256)
        self.assertEqual(job.size_bytes, len(video))
        self.assertFalse((Path(settings.MEDIA_ROOT) / "videos").exists())  # nothing went to the local disk

        self.client.force_login(self.alice)
        url = reverse("studio:video", args=[job.pk])
        whole = self.client.get(url)
        self.assertEqual(whole.status_code, 200)
        self.assertEqual(read_body(whole), video)
        middle = self.client.get(url, headers={"Range": "bytes=1000-1999"})
        self.assertEqual(middle.status_code, 206)
        self.assertEqual(middle["Content-Range"], f"bytes 1000-1999/{len(video)}")
        self.assertEqual(read_body(middle), video[1000:2000])
        tail = self.client.get(url, headers={"Range": "bytes=-100"})
        self.assertEqual(read_body(tail), video[-100:])
        poster = self.client.get(reverse("studio:poster", args=[job.pk]))
        self.assertEqual(read_body(poster), self.stored(poster_name))

        # Another team's admin gets nothing out of the bucket.
        self.client.force_login(self.carol)
        self.assertEqual(self.client.get(url, headers={"Range": "bytes=0-99"}).status_code, 404)

        job.soft_delete(self.alice)
        Generation.objects.filter(pk=job.pk).update(deleted_at=timezone.now() - timedelta(days=365))
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(Generation.objects.purge_expired(), 1)
        self.assertFalse(names & self.keys())

    def test_it_zips_videos_read_from_the_bucket(self) -> None:
        first, second = self.archived_job(), self.archived_job()
        self.client.force_login(self.alice)
        response = self.client.post(reverse("studio:download_zip"), {"ids": [first.pk, second.pk]})
        self.assertEqual(response.status_code, 200)
        with zipfile.ZipFile(io.BytesIO(read_body(response))) as archive:
            contents = sorted(archive.read(name) for name in archive.namelist())
        expected = sorted(self.stored(str(job.video.name)) for job in (first, second))
        self.assertEqual(contents, expected)

    def test_storing_never_replaces_or_deletes_what_is_there(self) -> None:
        # Two writers of one name (a stale archiver and the one that took over, before names were per
        # attempt) must not remove each other's file.
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "video.mp4"
            path.write_bytes(b"first run")
            self.assertEqual(storage.store_file("videos/t/job.mp4", path), "videos/t/job.mp4")
            path.write_bytes(b"second run")
            second = storage.store_file("videos/t/job.mp4", path)
        self.assertNotEqual(second, "videos/t/job.mp4")
        self.assertEqual(self.stored("videos/t/job.mp4"), b"first run")
        self.assertEqual(self.stored(second), b"second run")


class SeedDemoTests(S3TestCase):
    def test_the_demo_videos_are_made_into_the_bucket(self) -> None:
        call_command("seed_demo", "--videos", "1", stdout=io.StringIO())
        made = Generation.objects.filter(
            state=State.SUCCEEDED, created_by__username__in=["alice", "bob", "dana"]
        )
        self.assertTrue(made.exists())
        for job in made:
            self.assertIn(str(job.video.name), self.keys())


class ClipTests(S3TestCase):
    def test_it_serves_a_stored_clip_to_the_upstream_by_its_signed_link_with_ranges(self) -> None:
        clip = bytes(range(256)) * 64
        name = characters.store_clip(ContentFile(clip, name="hero.mp4"))
        self.assertIn(name, self.keys())
        response = self.client.get(characters.clip_path(name), headers={"Range": "bytes=256-511"})
        self.assertEqual(response.status_code, 206)
        self.assertEqual(read_body(response), clip[256:512])
        # Another upload under the same name is kept beside it, never over it (AWS_S3_FILE_OVERWRITE=False).
        again = characters.store_clip(ContentFile(b"other", name="hero.mp4"))
        self.assertNotEqual(again, name)
        self.assertEqual(self.stored(name), clip)


class ReferenceImageTests(S3TestCase):
    def test_an_uploaded_reference_image_is_kept_in_the_bucket_and_served_by_its_links(self) -> None:
        job = make_finished(self.studio, self.alice)
        png = b"\x89PNG\r\n\x1a\n" + bytes(2000)
        image = GenerationImage(generation=job, position=0, content_type="image/png")
        image.file.save("sketch.png", ContentFile(png))
        self.assertIn(image.file.name, self.keys())
        # The upstream's signed link, without a login.
        path = urlsplit(image.public_url()).path
        self.assertEqual(read_body(self.client.get(path)), png)
        # The team's own page.
        self.client.force_login(self.bob)
        url = reverse("studio:upload_image", args=[job.pk, image.pk])
        self.assertEqual(read_body(self.client.get(url, headers={"Range": "bytes=8-"})), png[8:])
        # Inline for the APIs that take base64.
        self.assertTrue(job.reference_images(inline=True)[0].startswith("data:image/png;base64,"))


class ReaderTests(S3TestCase):
    def test_it_reads_only_from_where_it_was_asked_and_reports_a_missing_object(self) -> None:
        self.s3.put_object(Bucket=BUCKET, Key="videos/x.bin", Body=b"0123456789" * 100)
        with storage.open_stored("videos/x.bin") as fh:
            fh.seek(995)
            self.assertEqual(fh.read(), b"56789")
            fh.seek(10)
            self.assertEqual(fh.read(5), b"01234")
            fh.seek(2000)
            self.assertEqual(fh.read(), b"")
        with self.assertRaises(FileNotFoundError):
            storage.open_stored("videos/none.bin")


def _settings_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter with this environment (and no other S3 variable)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
    code = "import sorastudio.settings as s; print(s.STORAGES['default']['BACKEND'])"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


class SettingsTests(TeamTestCase):
    def test_a_bucket_with_its_keys_switches_media_to_s3(self) -> None:
        done = _settings_with({"S3_BUCKET": "media", **KEYS, "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9"})
        self.assertEqual(done.stdout.strip(), "storages.backends.s3.S3Storage", done.stderr)
        done = _settings_with({})
        self.assertEqual(done.stdout.strip(), "django.core.files.storage.FileSystemStorage", done.stderr)

    def test_it_refuses_half_an_s3_configuration(self) -> None:
        for env, says in (
            ({"S3_BUCKET": "media"}, "S3_BUCKET needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            ({"S3_BUCKET": "media", "AWS_ACCESS_KEY_ID": "k"}, "needs AWS_ACCESS_KEY_ID and AWS_SECRET"),
            ({"AWS_S3_ENDPOINT_URL": "http://minio:9000"}, "S3_BUCKET is not"),
            ({"S3_BUCKET": "media", **KEYS, "AWS_S3_ENDPOINT_URL": "minio:9000"}, "must be an http(s)"),
            (
                {"S3_BUCKET": "media", **KEYS, "AWS_S3_ADDRESSING_STYLE": "sideways"},
                "AWS_S3_ADDRESSING_STYLE",
            ),
        ):
            done = _settings_with(env)
            self.assertNotEqual(done.returncode, 0, env)
            self.assertIn("ImproperlyConfigured", done.stderr)
            self.assertIn(says, done.stderr)
