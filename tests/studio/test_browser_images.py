"""Reference images in Chromium: pick them (through the "Pick images" button and straight on the file input),
drop one, reorder and remove with the thumbnails' buttons, keep them across an options switch, and find them
upstream in the order shown; version 2.0 previews the fit and stores the image at the video's exact size."""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from PIL import Image
from playwright.sync_api import Page

from sorastudio.simulator.models import SimTask
from sorastudio.studio.models import Generation, GenerationImage
from tests.browser import QUICK, BrowserTestCase, expect, wait_for

# Playwright's sync API keeps an event loop in this thread; the tests' own ORM calls are plain and blocking.

# A file dropped on the drop zone, the way a desktop drag delivers it: a DataTransfer holding a File.
DROP = """([name, type, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type}));
  const zone = document.querySelector("[data-dropzone]");
  for (const kind of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""
# Ctrl+V of a screenshot while typing the prompt: a paste event whose clipboard holds an image.
PASTE = """(target, data) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "image.png", {type: "image/png"}));
  const init = {clipboardData: transfer, bubbles: true, cancelable: true};
  target.dispatchEvent(new ClipboardEvent("paste", init));
}"""
FILE_NAMES = "input => [...input.files].map((file) => file.name)"
# The preview canvas's colour at a point given as fractions of its width and height.
CANVAS_AT = """(canvas, [x, y]) => {
  const at = [Math.floor(x * (canvas.width - 1)), Math.floor(y * (canvas.height - 1))];
  return Array.from(canvas.getContext("2d").getImageData(...at, 1, 1).data.slice(0, 3));
}"""


def png(width: int, height: int, colour: tuple[int, int, int] = (220, 30, 30)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    image.paste((30, 30, 220), (width // 2 - 5, height // 2 - 5, width // 2 + 5, height // 2 + 5))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sizes_sent(pk: str) -> list[tuple[int, int]]:
    """The pixel sizes of the images the upstream received for a job, in order."""
    wait_for(
        lambda: bool(Generation.objects.get(pk=pk).upstream_task_id),
        message="the job never reached the simulator",
    )
    request: dict[str, Any] = SimTask.objects.get(pk=Generation.objects.get(pk=pk).upstream_task_id).request
    found = []
    for uri in request["image_urls"]:
        with Image.open(io.BytesIO(base64.b64decode(uri.partition(",")[2]))) as image:
            found.append(image.size)
    return found


class ImagesTestCase(BrowserTestCase):
    """alice in Harbour, with a folder to put the images she picks in."""

    simulator_seconds = 1.0

    def setUp(self) -> None:
        super().setUp()
        self.member("alice", "Harbour")
        self.folder = self.data_dir / "uploads"
        self.folder.mkdir(exist_ok=True)

    def image_file(self, name: str, width: int, height: int) -> Path:
        path = self.folder / name
        path.write_bytes(png(width, height))
        return path


@pytest.mark.browser
class TestReferenceImages(ImagesTestCase):
    @staticmethod
    def thumbnails(page: Page) -> Any:
        return page.locator("[data-thumbs] .thumb img")

    def shown(self, page: Page) -> list[str | None]:
        """The thumbnails' names, in the order shown."""
        return [img.get_attribute("alt") for img in self.thumbnails(page).all()]

    def test_it_sends_the_images_in_the_order_shown(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        zone = page.get_by_role("group", name="Images from your computer")
        expect(zone).to_contain_text("up to 4")
        files = page.locator("#id_images")

        with page.expect_file_chooser() as chooser:
            page.get_by_role("button", name="Pick images", exact=True).click()
        chooser.value.set_files([self.image_file("a.png", 64, 36), self.image_file("b.png", 48, 48)])
        expect(self.thumbnails(page)).to_have_count(2, timeout=QUICK)

        page.evaluate(DROP, ["c.png", "image/png", base64.b64encode(png(30, 50)).decode()])
        page.evaluate(DROP, ["notes.txt", "text/plain", base64.b64encode(b"not a picture").decode()])
        expect(zone.locator("[data-images-message]")).to_have_text(
            "notes.txt is not a PNG, JPEG or WebP image, so it was not added. Use a PNG, JPEG or WebP image."
        )
        expect(self.thumbnails(page)).to_have_count(3)
        self.assertEqual(self.shown(page), ["a.png", "b.png", "c.png"])
        self.assertEqual(files.evaluate(FILE_NAMES), ["a.png", "b.png", "c.png"])

        # c to the front: once with the mouse, once with the keyboard (focus stays on the moved image).
        page.get_by_role("button", name="Move c.png earlier").click()
        expect(page.get_by_role("button", name="Move c.png earlier")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Move c.png earlier")).to_be_disabled()
        page.get_by_role("button", name="Remove a.png").click()
        expect(self.thumbnails(page)).to_have_count(2)
        self.assertEqual(self.shown(page), ["c.png", "b.png"])
        self.assertEqual(files.evaluate(FILE_NAMES), ["c.png", "b.png"])

        # A pasted image joins the end of the list, under a name of its own.
        page.get_by_label("Describe the video").evaluate(PASTE, base64.b64encode(png(20, 20)).decode())
        expect(self.thumbnails(page)).to_have_count(3)
        self.assertEqual(files.evaluate(FILE_NAMES), ["c.png", "b.png", "pasted-1.png"])
        page.get_by_role("button", name="Remove pasted-1.png").click()
        expect(self.thumbnails(page)).to_have_count(2)

        # A model switch re-renders the options, file input included: the images stay, in order.
        page.get_by_label("Model", exact=True).select_option("sora-2-pro")
        expect(page.locator("#id_duration option[value='25']")).to_be_enabled(timeout=QUICK)
        expect(self.thumbnails(page)).to_have_count(2)
        self.assertEqual(self.shown(page), ["c.png", "b.png"])
        self.assertEqual(page.locator("#id_images").evaluate(FILE_NAMES), ["c.png", "b.png"])

        page.get_by_label("Length").select_option("10")
        pk, card = self.generate(page, "A kite shop at the harbour, seen from the water")
        self.assertEqual(sizes_sent(pk), [(30, 50), (48, 48)])
        stored = []
        for upload in GenerationImage.objects.filter(generation_id=pk).order_by("position"):
            with upload.file.open("rb") as fh, Image.open(fh) as image:
                stored.append(image.size)
        self.assertEqual(stored, [(30, 50), (48, 48)])
        # The next video starts without images.
        expect(self.thumbnails(page)).to_have_count(0)
        self.assertEqual(page.locator("#id_images").evaluate(FILE_NAMES), [])
        self.wait_until_done(card)

    def test_a_version_2_image_is_fitted_to_the_chosen_size(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        page.get_by_label("API version").select_option("2.0")
        size = page.get_by_label("Size", exact=True)
        expect(size).to_be_visible(timeout=QUICK)
        size.select_option("1280x720")
        page.get_by_label("Length").select_option("4")
        zone = page.get_by_role("group", name="Images from your computer")
        expect(zone).to_contain_text("one image")
        fit = page.locator("[data-fit]")
        canvas = page.locator("[data-fit-preview]")
        files = page.locator("#id_images")

        # An image already 16:9 needs no fit.
        files.set_input_files(self.image_file("wide.png", 320, 180))
        expect(self.thumbnails(page)).to_have_count(1, timeout=QUICK)
        expect(fit).to_be_hidden()

        # A second one is more than version 2.0 takes, and it says so; the 4:3 one left alone needs a fit.
        files.set_input_files(self.image_file("sketch.png", 400, 300))
        expect(zone.locator("[data-images-message]")).to_have_text(
            "Version 2.0 uses one image: remove one before generating."
        )
        page.get_by_role("button", name="Remove wide.png").click()
        expect(zone.locator("[data-images-message]")).to_be_hidden()
        expect(fit).to_be_visible()
        expect(canvas).to_have_attribute("data-mode", "crop")
        self.assertEqual(canvas.evaluate("c => [c.width, c.height]"), [240, 135])
        expect(page.locator("[data-fit-caption]")).to_have_text(
            "sketch.png is 400 × 300; the video is 1280 × 720. "
            "It will be cropped to fill the frame at 1280 × 720."
        )
        red, blue, black = [220, 30, 30], [30, 30, 220], [0, 0, 0]
        self.assertEqual(canvas.evaluate(CANVAS_AT, [0, 0.5]), red)  # cropped: the image reaches the sides

        page.get_by_label("Pad with black bars").check()
        expect(canvas).to_have_attribute("data-mode", "pad")
        self.assertEqual(canvas.evaluate(CANVAS_AT, [0, 0.5]), black)
        self.assertEqual(canvas.evaluate(CANVAS_AT, [0.5, 0.5]), blue)

        size.select_option("720x1280")
        expect(page.locator("[data-fit-caption]")).to_contain_text("the video is 720 × 1280")
        self.assertEqual(canvas.evaluate("c => [c.width, c.height]"), [135, 240])
        size.select_option("1280x720")

        pk, card = self.generate(page, "A paper kite over a windy beach")
        stored = GenerationImage.objects.get(generation_id=pk)
        with stored.file.open("rb") as fh, Image.open(fh) as image:
            self.assertEqual(image.size, (1280, 720))
            self.assertEqual(image.convert("RGB").getpixel((5, 360)), (0, 0, 0))  # padded
        self.assertEqual(sizes_sent(pk), [(1280, 720)])
        self.wait_until_done(card)


# A file of `megabytes` made in the page (nothing that large crosses from the test), dropped on the drop zone.
DROP_LARGE = """([name, megabytes]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(megabytes * 1024 * 1024)], name, {type: "image/png"}));
  const zone = document.querySelector("[data-dropzone]");
  for (const kind of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true, cancelable: true}));
  }
}"""
BORDER = "element => getComputedStyle(element).borderTopColor"


def gif(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 160, 30)).save(buffer, format="GIF")
    return buffer.getvalue()


def noise_png(width: int, height: int) -> bytes:
    """A PNG that does not compress: about width * height * 3 bytes."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.browser
class TestRefusedImages(ImagesTestCase):
    """What the browser refuses on adding, what the server refuses after the submit, and that either
    message goes once the person fixes the files or a submit succeeds."""

    def message(self, page: Page) -> Any:
        return page.locator("[data-dropzone] [data-images-message]")

    def log_in(self, page: Page, username: str) -> None:
        super().log_in(page, username)
        expect(page.locator("[data-dropzone]")).to_be_visible()  # images.js is listening

    def test_a_file_that_is_not_an_image_or_too_large_is_refused_on_adding_with_no_thumbnail(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        zone = page.locator("[data-dropzone]")

        page.evaluate(DROP, ["scan.png", "image/png", base64.b64encode(b"not a picture at all").decode()])
        expect(self.message(page)).to_have_text(
            "scan.png is not an image the browser can open, so it was not added. "
            "Use a PNG, JPEG or WebP image."
        )
        expect(page.locator("[data-thumbs] .thumb")).to_have_count(0)
        self.assertEqual(page.locator("#id_images").evaluate(FILE_NAMES), [])
        self.assertNotEqual(zone.evaluate(BORDER), page.locator("#id_prompt").evaluate(BORDER))  # in red

        page.evaluate(DROP_LARGE, ["huge.png", 30])
        expect(self.message(page)).to_have_text(
            "huge.png is larger than 10 MB, so it was not added. Use a PNG, JPEG or WebP image."
        )
        expect(page.locator("[data-thumbs] .thumb")).to_have_count(0)
        # The limits are the server's, from the page: none is written again in the script.
        expect(zone).to_have_attribute("data-max-image-bytes", str(10 * 1024 * 1024))
        expect(zone).to_have_attribute("data-image-types", "image/png,image/jpeg,image/webp")

    def test_the_servers_refusal_is_beside_the_drop_zone_and_goes_when_the_image_is_removed(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        # A GIF named .png: the browser shows it, the studio takes only PNG, JPEG and WebP.
        path = self.folder / "sketch.png"
        path.write_bytes(gif(40, 30))
        page.locator("#id_images").set_input_files(path)
        expect(page.locator("[data-thumbs] .thumb")).to_have_count(1, timeout=QUICK)
        page.get_by_label("Describe the video").fill("A kite shop at the harbour")
        page.get_by_role("button", name="Generate video").click()

        error = page.locator("#err-images")
        expect(error).to_have_text("sketch.png is a GIF image. Use a PNG, JPEG or WebP file.", timeout=QUICK)
        zone = page.get_by_role("group", name="Images from your computer")
        expect(zone).to_have_class(re.compile(r"\binvalid\b"))
        addresses = page.get_by_label("Image addresses, one per line")
        self.assertNotEqual(addresses.evaluate(BORDER), zone.evaluate(BORDER))
        self.assertEqual(addresses.evaluate(BORDER), page.locator("#id_prompt").evaluate(BORDER))

        page.get_by_role("button", name="Remove sketch.png").click()
        expect(error).to_have_count(0)
        expect(zone).not_to_have_class(re.compile(r"\binvalid\b"))

    def test_a_refusal_in_the_browser_is_gone_after_a_good_submit(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        page.evaluate(DROP_LARGE, ["huge.png", 30])
        expect(self.message(page)).to_contain_text("huge.png is larger than 10 MB")
        _pk, card = self.generate(page, "A lighthouse at night")
        expect(self.message(page)).to_be_hidden()
        expect(page.get_by_text("larger than 10 MB")).to_have_count(0)
        self.wait_until_done(card)

    def test_a_request_too_large_is_said_until_the_files_change(self) -> None:
        page = self.page
        self.log_in(page, "alice")
        path = self.folder / "photo.png"
        path.write_bytes(noise_png(800, 600))  # about 1.4 MB
        with override_settings(REQUEST_MAX_MB=1):
            page.locator("#id_images").set_input_files(path)
            expect(page.locator("[data-thumbs] .thumb")).to_have_count(1, timeout=QUICK)
            page.get_by_label("Describe the video").fill("A kite shop at the harbour")
            page.get_by_role("button", name="Generate video").click()
            too_large = page.locator("#upload-errors")
            expect(too_large).to_contain_text("This is more than 1 MB", timeout=QUICK)
            page.get_by_role("button", name="Remove photo.png").click()
            expect(too_large).to_be_empty()
