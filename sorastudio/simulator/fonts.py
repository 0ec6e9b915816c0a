"""The fonts the simulator draws prompts with, so that any language shows as real glyphs rather than boxes.

Debian's Noto fonts (fonts-noto-core, fonts-noto-cjk, fonts-noto-color-emoji; `make fonts` installs them)
are looked up at their fixed paths, then through fontconfig. A text is cut into runs by the first font that
has each character (Latin, Hebrew, Arabic, CJK, emoji in that order) and the runs are laid out in bidi order;
raqm shapes and orders the characters within a run. Without any of these fonts the only face is Pillow's
built-in one, and the renderer folds what it lacks (render._fold).
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

RGB = tuple[int, int, int]
FONT_ROOT = Path("/usr/share/fonts")
# NotoColorEmoji holds bitmaps of one size only: drawn at it, then scaled to the size asked for.
EMOJI_STRIKE = 109
NOTDEF = "\U0010fffd"  # a private-use character no font has, so it is drawn as the font's empty box


@dataclass(frozen=True)
class Source:
    """A font file to look for: its Debian path under FONT_ROOT, its fontconfig family, its face index."""

    path: str
    family: str
    index: int = 0
    colour: bool = False


SOURCES = (
    Source("truetype/noto/NotoSans-Regular.ttf", "Noto Sans"),
    Source("truetype/noto/NotoSansHebrew-Regular.ttf", "Noto Sans Hebrew"),
    Source("truetype/noto/NotoSansArabic-Regular.ttf", "Noto Sans Arabic"),
    # The face index picks the simplified-Chinese glyph forms, matching the studio's Chinese.
    Source("opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", index=2),
    Source("truetype/noto/NotoColorEmoji.ttf", "Noto Color Emoji", colour=True),
)


@cache
def installed() -> tuple[tuple[Source, Path], ...]:
    """The sources found on this machine, in fallback order."""
    found = []
    for source in SOURCES:
        path = FONT_ROOT / source.path
        located = path if path.is_file() else _fontconfig(source)
        if located:
            found.append((source, located))
    return tuple(found)


def _fontconfig(source: Source) -> Path | None:
    if not shutil.which("fc-match"):
        return None
    try:
        answer = subprocess.run(
            ["fc-match", "-f", "%{file}", source.family],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # fc-match always answers with something; only the file asked for will do.
    path = Path(answer.strip())
    return path if path.name == Path(source.path).name and path.is_file() else None


@cache
def face(size: int) -> Face:
    return Face(size)


class Face:
    """One size of text across all installed fonts. Measures and draws like a Pillow font, in runs."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.main = _main(size)

    def getmetrics(self) -> tuple[int, int]:
        return self.main.getmetrics()

    def getbbox(self, text: str, *, stroke_width: int = 0) -> tuple[float, float, float, float]:
        return self.main.getbbox(text, stroke_width=stroke_width)

    def getlength(self, text: str) -> float:
        return sum(_length(index, self.size, run) for index, run in runs(text))

    def has_glyph(self, char: str) -> bool:
        return char.isspace() or any(_covers(index, char) for index in range(_font_count()))

    def draw(
        self,
        image: Image.Image,
        xy: tuple[float, float],
        text: str,
        fill: RGB,
        *,
        anchor: str,
        stroke: int,
        stroke_fill: RGB,
    ) -> None:
        pieces = runs(text)
        draw = ImageDraw.Draw(image)
        if all(index == 0 for index, _ in pieces):
            # The common case, one font: Pillow places the text itself, exactly as it always has.
            draw.text(
                xy,
                text,
                font=self.main,
                fill=fill,
                anchor=anchor,
                stroke_width=stroke,
                stroke_fill=stroke_fill,
            )
            return
        ascent, descent = self.getmetrics()
        x = xy[0] - self.getlength(text) * {"l": 0.0, "m": 0.5, "r": 1.0}[anchor[0]]
        baseline = xy[1] + {"a": ascent, "s": 0, "m": (ascent - descent) / 2, "d": -descent}[anchor[1]]
        for index, run in bidi_order(pieces):
            if _is_colour(index):
                _paste_emoji(image, (x, baseline), run, _load(index, self.size), self.size)
            else:
                font = _load(index, self.size)
                draw.text(
                    (x, baseline),
                    _visual(run),
                    font=font,
                    fill=fill,
                    anchor="ls",
                    stroke_width=stroke,
                    stroke_fill=stroke_fill,
                )
            x += _length(index, self.size, run)


def runs(text: str) -> list[tuple[int, str]]:
    """Cut ``text`` into (font index, run) by the first font that has each character. Marks, joiners and
    variation selectors stay with the character before them; spaces go to the main font."""
    pieces: list[tuple[int, list[str]]] = []
    count = _font_count()
    for char in text:
        if pieces and unicodedata.category(char) in {"Mn", "Me", "Cf"}:
            pieces[-1][1].append(char)
            continue
        index = 0 if char.isspace() else next((i for i in range(count) if _covers(i, char)), 0)
        if pieces and pieces[-1][0] == index:
            pieces[-1][1].append(char)
        else:
            pieces.append((index, [char]))
    return [(index, "".join(chars)) for index, chars in pieces]


def bidi_order(pieces: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The runs in display order: a simplified Unicode bidi algorithm at run granularity. A right-to-left
    run is one with a Hebrew or Arabic letter; runs without a strong direction (spaces, emoji) take their
    neighbours' when both agree, the paragraph's otherwise."""
    directions = [_direction(run) for _, run in pieces]
    paragraph = next((d for d in directions if d), "L")
    resolved = []
    for position, direction in enumerate(directions):
        if not direction:
            before = next((d for d in reversed(directions[:position]) if d), paragraph)
            after = next((d for d in directions[position + 1 :] if d), paragraph)
            direction = before if before == after else paragraph
        resolved.append(direction)
    # Embedding levels: odd is right to left. In a right-to-left paragraph left-to-right runs nest one deeper.
    levels = [(1 if d == "R" else 2) if paragraph == "R" else (1 if d == "R" else 0) for d in resolved]
    order = list(range(len(pieces)))
    for level in range(max(levels, default=0), 0, -1):
        position = 0
        while position < len(order):
            if levels[order[position]] < level:
                position += 1
                continue
            end = position
            while end < len(order) and levels[order[end]] >= level:
                end += 1
            order[position:end] = reversed(order[position:end])
            position = end
    return [pieces[i] for i in order]


def _direction(text: str) -> str:
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in {"R", "AL"}:
            return "R"
        if kind == "L":
            return "L"
    return ""


def _visual(run: str) -> str:
    # Raqm orders (and shapes) a right-to-left run itself; Pillow's basic layout would draw it backwards.
    if _direction(run) == "R" and not features.check("raqm"):
        return run[::-1]
    return run


@cache
def _font_count() -> int:
    return max(1, len(installed()))


def _is_colour(index: int) -> bool:
    fonts = installed()
    return index < len(fonts) and fonts[index][0].colour


@cache
def _main(size: int) -> ImageFont.FreeTypeFont:
    if installed():
        return _load(0, size)
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        # Without FreeType Pillow falls back to a fixed bitmap font that can neither scale nor anchor text.
        raise RuntimeError("rendering simulated videos needs Pillow built with FreeType support")
    return font


@cache
def _load(index: int, size: int) -> ImageFont.FreeTypeFont:
    if not installed():
        return _main(size)
    source, path = installed()[index]
    return ImageFont.truetype(str(path), EMOJI_STRIKE if source.colour else size, index=source.index)


@cache
def _covers(index: int, char: str) -> bool:
    """Whether font ``index`` has a glyph for ``char``: its mask is not that of the empty box."""
    if index == 0 and char.isascii():
        return True
    font = _load(index, 16)
    return bytes(font.getmask(char)) != bytes(font.getmask(NOTDEF))


def _length(index: int, size: int, run: str) -> float:
    length = _load(index, size).getlength(run)
    return length * size / EMOJI_STRIKE if _is_colour(index) else length


def _paste_emoji(
    image: Image.Image, origin: tuple[float, float], run: str, font: ImageFont.FreeTypeFont, size: int
) -> None:
    """Draw a run of colour emoji at the bitmap's own size and paste it scaled down, by its alpha."""
    ascent, descent = font.getmetrics()
    width = max(1, round(font.getlength(run)))
    strike = Image.new("RGBA", (width, ascent + descent), (0, 0, 0, 0))
    ImageDraw.Draw(strike).text((0, ascent), run, font=font, anchor="ls", embedded_color=True)
    scale = size / EMOJI_STRIKE
    scaled = strike.resize(
        (max(1, round(width * scale)), max(1, round(strike.height * scale))), Image.Resampling.LANCZOS
    )
    x, baseline = origin
    image.paste(scaled.convert(image.mode), (round(x), round(baseline - ascent * scale)), scaled)
