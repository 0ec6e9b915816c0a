"""Renders the simulator's stand-in for a generated video: a real H.264 MP4 that shows the prompt, a caption,
a running timecode and a progress bar (and, when asked, a watermark text), so that playback, seeking and
archiving can be exercised end to end without a real provider.

Speed matters because the simulator renders on request: everything that never changes (background, prompt,
caption, the bar's track) is drawn once; per frame only the timecode digits that changed are swapped in from
pre-rendered sprites and the thin progress strip is redrawn.
"""

from __future__ import annotations

import colorsys
import hashlib
import os
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import numpy as np
from PIL import Image

from sorastudio.simulator import fonts

Font = fonts.Face
RGB = tuple[int, int, int]

TEXT_COLOUR: RGB = (255, 255, 255)
SHADOW_COLOUR: RGB = (12, 12, 16)
CAPTION_COLOUR: RGB = (232, 232, 238)
TRACK_COLOUR: RGB = (62, 62, 70)
FILL_COLOUR: RGB = (245, 245, 250)
MARKER_COLOUR: RGB = (255, 210, 80)
WATERMARK_BOX_COLOUR: RGB = (0, 0, 0)
WATERMARK_BOX_OPACITY = 0.55  # the box darkens what is beneath it without hiding it

# Without the Noto fonts Pillow's built-in font covers little beyond ASCII; these common characters cannot be
# reduced to ASCII by Unicode decomposition, so they get a hand-made stand-in instead of the font's empty box.
_FALLBACKS = {
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u00a0": " ",
    "\u00d7": "x",
    "\u00df": "ss",
    "\u00e6": "ae",
    "\u00c6": "AE",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u00f8": "o",
    "\u00d8": "O",
    "\u0142": "l",
    "\u0141": "L",
    "\u0111": "d",
    "\u0110": "D",
    "\u00f0": "d",
    "\u00fe": "th",
    "\u20ac": "EUR",
}


def simulated_frame_size(width: int, height: int, long_side: int = 640) -> tuple[int, int]:
    """Scale a nominal size (e.g. 1792x1024) so that its long side is ``long_side``, keeping the aspect ratio.

    Both results are even, as H.264 with 4:2:0 chroma requires, and at least 2. Sizes smaller than
    ``long_side`` are scaled up, so every simulated video of one shape comes out the same size.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, not {width}x{height}")
    if long_side < 2:
        raise ValueError(f"long_side must be at least 2, not {long_side}")
    scale = long_side / max(width, height)
    return _even(width * scale), _even(height * scale)


def render_video(
    path: Path,
    *,
    prompt: str,
    width: int,
    height: int,
    seconds: float,
    fps: int = 24,
    caption: str = "",
    watermark: str = "",
) -> None:
    """Write a browser-playable H.264 MP4 of exactly ``round(seconds * fps)`` frames to ``path``.

    A non-empty ``watermark`` is drawn on every frame in a semi-transparent box at the bottom right, just
    above the timecode; the prompt makes room for it.

    Width and height are rounded down to even numbers. The file appears atomically: it is written next to
    ``path`` under a hidden temporary name and renamed into place, so a reader never sees a partial file.
    """
    width, height = width - width % 2, height - height % 2
    if width < 2 or height < 2:
        raise ValueError(f"frame size must be at least 2x2, not {width}x{height}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, not {fps}")
    frame_count = round(seconds * fps)
    if frame_count < 1:
        raise ValueError(f"{seconds} s at {fps} fps is not even one frame")

    path = Path(path).absolute()
    # Absolute, so FFmpeg cannot read a "name:" prefix as a protocol. It must be a real path, not a Python
    # file object, because the faststart pass reopens the output by name to move the moov atom up front.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
    layout = _Layout.build(
        width, height, prompt=prompt, caption=caption, fps=fps, frame_count=frame_count, watermark=watermark
    )
    try:
        _encode(tmp, layout)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _encode(tmp: Path, layout: _Layout) -> None:
    fps = layout.fps
    height, width = layout.static.shape[:2]
    time_base = Fraction(1, fps)
    with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(
            "libx264",
            rate=fps,
            options={
                # veryfast makes files about 2.5x smaller than ultrafast for ~50% more encoding time.
                "preset": "veryfast",
                "crf": "28",
                # A keyframe exactly every second and no others (scene-cut detection only makes the GOP
                # irregular on synthetic frames). No B-frames: presentation order equals decode order, so
                # the MP4 needs no edit list and its duration is exactly frames / fps.
                "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0",
            },
        )
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = fps
        # swscale converts RGB to YUV with BT.601 coefficients; tagging that stops players guessing BT.709.
        stream.codec_context.colorspace = 6  # AVCOL_SPC_SMPTE170M
        stream.codec_context.color_primaries = 6  # AVCOL_PRI_SMPTE170M
        stream.codec_context.color_trc = 6  # AVCOL_TRC_SMPTE170M
        stream.codec_context.color_range = 1  # AVCOL_RANGE_MPEG, what swscale produces for yuv420p

        for index, buffer in enumerate(layout.frames()):
            frame = av.VideoFrame.from_ndarray(buffer, format="rgb24")
            frame.pts = index
            frame.time_base = time_base
            frame.duration = 1
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@dataclass(frozen=True)
class _DigitCell:
    x: int
    y: int
    sprites: tuple[np.ndarray, ...]  # the finished cell for each digit 0-9, background included


@dataclass(frozen=True)
class _Layout:
    """The static frame plus what is needed to draw the parts that change with time."""

    static: np.ndarray
    fps: int
    frame_count: int
    minute_digits: int
    digit_cells: tuple[_DigitCell, ...]
    strip: tuple[int, int]  # first and last+1 row of the band holding the bar and its marker
    bar: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) of the track
    marker: np.ndarray  # float32 alpha mask (0-1) of the round position marker

    @classmethod
    def build(
        cls,
        width: int,
        height: int,
        *,
        prompt: str,
        caption: str,
        fps: int,
        frame_count: int,
        watermark: str = "",
    ) -> _Layout:
        # Long: one layout pass down the frame; each part is placed against the ones drawn before it and
        # the digit sprites are cut from the finished image, so the steps share their measures.
        unit = min(width, height)
        margin = max(3, round(unit * 0.05))
        image = Image.fromarray(_background(width, height, prompt))
        top = margin
        caption = _fold(" ".join(caption[:1000].split()))
        if caption:
            font = _font(max(9, round(unit * 0.045)))
            text = _ellipsize(caption, font, width - 2 * margin)
            _text(image, (width / 2, top), text, font, CAPTION_COLOUR, anchor="ma")
            top += _line_height(font) + margin // 2

        # Bottom band: the progress bar, with the round marker centred on its line.
        bar_height = max(2, round(unit * 0.014))
        marker_size = max(bar_height + 4, round(unit * 0.045))
        bar_y0 = max(0, height - margin - (marker_size + bar_height) // 2)
        bar = (min(margin, width // 4), bar_y0, max(width - margin, width - width // 4), bar_y0 + bar_height)
        image.paste(TRACK_COLOUR, (bar[0], bar[1], bar[2], bar[3]))
        strip_top = max(0, bar_y0 + bar_height // 2 - marker_size // 2 - 1)
        strip = (strip_top, min(height, strip_top + marker_size + 2))

        # Timecode "mm:ss.d" above the bar, followed by the total length in a smaller size.
        minute_digits = max(2, len(str(frame_count // fps // 60)))
        big = _font(max(10, round(unit * 0.13)))
        small = _font(max(8, round(unit * 0.05)))
        stroke = _stroke(big)
        ascent, descent = big.getmetrics()
        cell_height = ascent + descent + 2 * stroke
        cell_top = max(0, strip[0] - max(2, margin // 2) - cell_height)
        baseline = stroke + ascent
        # Wide enough for the advance and for the stroked ink, so no digit is clipped by its sprite's edge.
        digit_width = max(max(_advance(big, d), _ink_width(big, d, stroke)) for d in "0123456789")
        pattern = "0" * minute_digits + ":00.0"
        widths = [digit_width if c == "0" else _advance(big, c) + stroke for c in pattern]
        total = f" / {_timecode(frame_count * 10 // fps, minute_digits)}"
        x = max(0, (width - sum(widths) - _advance(small, total)) // 2)
        digit_xs = []
        for char, cell_width in zip(pattern, widths, strict=True):
            if char == "0":
                digit_xs.append(x)
            else:
                _text(image, (x + cell_width / 2, cell_top + baseline), char, big, TEXT_COLOUR, anchor="ms")
            x += cell_width
        _text(image, (x, cell_top + baseline), total, small, CAPTION_COLOUR, anchor="ls")

        prompt_bottom = cell_top - margin // 2
        watermark = _fold(" ".join(watermark[:1000].split()))
        if watermark:
            # Drawn into the static image, clear of the timecode cells and the bar strip, so it is on every
            # frame and nothing redrawn per frame ever covers it.
            box_top = _draw_watermark(image, watermark, right=width - margin, bottom=prompt_bottom, unit=unit)
            prompt_bottom = box_top - margin // 2

        _draw_prompt(image, prompt, (margin, top, width - margin, prompt_bottom), unit)

        # Sprites are cut from the finished static image, so each carries exactly the background beneath it.
        cells = []
        for cell_x in digit_xs:
            sprites = []
            for digit in "0123456789":
                cell = image.crop((cell_x, cell_top, cell_x + digit_width, cell_top + cell_height))
                _text(cell, (digit_width / 2, baseline), digit, big, TEXT_COLOUR, anchor="ms")
                # Clipped to the frame: on a tiny frame the timecode does not fit and is cut off.
                sprite = np.asarray(cell, dtype=np.uint8)
                sprites.append(sprite[: max(0, height - cell_top), : max(0, width - cell_x)])
            cells.append(_DigitCell(cell_x, cell_top, tuple(sprites)))

        return cls(
            static=np.array(image, dtype=np.uint8),
            fps=fps,
            frame_count=frame_count,
            minute_digits=minute_digits,
            digit_cells=tuple(cells),
            strip=strip,
            bar=bar,
            marker=_disc(marker_size),
        )

    def frames(self) -> Iterator[np.ndarray]:
        """Yield every frame as an RGB array; it is one buffer updated in place, so copy it to keep it."""
        buffer = self.static.copy()
        shown = ""
        x0, y0, x1, y1 = self.bar
        strip_top, strip_bottom = self.strip
        size = self.marker.shape[0]
        alpha = self.marker[..., None]
        marker_colour = np.array(MARKER_COLOUR, dtype=np.float32)
        marker_y = (y0 + y1) // 2 - size // 2
        frame_height, frame_width = buffer.shape[:2]
        last = max(1, self.frame_count - 1)
        for index in range(self.frame_count):
            text = _timecode(index * 10 // self.fps, self.minute_digits).replace(":", "").replace(".", "")
            for position, cell in enumerate(self.digit_cells):
                if not shown or shown[position] != text[position]:
                    sprite = cell.sprites[int(text[position])]
                    buffer[cell.y : cell.y + sprite.shape[0], cell.x : cell.x + sprite.shape[1]] = sprite
            shown = text

            buffer[strip_top:strip_bottom] = self.static[strip_top:strip_bottom]
            # The first frame shows an empty bar and the last a full one, so both ends are recognisable.
            fill_x = x0 + round((x1 - x0) * index / last)
            buffer[y0:y1, x0:fill_x] = FILL_COLOUR
            mx, my = fill_x - size // 2, marker_y
            left, top = max(0, mx), max(0, my)
            right, bottom = min(frame_width, mx + size), min(frame_height, my + size)
            if right > left and bottom > top:
                region = buffer[top:bottom, left:right]
                a = alpha[top - my : bottom - my, left - mx : right - mx]
                region[...] = (region * (1 - a) + marker_colour * a + 0.5).astype(np.uint8)
            yield buffer


def _timecode(tenths: int, minute_digits: int) -> str:
    minutes, rest = divmod(tenths, 600)
    return f"{minutes:0{minute_digits}d}:{rest // 10:02d}.{rest % 10}"


def _background(width: int, height: int, prompt: str) -> np.ndarray:
    """A vertical gradient in a colour picked by the prompt's hash: mid-dark, so white text stays readable."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    saturation = 0.45 + digest[2] / 255 * 0.25
    value = 0.40 + digest[3] / 255 * 0.12
    base = np.array(colorsys.hsv_to_rgb(hue, saturation, value), dtype=np.float32) * 255
    shade = np.linspace(1.18, 0.62, height, dtype=np.float32)[:, None, None]
    column = np.clip(base[None, None, :] * shade, 0, 255)
    return np.ascontiguousarray(np.broadcast_to(column, (height, width, 3)).round().astype(np.uint8))


def _draw_prompt(image: Image.Image, prompt: str, box: tuple[int, int, int, int], unit: int) -> None:
    """Word-wrap the prompt into ``box``, shrinking the font until it fits and truncating as a last resort."""
    left, top, right, bottom = box
    max_width, max_height = right - left, bottom - top
    if max_width <= 0 or max_height <= 0:
        return
    # Even the smallest size cannot show this much; the cap only bounds the work for absurd input.
    paragraphs = [" ".join(p.split()) for p in _fold(prompt[:20_000]).splitlines()]
    paragraphs = [p for p in paragraphs if p] or ["(empty prompt)"]
    largest, smallest = max(9, round(unit * 0.075)), max(8, round(unit * 0.036))
    size = largest
    while True:
        font = _font(size)
        line_height = round(_line_height(font) * 1.2)
        capacity = max(1, max_height // line_height)
        lines = _wrap(paragraphs, font, max_width, limit=capacity + 1)
        if len(lines) <= capacity:
            break
        if size <= smallest:
            lines = lines[:capacity]
            lines[-1] = _ellipsize(lines[-1] + "\u2026", font, max_width, force=True)
            break
        size = max(smallest, round(size * 0.9))
    y = top + (max_height - len(lines) * line_height) / 2 + line_height / 2
    for line in lines:
        _text(image, (left + max_width / 2, y), line, font, TEXT_COLOUR, anchor="mm")
        y += line_height


def _draw_watermark(image: Image.Image, text: str, *, right: int, bottom: int, unit: int) -> int:
    """Draw ``text`` right-aligned in a semi-transparent dark box whose bottom-right corner is at
    (``right``, ``bottom``); return the box's top edge."""
    font = _font(max(8, round(unit * 0.04)))
    pad = max(2, round(font.size * 0.4))
    left_limit = image.width - right
    text = _ellipsize(text, font, max(1, right - left_limit - 2 * pad))
    box_width = _advance(font, text) + 2 * (pad + _stroke(font))
    box_height = _line_height(font) + 2 * pad
    box = (max(0, right - box_width), max(0, bottom - box_height), max(1, right), max(1, bottom))
    region = image.crop(box)
    shade = Image.new("RGB", region.size, WATERMARK_BOX_COLOUR)
    image.paste(Image.blend(region, shade, WATERMARK_BOX_OPACITY), box[:2])
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    _text(image, centre, text, font, TEXT_COLOUR, anchor="mm")
    return box[1]


def _wrap(paragraphs: list[str], font: Font, max_width: int, *, limit: int) -> list[str]:
    """Greedy word wrap that stops at ``limit`` lines, so a huge prompt costs no more than a long one.

    Word widths are summed rather than whole lines measured, which ignores kerning across spaces but keeps
    this linear in the prompt's length.
    """
    space = font.getlength(" ")
    lines: list[str] = []
    for paragraph in paragraphs:
        current: list[str] = []
        current_width = 0.0
        for word in paragraph.split(" "):
            word_width = font.getlength(word)
            if current and current_width + space + word_width <= max_width:
                current.append(word)
                current_width += space + word_width
                continue
            if current:
                lines.append(" ".join(current))
            if word_width > max_width and len(word) > 1:
                pieces = _break_word(word, font, max_width, limit=limit - len(lines) + 1)
                lines.extend(pieces[:-1])
                if len(lines) >= limit:
                    return lines
                word, word_width = pieces[-1], font.getlength(pieces[-1])
            current, current_width = [word], word_width
            if len(lines) >= limit:
                return lines
        lines.append(" ".join(current))
        if len(lines) >= limit:
            break
    return lines


def _break_word(word: str, font: Font, max_width: int, *, limit: int) -> list[str]:
    """Split a word wider than a line (a URL, say) wherever it has to be, into at most ``limit`` pieces."""
    pieces, start, width = [], 0, 0.0
    for index, char in enumerate(word):
        char_width = font.getlength(char)
        if index > start and width + char_width > max_width:
            pieces.append(word[start:index])
            start, width = index, 0.0
            if len(pieces) == limit - 1:
                break
        width += char_width
    pieces.append(word[start:])
    return pieces


def _ellipsize(text: str, font: Font, max_width: int, *, force: bool = False) -> str:
    """Shorten ``text`` with a trailing ellipsis until it fits (``force``: it already ends in one)."""
    if not force and font.getlength(text) <= max_width:
        return text
    body = text.removesuffix("\u2026") if force else text
    low, high = 0, len(body)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(body[:middle].rstrip() + "\u2026") <= max_width:
            low = middle
        else:
            high = middle - 1
    return body[:low].rstrip() + "\u2026"


def _text(
    image: Image.Image, xy: tuple[float, float], text: str, font: Font, fill: RGB, *, anchor: str
) -> None:
    font.draw(image, xy, text, fill, anchor=anchor, stroke=_stroke(font), stroke_fill=SHADOW_COLOUR)


def _fold(text: str) -> str:
    """Reduce text to characters the installed fonts have: without the Noto fonts, accents are dropped
    (é -> e) rather than boxed."""
    out = []
    for char in text:
        if _has_glyph(char):
            out.append(char)
        elif char in _FALLBACKS:
            out.append(_FALLBACKS[char])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(base if base and all(_has_glyph(c) for c in base) else char)
    return "".join(out)


@cache
def _has_glyph(char: str) -> bool:
    return char.isascii() or _font(16).has_glyph(char)


def _font(size: int) -> Font:
    return fonts.face(size)


def _stroke(font: Font) -> int:
    return max(1, round(font.size / 16))


def _advance(font: Font, text: str) -> int:
    return round(font.getlength(text))


def _ink_width(font: Font, text: str, stroke: int) -> int:
    left, _, right, _ = font.getbbox(text, stroke_width=stroke)
    return int(right - left)


def _line_height(font: Font) -> int:
    ascent, descent = font.getmetrics()
    return ascent + descent


def _disc(size: int) -> np.ndarray:
    """An anti-aliased filled circle of diameter ``size`` as an alpha mask."""
    radius = size / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    distance = np.hypot(xx - radius, yy - radius)
    mask: np.ndarray = np.clip(radius - distance, 0.0, 1.0).astype(np.float32)
    return mask


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)
