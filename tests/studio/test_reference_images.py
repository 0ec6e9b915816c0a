"""Reference images: the version 2.0 fit (crop or pad to the video's pixel size) with Pillow, what reaches the
upstream, the order of uploads, and a plain refusal beside the field for every image the studio cannot use."""

from __future__ import annotations

import base64
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from PIL import Image

from sorastudio.lib.images import fit, fit_image, image_size
from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation, GenerationImage
from sorastudio.teams.models import Team
from tests.helpers import (
    BLACK,
    BLUE,
    GREEN,
    RED,
    V2,
    VALID,
    banded,
    encoded,
    make_member,
    png_bytes,
    png_claiming,
    upload,
)


def close(pixel: Any, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple), value
    return value


def from_data_uri(uri: str) -> Image.Image:
    head, _, data = uri.partition(",")
    assert head.startswith("data:image/"), head
    assert head.endswith(";base64"), head
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    image.load()
    return image


class FitTests(TestCase):
    """The Pillow work itself, without the web."""

    def test_crop_fills_the_exact_size_and_keeps_the_centre(self) -> None:
        result = fit(banded(400, 300), 1280, 720, "crop")
        self.assertEqual(result.size, (1280, 720))
        self.assertTrue(close(result.getpixel((640, 360)), BLUE))  # the middle stays in the middle
        # 4:3 into 16:9 cuts the top and bottom (the green bands there), never the sides.
        self.assertTrue(close(result.getpixel((640, 3)), RED), result.getpixel((640, 3)))
        self.assertTrue(close(result.getpixel((640, 716)), RED), result.getpixel((640, 716)))
        self.assertTrue(close(result.getpixel((5, 360)), GREEN), result.getpixel((5, 360)))
        self.assertTrue(close(result.getpixel((1274, 360)), GREEN), result.getpixel((1274, 360)))

    def test_crop_of_a_wide_image_into_a_tall_frame_cuts_the_sides(self) -> None:
        result = fit(banded(800, 450), 720, 1280, "crop")
        self.assertEqual(result.size, (720, 1280))
        self.assertTrue(close(result.getpixel((360, 640)), BLUE))
        self.assertTrue(close(result.getpixel((3, 640)), RED), result.getpixel((3, 640)))
        self.assertTrue(close(result.getpixel((360, 10)), GREEN), result.getpixel((360, 10)))

    def test_pad_letterboxes_in_black_to_the_exact_size(self) -> None:
        result = fit(banded(300, 400), 1280, 720, "pad")
        self.assertEqual(result.size, (1280, 720))
        # 300 x 400 scaled to 540 x 720 sits in the middle: 370 black columns each side.
        for x in (0, 200, 365, 1279 - 365, 1279):
            self.assertEqual(result.getpixel((x, 360)), BLACK, x)
        self.assertTrue(close(result.getpixel((640, 360)), BLUE))
        self.assertTrue(close(result.getpixel((640, 100)), RED))
        self.assertTrue(close(result.getpixel((380, 360)), GREEN))  # the image's own left edge, kept

    def test_pad_of_a_wide_image_adds_bars_above_and_below(self) -> None:
        result = fit(banded(400, 100, band=10), 1024, 1792, "pad")
        self.assertEqual(result.size, (1024, 1792))
        self.assertEqual(result.getpixel((512, 5)), BLACK)
        self.assertEqual(result.getpixel((512, 1786)), BLACK)
        self.assertTrue(close(result.getpixel((512, 896)), BLUE))

    def test_none_leaves_the_image_alone(self) -> None:
        image = banded(400, 300)
        self.assertIs(fit(image, 1280, 720, "none"), image)

    def test_an_unknown_mode_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            fit(banded(), 1280, 720, "stretch")
        with self.assertRaises(ValueError):
            fit_image(upload("a.png", encoded(banded())), 1280, 720, "stretch")

    def test_fit_image_makes_a_new_upload_of_the_same_kind(self) -> None:
        png = fit_image(upload("sketch.png", encoded(banded())), 1280, 720, "crop")
        self.assertEqual((png.name, png.content_type), ("sketch-crop-1280x720.png", "image/png"))
        with Image.open(png) as image:
            self.assertEqual((image.format, image.size), ("PNG", (1280, 720)))

        photo = upload("photo.jpeg", encoded(banded(), "JPEG"), "image/jpeg")
        jpeg = fit_image(photo, 720, 1280, "pad")
        self.assertEqual((jpeg.name, jpeg.content_type), ("photo-pad-720x1280.jpg", "image/jpeg"))
        with Image.open(jpeg) as image:
            self.assertEqual((image.format, image.size), ("JPEG", (720, 1280)))

        webp = fit_image(upload("w.webp", encoded(banded(), "WEBP"), "image/webp"), 1280, 720, "pad")
        self.assertEqual(webp.content_type, "image/png")

    def test_fit_image_keeps_transparency_when_cropping(self) -> None:
        clear = Image.new("RGBA", (400, 300), (255, 0, 0, 0))
        fitted = fit_image(upload("clear.png", encoded(clear)), 1280, 720, "crop")
        with Image.open(fitted) as image:
            self.assertEqual(image.mode, "RGBA")
            self.assertEqual(pixel(image, (640, 360))[3], 0)

    def test_fit_image_returns_the_upload_when_there_is_nothing_to_do(self) -> None:
        exact = upload("exact.png", encoded(banded(1280, 720)))
        self.assertIs(fit_image(exact, 1280, 720, "crop"), exact)
        other = upload("other.png", encoded(banded(400, 300)))
        self.assertIs(fit_image(other, 1280, 720, "none"), other)
        self.assertEqual(other.tell(), 0)

    def test_a_same_shape_image_is_scaled_to_the_exact_size(self) -> None:
        small = fit_image(upload("small.png", encoded(banded(640, 360))), 1280, 720, "crop")
        self.assertEqual(image_size(small), (1280, 720))

    def test_the_exif_rotation_is_applied_first(self) -> None:
        exif = Image.Exif()
        exif[0x0112] = 6  # stored on its side: shown a quarter turn clockwise, so 300 x 400
        photo = upload("turned.jpg", encoded(banded(400, 300), "JPEG", exif=exif), "image/jpeg")
        self.assertEqual(image_size(photo), (300, 400))
        fitted = fit_image(photo, 720, 1280, "pad")
        with Image.open(fitted) as image:
            self.assertEqual(image.size, (720, 1280))
            # Upright it is 3:4, wider than 9:16: bars above and below, the image from edge to edge.
            self.assertEqual(pixel(image, (360, 5))[:3], BLACK)
            self.assertFalse(close(image.getpixel((5, 640)), BLACK, tolerance=10))


class ReferenceImageViewTests(TestCase):
    """Through the form, the pipeline (synchronous in tests) and the simulator's stored request."""

    def setUp(self) -> None:
        team = Team.objects.create(name="Studio")
        self.client.force_login(make_member("alice", team))

    def post(self, data: dict[str, Any], *files: SimpleUploadedFile, htmx: bool = False) -> Any:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(reverse("studio:generate"), {**data, "images": list(files)}, headers=headers)

    def sent_images(self) -> list[str]:
        generation = Generation.objects.get()
        request: dict[str, Any] = SimTask.objects.get(pk=generation.upstream_task_id).request
        return list(request["image_urls"])

    def test_a_v2_upload_is_cropped_to_the_chosen_size_and_sent_inline(self) -> None:
        response = self.post({**V2, "image_fit": "crop"}, upload("sketch.png", encoded(banded(400, 300))))
        self.assertEqual(response.status_code, 302, getattr(response, "context", None) and response.context)
        [sent] = self.sent_images()
        image = from_data_uri(sent)
        self.assertEqual(image.size, (1280, 720))
        self.assertTrue(close(image.getpixel((640, 360)), BLUE))
        self.assertTrue(close(image.getpixel((640, 3)), RED))  # the top band was cropped away
        # What is stored is the fitted image, and it is what any re-run sends too.
        stored = GenerationImage.objects.get()
        self.assertEqual(stored.content_type, "image/png")
        with stored.file.open("rb") as fh, Image.open(fh) as kept:
            self.assertEqual(kept.size, (1280, 720))

    def test_crop_is_the_default_fit(self) -> None:
        self.post(V2, upload("sketch.png", encoded(banded(400, 300))))
        self.assertEqual(from_data_uri(self.sent_images()[0]).size, (1280, 720))

    def test_pad_gives_black_borders(self) -> None:
        data = {**V2, "size": "720x1280", "image_fit": "pad"}
        photo = upload("photo.jpg", encoded(banded(400, 300), "JPEG", quality=95), "image/jpeg")
        self.assertEqual(self.post(data, photo).status_code, 302)
        image = from_data_uri(self.sent_images()[0])
        self.assertTrue(self.sent_images()[0].startswith("data:image/jpeg;base64,"))
        self.assertEqual(image.size, (720, 1280))
        self.assertTrue(close(image.getpixel((360, 10)), BLACK, tolerance=8))
        self.assertTrue(close(image.getpixel((360, 1270)), BLACK, tolerance=8))
        self.assertTrue(close(image.getpixel((360, 640)), BLUE))

    def test_leave_as_is_sends_the_upload_unchanged(self) -> None:
        original = encoded(banded(400, 300))
        self.post({**V2, "image_fit": "none"}, upload("sketch.png", original))
        self.assertEqual(self.sent_images(), ["data:image/png;base64," + base64.b64encode(original).decode()])

    def test_version_1_sends_uploads_as_they_are_in_the_order_given(self) -> None:
        first = encoded(banded(64, 36))
        second = encoded(banded(30, 50))
        response = self.post(
            {**VALID, "image_fit": "crop"}, upload("first.png", first), upload("second.png", second)
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(
            self.sent_images(),
            ["data:image/png;base64," + base64.b64encode(data).decode() for data in (first, second)],
        )
        stored = GenerationImage.objects.order_by("position")
        self.assertEqual([s.position for s in stored], [0, 1])
        self.assertEqual([s.file.read() for s in stored], [first, second])

    def test_an_image_address_is_not_fetched_or_fitted(self) -> None:
        response = self.post({**V2, "image_fit": "pad", "image_urls": "https://example.com/a.png"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(self.sent_images(), ["https://example.com/a.png"])

    def test_every_refusal_is_said_beside_the_field_and_nothing_is_made(self) -> None:
        padded = encoded(banded(64, 36)) + b"\0" * (10 * 1024 * 1024)  # a real PNG, with trailing bytes
        noisy = Image.effect_noise((400, 300), 80).convert("RGB")
        jpeg = encoded(noisy, "JPEG", quality=90)
        png = encoded(noisy)
        cases = [
            (VALID, [upload("big.png", padded)], "big.png is larger than 10 MB. Use a smaller image."),
            (
                VALID,
                [upload("poster.png", png_claiming(8000, 6000))],
                "poster.png is too large (8000 × 6000 pixels; the most is 40 megapixels). "
                "Use a smaller image.",
            ),
            (
                VALID,
                [upload("bomb.png", png_claiming(20000, 10000))],
                "bomb.png is too large: the most is 40 megapixels. Use a smaller image.",
            ),
            (
                VALID,
                [upload("cut.jpg", jpeg[: len(jpeg) * 2 // 3], "image/jpeg")],
                "cut.jpg is cut short or damaged, so it is not an image we can read. "
                "Save it again or use another file.",
            ),
            (
                VALID,
                [upload("cut.png", png[: len(png) * 2 // 3])],
                "cut.png is cut short or damaged, so it is not an image we can read.",
            ),
            (
                VALID,
                [upload("notes.png", b"hello, I am a text file")],
                "notes.png is not an image we can read. Use a PNG, JPEG or WebP file.",
            ),
            (
                V2,
                [upload("a.png", encoded(banded())), upload("b.png", encoded(banded()))],
                "Version 2.0 uses a single reference image. Keep one and remove the others.",
            ),
            (
                VALID,
                [upload(f"{n}.png", encoded(banded(20, 20))) for n in range(5)],
                "Use at most 4 reference images.",
            ),
        ]
        for data, files, message in cases:
            with self.subTest(message=message):
                response = self.post(data, *files, htmx=True)
                self.assertEqual(response.status_code, 200)
                self.assertIn(message, " ".join(response.context["form"].errors["images"]))
                self.assertContains(response, f'<p class="error" id="err-images">{message}', html=False)
                self.assertContains(response, 'aria-describedby="err-images"')
        self.assertFalse(Generation.objects.exists())
        self.assertFalse(GenerationImage.objects.exists())

    def test_the_v2_form_offers_the_fit_and_keeps_the_choice(self) -> None:
        page = self.client.get(reverse("studio:index"), {**V2, "image_fit": "pad"}).content.decode()
        self.assertIn('name="image_fit" value="pad" checked', page)
        self.assertIn("uploads only: image addresses are sent as they are", page)
        self.assertRegex(page, r'data-max-images="1"[^>]* data-first-image-only')
        self.assertIn("one image</span>", page)
        page = self.client.get(reverse("studio:index")).content.decode()
        self.assertNotIn('name="image_fit"', page)
        self.assertIn("up to 4</span>", page)


class KeptImageTests(TestCase):
    """Edit & retry brings the uploaded images of the earlier video along, as they were."""

    def setUp(self) -> None:
        from sorastudio.teams.models import Team
        from tests.helpers import (
            make_member,
        )

        self.team = Team.objects.create(name="Studio")
        self.alice = make_member("alice", self.team)
        self.client.force_login(self.alice)

    def test_edit_and_retry_keeps_the_uploads_unless_unticked(self) -> None:
        from django.urls import reverse

        from sorastudio.studio.models import Generation, GenerationImage

        self.client.post(
            reverse("studio:generate"),
            {**VALID, "images": [upload("a.png", png_bytes(64, 36)), upload("b.png", png_bytes(36, 64))]},
        )
        first = Generation.objects.get()
        kept = list(first.uploads.values_list("pk", flat=True))
        page = self.client.get(reverse("studio:index"), {"from": str(first.pk)}).content.decode()
        for pk in kept:
            self.assertIn(f'name="keep_image" value="{pk}" checked', page)
            self.assertEqual(
                self.client.get(reverse("studio:upload_image", args=[first.pk, pk])).status_code, 200
            )

        self.client.post(
            reverse("studio:generate"), {**VALID, "prompt": "again", "keep_image": [str(kept[1])]}
        )
        again = Generation.objects.get(prompt="again")
        self.assertEqual(
            list(again.uploads.values_list("file", flat=True)),
            [GenerationImage.objects.get(pk=kept[1]).file.name],
        )
        sent = SimTask.objects.get(pk=again.upstream_task_id).request["image_urls"]
        self.assertEqual(len(sent), 1)
        self.assertTrue(sent[0].startswith("data:image/png;base64,"))

    def test_another_teams_images_cannot_be_kept_or_seen(self) -> None:
        from django.urls import reverse

        from sorastudio.studio.models import Generation
        from sorastudio.teams.models import Team
        from tests.helpers import (
            VALID,
            make_member,
            png_bytes,
            upload,
        )

        self.client.post(reverse("studio:generate"), {**VALID, "images": [upload("a.png", png_bytes())]})
        first = Generation.objects.get()
        image = first.uploads.get()
        carol = make_member("carol", Team.objects.create(name="Agency"))
        self.client.force_login(carol)
        self.assertEqual(
            self.client.get(reverse("studio:upload_image", args=[first.pk, image.pk])).status_code, 404
        )
        self.client.post(
            reverse("studio:generate"), {**VALID, "prompt": "theft", "keep_image": [str(image.pk)]}
        )
        self.assertFalse(Generation.objects.get(prompt="theft").uploads.exists())
