"""The simulator's video renderer: real, seekable, browser-playable H.264 files of the requested shape."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any
from unittest import mock

import av
import numpy as np
import pytest

from sorastudio.simulator import render
from sorastudio.simulator.render import render_video, simulated_frame_size


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4's top-level boxes, in file order."""
    boxes = []
    with path.open("rb") as f:
        while header := f.read(8):
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0] - 8
            boxes.append(kind.decode("latin-1"))
            if size == 0:
                break
            f.seek(size - 8, 1)
    return boxes


def decode_frames(path: Path, indexes: set[int]) -> dict[int, np.ndarray]:
    with av.open(str(path)) as container:
        return {
            i: frame.to_ndarray(format="rgb24")
            for i, frame in enumerate(container.decode(video=0))
            if i in indexes
        }


def changed_pixels(a: np.ndarray, b: np.ndarray) -> int:
    return int((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 48).sum())


def make(directory: Path, name: str = "out.mp4", **overrides: Any) -> Path:
    options: dict[str, Any] = {
        "prompt": "A red fox trotting through fresh snow",
        "width": 320,
        "height": 180,
        "seconds": 2,
    }
    options.update(overrides)
    path = directory / name
    render_video(path, **options)
    return path


class TestRenderVideo:
    def test_it_writes_an_h264_mp4_of_the_requested_size_and_length(self, tmp_path: Path) -> None:
        path = make(tmp_path, caption="sora-2 · 2 s · simulated")

        with av.open(str(path)) as container:
            assert "mp4" in container.format.name.split(",")
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert stream.codec_context.pix_fmt == "yuv420p"
            assert (stream.width, stream.height) == (320, 180)
            assert stream.frames == 48
            assert container.duration is not None
            assert container.duration / 1_000_000 == pytest.approx(2.0, abs=1 / 24)
            assert stream.duration is not None
            assert stream.time_base is not None
            assert float(stream.duration * stream.time_base) == pytest.approx(2.0, abs=1 / 24)
            assert sum(1 for _ in container.decode(stream)) == 48

    def test_it_puts_the_moov_atom_before_the_media_data(self, tmp_path: Path) -> None:
        boxes = top_level_boxes(make(tmp_path))

        assert boxes[0] == "ftyp"
        assert boxes.index("moov") < boxes.index("mdat")

    def test_it_puts_a_keyframe_at_every_second(self, tmp_path: Path) -> None:
        path = make(tmp_path, seconds=3, fps=10)

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert stream.time_base is not None
            keyframe_times = [
                float(packet.pts * stream.time_base)
                for packet in container.demux(stream)
                if packet.size and packet.is_keyframe and packet.pts is not None
            ]
        assert keyframe_times == [0.0, 1.0, 2.0]

    def test_it_rounds_the_frame_count_and_odd_sizes(self, tmp_path: Path) -> None:
        path = make(tmp_path, width=181, height=321, seconds=1.02, fps=25)

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (180, 320)
            assert stream.frames == 26  # round(1.02 * 25) = round(25.5) = 26

    def test_it_shows_the_running_time_so_frames_at_different_times_differ(self, tmp_path: Path) -> None:
        frames = decode_frames(make(tmp_path), {0, 1, 30})

        # 0.0 s against 1.25 s: other digits and a longer progress bar.
        assert changed_pixels(frames[0], frames[30]) > 200
        # 0.0 s against 0.04 s: the timecode reads the same, but the bar's marker has moved.
        assert 0 < changed_pixels(frames[0], frames[1]) < changed_pixels(frames[0], frames[30])

    def test_it_renders_a_portrait_video_with_a_long_prompt(self, tmp_path: Path) -> None:
        prompt = "Slow dolly shot along a rain-soaked neon street at night, reflections everywhere. " * 30
        path = make(tmp_path, width=180, height=320, prompt=prompt, caption="sora-2-pro · 25 s · simulated")

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (180, 320)
            assert stream.frames == 48

    def test_it_colours_the_background_by_the_prompt(self, tmp_path: Path) -> None:
        def corner(name: str, prompt: str) -> np.ndarray:
            path = make(tmp_path, name, prompt=prompt, seconds=0.1, width=64, height=64)
            return decode_frames(path, {0})[0][2, 2].astype(int)

        first = corner("a.mp4", "a lighthouse in a storm")
        again = corner("b.mp4", "a lighthouse in a storm")
        other = corner("c.mp4", "a desert caravan at noon")

        assert np.abs(first - again).max() <= 2
        assert np.abs(first - other).max() > 10

    def test_it_replaces_the_file_atomically_and_leaves_nothing_behind(self, tmp_path: Path) -> None:
        path = tmp_path / "out.mp4"
        path.write_bytes(b"previous version")

        with (
            mock.patch.object(render._Layout, "frames", side_effect=RuntimeError("boom")),
            pytest.raises(RuntimeError, match="boom"),
        ):
            render_video(path, prompt="x", width=64, height=64, seconds=1)
        assert path.read_bytes() == b"previous version"
        assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]

        render_video(path, prompt="x", width=64, height=64, seconds=1)
        assert top_level_boxes(path)[0] == "ftyp"
        assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"seconds": 0.01}, "not even one frame"),
            ({"seconds": -1}, "not even one frame"),
            ({"width": 1}, "at least 2x2"),
            ({"fps": 0}, "fps must be positive"),
        ],
    )
    def test_it_rejects_a_video_without_frames_or_pixels(
        self, tmp_path: Path, overrides: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            make(tmp_path, **overrides)
        assert list(tmp_path.iterdir()) == []


class TestSimulatedFrameSize:
    @pytest.mark.parametrize(
        ("nominal", "long_side", "expected"),
        [
            ((1280, 720), 640, (640, 360)),
            ((720, 1280), 640, (360, 640)),
            ((1792, 1024), 640, (640, 366)),
            ((1024, 1792), 640, (366, 640)),
            ((1792, 1024), 1280, (1280, 732)),
            ((500, 500), 320, (320, 320)),
        ],
    )
    def test_it_scales_the_long_side_and_keeps_the_aspect_ratio(
        self, nominal: tuple[int, int], long_side: int, expected: tuple[int, int]
    ) -> None:
        assert simulated_frame_size(*nominal, long_side=long_side) == expected

    @pytest.mark.parametrize("nominal", [(1792, 1024), (1000, 333), (333, 1000), (10_000, 1), (7, 3)])
    def test_it_always_gives_even_sizes_of_at_least_two(self, nominal: tuple[int, int]) -> None:
        width, height = simulated_frame_size(*nominal)

        assert (width % 2, height % 2) == (0, 0)
        assert min(width, height) >= 2
        assert max(width, height) == 640

    @pytest.mark.parametrize(
        ("width", "height", "long_side"), [(0, 720, 640), (1280, -1, 640), (1280, 720, 1)]
    )
    def test_it_rejects_sizes_that_are_not_positive(self, width: int, height: int, long_side: int) -> None:
        with pytest.raises(ValueError, match="must"):
            simulated_frame_size(width, height, long_side)
