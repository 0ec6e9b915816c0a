"""Uploads are counted and measured before anything is decoded, and a body larger than the studio takes is
refused before it is read: one setting, REQUEST_MAX_MB, for Django, the studio's own check and the README."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from PIL import Image, ImageFile

from sorastudio.lib import capabilities
from sorastudio.studio import characters, forms
from sorastudio.studio.models import Generation
from tests.helpers import V2, VALID, TeamTestCase, banded, encoded, png_claiming, upload

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
MULTIPART = "multipart/form-data; boundary=edge"


def most_images() -> int:
    return max(cap.max_images for cap in capabilities.CAPABILITIES.values())


class Unreadable:
    """A request body that counts every attempt to read it."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, *args: Any) -> bytes:
        self.reads += 1
        return b"x" * 65536

    def readline(self, *args: Any) -> bytes:
        return self.read()


def decodes() -> Any:
    """Every decode of an image's pixels (Image.load), counted; it still decodes."""
    return mock.patch.object(ImageFile.ImageFile, "load", autospec=True, side_effect=ImageFile.ImageFile.load)


class ImageOrderTests(TeamTestCase):
    def setUp(self) -> None:
        self.client.force_login(self.alice)

    def post(self, data: dict[str, Any], files: list[Any]) -> Any:
        return self.client.post(
            reverse("studio:generate"), {**data, "images": files}, headers={"HX-Request": "true"}
        )

    def test_it_counts_the_images_before_decoding_any(self) -> None:
        small = encoded(banded(40, 30))
        for data, count, message in (
            (VALID, 5, "Use at most 4 reference images."),
            (VALID, 100, "Use at most 4 reference images."),
            (V2, 2, "Version 2.0 uses a single reference image."),
        ):
            with self.subTest(count=count, version=data["version"]), decodes() as load:
                response = self.post(data, [upload(f"{n}.png", small) for n in range(count)])
                self.assertIn(message, " ".join(response.context["form"].errors["images"]))
                load.assert_not_called()
        self.assertFalse(Generation.objects.exists())

    def test_it_measures_every_image_before_opening_any(self) -> None:
        small = encoded(banded(40, 30))
        big = png_claiming(40, 30) + b"\0" * (10 * MB)
        with mock.patch.object(Image, "open", wraps=Image.open) as opened:
            response = self.post(VALID, [upload("small.png", small), upload("big.png", big)])
        self.assertEqual(
            response.context["form"].errors["images"], ["big.png is larger than 10 MB. Use a smaller image."]
        )
        opened.assert_not_called()

    def test_the_pixels_are_capped_from_the_header_before_decoding(self) -> None:
        with decodes() as load:
            response = self.post(VALID, [upload("poster.png", png_claiming(8000, 6000))])
        self.assertIn("8000 × 6000 pixels", " ".join(response.context["form"].errors["images"]))
        load.assert_not_called()

    def test_images_few_and_small_enough_are_decoded_and_their_problems_shown_beside_the_field(self) -> None:
        good, png = encoded(banded(40, 30)), encoded(banded(400, 300))
        with decodes() as load:
            response = self.post(VALID, [upload("good.png", good), upload("cut.png", png[: len(png) // 2])])
        self.assertGreaterEqual(load.call_count, 1)  # the good one (the cut one fails its check first)
        self.assertIn("cut.png is cut short or damaged", " ".join(response.context["form"].errors["images"]))
        self.assertContains(response, '<p class="error" id="err-images">cut.png is cut short')

    def test_a_refused_upload_marks_the_drop_zone_and_not_the_image_addresses(self) -> None:
        response = self.post(VALID, [upload("big.png", png_claiming(40, 30) + b"\0" * (10 * MB))])
        html = response.content.decode()
        zone = re.search(r'<div class="dropzone[^"]*"[^>]*>', html)
        assert zone is not None
        self.assertIn('class="dropzone invalid"', zone.group())
        self.assertIn('aria-describedby="dropzone-hint err-images"', zone.group())
        self.assertIn('<fieldset class="field ">', html)  # "Image addresses" is not outlined
        self.assertNotIn('aria-describedby="err-image_urls"', html)

    def test_the_drop_zone_carries_the_limits_the_form_applies(self) -> None:
        html = self.client.get(reverse("studio:index")).content.decode()
        self.assertIn(f'data-max-image-bytes="{forms.MAX_IMAGE_BYTES}"', html)
        self.assertIn(f'data-image-types="{",".join(forms.IMAGE_TYPES.values())}"', html)


class RequestSizeTests(TeamTestCase):
    def send(self, length: int, *, htmx: bool = False, **extra: Any) -> tuple[Any, Unreadable]:
        body = Unreadable()
        environ = {"CONTENT_LENGTH": str(length), "CONTENT_TYPE": MULTIPART, "wsgi.input": body, **extra}
        if htmx:
            environ["HTTP_HX_REQUEST"] = "true"
        response = self.client.generic("POST", reverse("studio:generate"), **environ)
        return response, body

    def test_a_body_declaring_more_than_the_limit_is_refused_before_a_byte_is_read(self) -> None:
        self.client.force_login(self.alice)
        response, body = self.send(300 * MB)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(body.reads, 0)
        self.assertContains(response, "Too large to send", status_code=413)
        self.assertContains(response, "more than 100 MB", status_code=413)
        self.assertContains(response, f'href="{reverse("studio:index")}"', status_code=413)
        self.assertFalse(Generation.objects.exists())

    def test_for_the_form_sent_by_htmx_the_message_goes_above_its_button(self) -> None:
        self.client.force_login(self.alice)
        response, body = self.send(300 * MB, htmx=True)
        self.assertEqual((response.status_code, body.reads), (413, 0))
        self.assertEqual(response["HX-Retarget"], "#upload-errors")
        self.assertContains(
            response, '<p class="error" role="alert">This is more than 100 MB', status_code=413
        )
        page = self.client.get(reverse("studio:index"))
        self.assertContains(page, '<div id="upload-errors" aria-live="polite"></div>')

    def test_a_body_within_the_limit_is_read(self) -> None:
        self.client.force_login(self.alice)
        response, body = self.send(2 * MB)
        self.assertNotEqual(response.status_code, 413)
        self.assertGreater(body.reads, 0)

    def test_a_body_that_declares_no_length_is_not_read_at_all(self) -> None:
        self.client.force_login(self.alice)
        body = Unreadable()
        environ: dict[str, Any] = {
            "CONTENT_TYPE": MULTIPART,
            "HTTP_TRANSFER_ENCODING": "chunked",
            "wsgi.input": body,
        }
        response = self.client.generic("POST", reverse("studio:generate"), **environ)
        self.assertNotEqual(response.status_code, 500)
        self.assertEqual(body.reads, 0)


class OneSettingTests(TeamTestCase):
    def test_one_setting_drives_django_the_refusal_and_the_readme(self) -> None:
        self.assertEqual(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.REQUEST_MAX_MB * MB)
        # The most a form may carry fits under it.
        self.assertGreaterEqual(
            settings.REQUEST_MAX_MB * MB, characters.CLIP_MAX_BYTES + most_images() * forms.MAX_IMAGE_BYTES
        )
        readme = (ROOT / "README.md").read_text()
        documented = re.search(r"\| `REQUEST_MAX_MB` \| `(\d+)` \|", readme)
        assert documented is not None
        default = re.search(
            r'env_int\("REQUEST_MAX_MB", (\d+)', (ROOT / "sorastudio" / "settings.py").read_text()
        )
        assert default is not None
        self.assertEqual(documented[1], default[1])
        self.client.force_login(self.alice)
        with override_settings(REQUEST_MAX_MB=1):
            environ: dict[str, Any] = {
                "CONTENT_TYPE": MULTIPART,
                "CONTENT_LENGTH": str(2 * MB),
                "wsgi.input": Unreadable(),
            }
            response = self.client.generic("POST", reverse("studio:generate"), **environ)
        self.assertContains(response, "more than 1 MB", status_code=413)
