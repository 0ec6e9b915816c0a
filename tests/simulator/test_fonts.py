"""The simulator draws every script as real glyphs: right-to-left and shaped, CJK, colour emoji."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import av
import numpy as np
import pytest
from PIL import Image, ImageFont

from sorastudio.simulator import fonts, render

needs_fonts = pytest.mark.skipif(
    len(fonts.installed()) < len(fonts.SOURCES), reason="the Noto fonts are not installed (make fonts)"
)
WORDS = ["שלום", "مرحبا", "你好世界", "🎬🌧"]


def forget_fonts() -> None:
    for cached in (
        fonts.installed,
        fonts.face,
        fonts._font_count,
        fonts._main,
        fonts._load,
        fonts._covers,
        render._has_glyph,
    ):
        cached.cache_clear()


@pytest.fixture
def no_fonts() -> Iterator[None]:
    forget_fonts()
    with mock.patch.object(fonts, "SOURCES", ()), mock.patch.object(fonts, "_fontconfig", return_value=None):
        yield
    forget_fonts()


def drawn(text: str, size: int = 40, background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """``text`` drawn by the renderer on a plain image, its baseline's left end at (4, 60)."""
    image = Image.new("RGB", (max(40, round(render._font(size).getlength(text)) + 8), 80), background)
    render._text(image, (4, 60), text, render._font(size), render.TEXT_COLOUR, anchor="ls")
    return np.asarray(image).astype(int)


def ink(picture: np.ndarray) -> np.ndarray:
    """The picture cropped to its ink, as a 0/1 mask."""
    mask = (picture.max(axis=2) > 60).astype(int)
    rows, columns = np.nonzero(mask)
    return mask[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]


def colourful(picture: np.ndarray) -> int:
    """How many pixels are clearly coloured rather than grey."""
    return int((picture.max(axis=2) - picture.min(axis=2) > 60).sum())


@needs_fonts
class TestScripts:
    def test_it_draws_every_character_as_its_own_glyph_not_the_empty_box(self) -> None:
        box = ink(drawn(fonts.NOTDEF))
        glyphs = [ink(drawn(char)) for word in WORDS for char in word]
        for glyph in glyphs:
            assert glyph.shape != box.shape or (glyph != box).any()
        assert len({glyph.tobytes() + bytes(glyph.shape) for glyph in glyphs}) == len(glyphs)

    def test_it_draws_emoji_in_colour(self) -> None:
        assert colourful(drawn("🎬🌧", background=(128, 128, 128))) > 50

    def test_it_draws_a_hebrew_word_right_to_left(self) -> None:
        word, first = drawn("שלום"), drawn("ש")
        width = render._font(40).getlength("ש")
        start = round(render._font(40).getlength("שלום") - width)
        # The first letter sits at the right end of the word.
        right_end = word[:, 4 + start : 4 + start + round(width)]
        assert np.abs(right_end - first[:, 4 : 4 + right_end.shape[1]]).mean() < 8
        left_end = word[:, 4 : 4 + round(width)]
        assert np.abs(left_end - first[:, 4 : 4 + round(width)]).mean() > 8

    def test_it_shapes_arabic_letters_joined(self) -> None:
        # Joined, the letters are narrower together than apart.
        face = render._font(40)
        assert face.getlength("مرحبا") < sum(face.getlength(letter) for letter in "مرحبا")

    def test_it_puts_a_right_to_left_phrase_in_reading_order_within_a_left_to_right_line(self) -> None:
        order = fonts.bidi_order(fonts.runs("hello שלום עולם world"))
        assert [run for _, run in order] == ["hello ", "עולם", " ", "שלום", " world"]

    def test_it_keeps_accents_and_letters_the_built_in_font_lacks(self) -> None:
        assert render._fold("café Straße — ok") == "café Straße — ok"

    def test_it_shows_every_script_and_colour_emoji_in_the_video(self, tmp_path: Path) -> None:
        grey = mock.patch.object(
            render, "_background", lambda width, height, prompt: np.full((height, width, 3), 128, np.uint8)
        )
        path = tmp_path / "out.mp4"
        with grey:
            render.render_video(path, prompt=" ".join(WORDS), width=640, height=360, seconds=1)
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
        assert colourful(frame) > 200


class TestWithoutFonts:
    def test_it_renders_with_the_built_in_font_and_folds_accents(self, no_fonts: Any, tmp_path: Path) -> None:
        assert fonts.installed() == ()
        assert render._fold("café") == "cafe"
        path = tmp_path / "out.mp4"
        render.render_video(path, prompt=" ".join([*WORDS, "café"]), width=320, height=180, seconds=1)
        assert path.stat().st_size > 1000

    def test_it_measures_and_draws_like_the_built_in_font(self, no_fonts: Any) -> None:
        builtin = ImageFont.load_default(size=20)
        assert isinstance(builtin, ImageFont.FreeTypeFont)
        assert render._font(20).main.getname() == builtin.getname()
        assert ink(drawn("Hello")).sum() > 0
