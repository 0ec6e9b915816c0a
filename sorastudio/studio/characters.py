"""Characters from a clip: checking an uploaded clip, keeping it in the studio's storage, handing it to the
video service as a signed link (AceDataCloud only takes addresses), and the team's saved characters.

An uploaded clip is stored once under ``characters/`` and shared by every job of a submit and by the saved
character made from it. The upstream fetches it from ``/clips/<token>``: the token signs the file's storage
name and expires after a week, like the reference images' links.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import av
from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext

from sorastudio.lib import media, storage
from sorastudio.lib.ranged import ranged_response
from sorastudio.teams.models import Team

from .models import Character

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CLIP_MAX_BYTES = 50 * 1024 * 1024
CLIP_MAX_SECONDS = 60
CLIP_LINK_SECONDS = 7 * 24 * 3600
CLIP_FOLDER = "characters/"
_SALT = "character-clip"

# What a clip may be: the file's extension, the container FFmpeg must find in it, the type it is served as.
CLIP_TYPES: dict[str, tuple[str, str]] = {
    ".mp4": ("mp4", "video/mp4"),
    ".m4v": ("mp4", "video/mp4"),
    ".mov": ("mov", "video/quicktime"),
    ".webm": ("webm", "video/webm"),
}
CLIP_ACCEPT = "video/mp4,video/webm,video/quicktime,.mp4,.m4v,.mov,.webm"


# --- Checking an upload -----------------------------------------------------------------------------------


def check_clip(upload: UploadedFile) -> float:
    """Accept an MP4, WebM or MOV video of at most 60 seconds and 50 MB; return its length in seconds.
    Say plainly what is wrong otherwise."""
    name = upload.name or gettext("the file")
    extension = PurePosixPath(name).suffix.lower()
    if upload.size and upload.size > CLIP_MAX_BYTES:
        raise ValidationError(
            gettext("%(name)s is larger than %(most)s MB. Use a shorter or smaller clip.")
            % {"name": name, "most": CLIP_MAX_BYTES // (1024 * 1024)}
        )
    if extension not in CLIP_TYPES:
        raise ValidationError(
            gettext("%(name)s is not an MP4, WebM or MOV video. Use a clip in one of those formats.")
            % {"name": name}
        )
    family = CLIP_TYPES[extension][0]
    with _on_disk(upload) as path:
        try:
            info = media.probe_video(path)
            container = _container(path)
        except (media.NotAVideo, av.FFmpegError):
            raise ValidationError(
                gettext(
                    "%(name)s is not a video we can read, or it is damaged. Use an MP4, WebM or MOV clip."
                )
                % {"name": name}
            ) from None
    if family not in container:
        raise ValidationError(
            gettext(
                "%(name)s is named %(extension)s but holds another kind of video. "
                "Save it again as MP4, WebM or MOV."
            )
            % {"name": name, "extension": extension}
        )
    if info.duration > CLIP_MAX_SECONDS:
        raise ValidationError(
            gettext(
                "%(name)s lasts %(length).0f seconds; use a clip of at most %(most)s seconds "
                "(only 1 to 3 seconds of it are used)."
            )
            % {"name": name, "length": info.duration, "most": CLIP_MAX_SECONDS}
        )
    upload.seek(0)
    return info.duration


@contextmanager
def _on_disk(upload: UploadedFile) -> Iterator[str]:
    """The upload as a file FFmpeg can open: big uploads already are one, small ones stay in memory."""
    path = getattr(upload, "temporary_file_path", None)
    if path is not None:
        yield path()
        return
    with tempfile.NamedTemporaryFile(suffix=".clip") as tmp:
        upload.seek(0)
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        yield tmp.name
    upload.seek(0)


def _container(path: str) -> str:
    """FFmpeg's names for the container format, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm"."""
    with av.open(os.path.abspath(path), mode="r") as container:
        return str(container.format.name)


# --- Storing and linking ----------------------------------------------------------------------------------


def store_clip(upload: File[bytes]) -> str:
    """Keep the clip in the studio's storage; return its storage name."""
    path = PurePosixPath(upload.name or "clip.mp4")
    stem = get_valid_filename(path.stem)[:60] or "clip"
    # The same folders as Character.clip's upload_to.
    folder = timezone.now().strftime(f"{CLIP_FOLDER}%Y/%m/")
    upload.seek(0)
    return default_storage.save(f"{folder}{stem}{path.suffix.lower()}", upload)


def clip_path(name: str) -> str:
    """The studio-relative path of a stored clip's signed link."""
    return reverse("character_clip", args=[signing.dumps(name, salt=_SALT)])


def clip_url(name: str) -> str:
    """A signed address the video service can fetch a stored clip from."""
    base = settings.PUBLIC_BASE_URL or settings.SIMULATOR_BASE_URL
    return base + clip_path(name)


def clip_named_by(token: str) -> str | None:
    """The stored clip a signed link names, or None when the link is forged or older than a week."""
    try:
        name = signing.loads(token, salt=_SALT, max_age=CLIP_LINK_SECONDS)
    except signing.BadSignature:
        return None
    return name if isinstance(name, str) else None


def serve_clip(request: HttpRequest, name: str) -> HttpResponseBase:
    """A stored clip, with Range support so that a player can seek in it."""
    if (
        not name.startswith(CLIP_FOLDER)
        or ".." in PurePosixPath(name).parts
        or not default_storage.exists(name)
    ):
        raise Http404("no such clip")
    content_type = CLIP_TYPES.get(PurePosixPath(name).suffix.lower(), ("", "application/octet-stream"))[1]
    return ranged_response(
        request, storage.open_stored(name), size=default_storage.size(name), content_type=content_type
    )


# --- Saved characters -------------------------------------------------------------------------------------


def saved(team: Team | None) -> list[Character]:
    """The team's characters, by name."""
    if team is None:
        return []
    return list(Character.objects.filter(team=team).order_by("name"))


def find(team: Team | None, pk: str) -> Character | None:
    """The team's character with this id; None for an unknown id or another team's character."""
    if team is None:
        return None
    try:
        return Character.objects.filter(team=team, pk=pk).first()
    except ValidationError:  # not a UUID
        return None


def name_taken(team: Team | None, name: str) -> bool:
    return team is not None and Character.objects.filter(team=team, name__iexact=name).exists()


def name_taken_message(name: str) -> str:
    return gettext(
        "Your team already has a character called “%(name)s”. Choose another name, "
        "or pick it under “Use a saved character”."
    ) % {"name": name}


def attach(form: forms.Form, *, team: Team, user: User) -> dict[str, Any] | None:
    """After the form is valid: store an uploaded clip and save the character under its name if one was
    given. Returns the jobs' extra parameters, or None (with the reason on the form) when the name was
    taken in the meantime."""
    data = form.cleaned_data
    upload = data.get("character_clip")
    stored = store_clip(upload) if upload else data.get("character_stored") or ""
    params: dict[str, Any] = {"character_clip": stored}
    name = data.get("character_name") or ""
    if name and (stored or data.get("character_url")):
        try:
            with transaction.atomic():
                params["character"] = Character.objects.create(
                    team=team,
                    name=name,
                    clip_url="" if stored else data["character_url"],
                    clip=stored,
                    start=data["character_start"],
                    end=data["character_end"],
                    created_by=user,
                )
        except IntegrityError:
            if upload:
                default_storage.delete(stored)
            form.add_error("character_name", name_taken_message(name))
            return None
    return params
