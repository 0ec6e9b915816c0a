"""Reference images made to fit a video's frame: version 2.0 takes one image and wants it at the video's exact
pixel size, so an upload of another shape is cropped (around its centre) or padded (black bars) to it."""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import IO, TYPE_CHECKING, Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The keys are the form's values; the labels are shown beside the radio buttons.
FIT_MODES: dict[str, StrOrPromise] = {
    "crop": _("Crop to fill the frame"),
    "pad": _("Pad with black bars"),
    "none": _("Leave as is"),
}
DEFAULT_FIT = "crop"
PAD_COLOUR = (0, 0, 0)
JPEG_QUALITY = 92


def image_size(file: IO[bytes]) -> tuple[int, int]:
    """The (width, height) an image shows at, after its EXIF rotation."""
    file.seek(0)
    with Image.open(file) as image:
        width, height = image.size
        if image.getexif().get(0x0112) in (5, 6, 7, 8):  # rotated by a quarter turn
            width, height = height, width
    file.seek(0)
    return width, height


def fit(image: Image.Image, width: int, height: int, mode: str) -> Image.Image:
    """`image` at exactly width x height: cropped around its centre to that shape, or letterboxed in black.
    With mode "none" the image is returned unchanged."""
    if mode == "none":
        return image
    image = ImageOps.exif_transpose(image)
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if transparent else "RGB")
    if mode == "crop":
        return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    if mode == "pad":
        colour = (*PAD_COLOUR, 255) if transparent else PAD_COLOUR
        return ImageOps.pad(
            image, (width, height), Image.Resampling.LANCZOS, color=colour, centering=(0.5, 0.5)
        )
    raise ValueError(f"unknown fit {mode!r}; use one of {', '.join(FIT_MODES)}")


def fit_image(file: Any, width: int, height: int, mode: str) -> Any:
    """An uploaded image made to fit width x height (see `fit`), as a new upload: a JPEG stays a JPEG, any
    other kind becomes a PNG. The upload itself comes back when there is nothing to do: mode "none", or
    an image already exactly that size."""
    if mode not in FIT_MODES:
        raise ValueError(f"unknown fit {mode!r}; use one of {', '.join(FIT_MODES)}")
    if mode == "none" or image_size(file) == (width, height):
        file.seek(0)
        return file
    file.seek(0)
    with Image.open(file) as original:
        jpeg = original.format == "JPEG"
        fitted = fit(original, width, height, mode)
        buffer = io.BytesIO()
        if jpeg:
            fitted.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        else:
            fitted.save(buffer, format="PNG")
    file.seek(0)
    stem = PurePath(getattr(file, "name", "") or "image").stem or "image"
    extension, content_type = ("jpg", "image/jpeg") if jpeg else ("png", "image/png")
    return SimpleUploadedFile(
        f"{stem}-{mode}-{width}x{height}.{extension}", buffer.getvalue(), content_type=content_type
    )
