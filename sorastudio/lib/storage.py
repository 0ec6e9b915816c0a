"""Reading and writing the studio's media (videos, posters, reference images, character clips) on whichever
storage ``STORAGES["default"]`` names: the local disk, or an S3-compatible bucket (``S3_BUCKET``).

Every stored file reaches a browser or the upstream through one of the studio's own views, which check the
team (or a signed link) and answer Range requests with ``ranged.ranged_response``, on S3 as on disk. The
alternative on S3, redirecting to a presigned bucket URL, was not taken: the bucket would have to be
reachable from every browser under the same name the workers use (MinIO inside a compose network is not),
the Content Security Policy would have to allow it, and a presigned URL is a bearer link that ends up in
browser history and proxy logs. Streaming through costs web threads while a video plays; the gthread
workers of ``gunicorn.conf.py`` are sized for that.

Reading an object through django-storages' own ``S3File`` downloads all of it before the first byte comes
back (into memory, with the default ``AWS_S3_MAX_MEMORY_SIZE``); ``open_stored`` instead asks S3 for the
bytes from the position read, so seeking in a long video or zipping many of them never holds one whole.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from storages.backends.s3 import S3Storage
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFiles(CompressedManifestStaticFilesStorage):  # type: ignore[misc]  # whitenoise has no types
    """Static files compressed and under hashed names once collectstatic has run. Before, under their own
    names, served from the source folders (settings.WHITENOISE_USE_FINDERS): a fresh checkout's pages work
    instead of failing on a missing manifest."""

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            return name
        return str(super().stored_name(name))


def on_s3() -> bool:
    return isinstance(default_storage, S3Storage)


def open_stored(name: str) -> IO[bytes]:
    """A seekable, read-only file of the stored ``name``; FileNotFoundError if there is none."""
    if on_s3():
        obj = default_storage.bucket.Object(default_storage._normalize_name(name))  # type: ignore[attr-defined]
        try:
            size = int(obj.content_length)  # one HEAD request
        except Exception as exc:
            if _is_missing(exc):
                raise FileNotFoundError(f"no stored file {name}") from None
            raise
        return io.BufferedReader(_S3Reader(obj, size), buffer_size=256 * 1024)
    return default_storage.open(name, "rb")


def store_file(name: str, path: Path) -> str:
    """Store the local file at ``path`` as ``name`` and return the stored name.

    It never deletes or replaces what is stored: callers give each write a name of its own (an archive
    attempt's names carry a random part), so a slow writer cannot remove another's file. Should ``name``
    be taken after all, the storage picks a free name beside it (on S3 too: `file_overwrite` is off)."""
    with path.open("rb") as fh:
        if isinstance(default_storage, FileSystemStorage):
            # FileSystemStorage moves a temporary file into place with one rename: no reader ever sees a
            # half-written video. (A moved file is gone; a copied one is removed by the caller.)
            return default_storage.save(name, _TempFile(fh, name=str(path)))
        # S3 uploads the open file in parts (s3transfer's multipart upload), never all of it in memory,
        # and the object appears only once the upload completes.
        return default_storage.save(name, File(fh, name=os.path.basename(name)))


class _TempFile(File[bytes]):
    def temporary_file_path(self) -> str:
        return str(self.name)


def _is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    return str(response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}


class _S3Reader(io.RawIOBase):
    """An S3 object read with ranged GETs: a seek costs nothing, the first read after it opens one streamed
    ``GET`` with ``Range: bytes=<position>-`` that the following reads continue."""

    def __init__(self, obj: Any, size: int) -> None:
        super().__init__()
        self._obj = obj
        self._size = size
        self._position = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        position = max(0, base + offset)
        if position != self._position:
            self._drop_body()
            self._position = position
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self._position >= self._size or len(buffer) == 0:
            return 0
        if self._body is None:
            self._body = self._obj.get(Range=f"bytes={self._position}-")["Body"]
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        self._drop_body()
        super().close()

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
