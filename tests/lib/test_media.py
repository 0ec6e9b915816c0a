"""Probing downloaded videos and cutting posters from them."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from sorastudio.lib.media import NotAVideo, VideoInfo, probe_video, write_poster
from sorastudio.simulator.render import render_video


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s, 320x180, 24 fps H.264 MP4 with its moov atom up front, shared by the module's tests."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    render_video(path, prompt="A paper boat on a puddle", width=320, height=180, seconds=2)
    return path


def poster_pixels(video: Path, poster: Path, at_seconds: float) -> np.ndarray:
    write_poster(video, poster, at_seconds=at_seconds)
    with Image.open(poster) as image:
        return np.asarray(image.convert("RGB"), dtype=int)


def differs(a: np.ndarray, b: np.ndarray) -> bool:
    """Different pictures, not just JPEG noise."""
    return int((np.abs(a - b).max(axis=2) > 64).sum()) > 100


class TestProbeVideo:
    def test_it_describes_a_video(self, video: Path) -> None:
        info = probe_video(video)

        assert info == VideoInfo(duration=info.duration, width=320, height=180, codec="h264")
        assert info.duration == pytest.approx(2.0, abs=1 / 24)

    def test_it_accepts_a_string_path(self, video: Path) -> None:
        assert probe_video(str(video)).width == 320

    def test_it_rejects_a_text_file(self, tmp_path: Path) -> None:
        text = tmp_path / "notes.mp4"
        text.write_text("this is not a video\n" * 50)

        with pytest.raises(NotAVideo, match="not a readable video"):
            probe_video(text)

    def test_it_rejects_an_empty_file(self, tmp_path: Path) -> None:
        empty = tmp_path / "empty.mp4"
        empty.touch()

        with pytest.raises(NotAVideo):
            probe_video(empty)

    # The moov atom is at the front, so most cuts leave a header that describes frames no longer there.
    @pytest.mark.parametrize("keep", [600, 0.5, 0.9, 0.999])
    def test_it_rejects_a_truncated_mp4(self, video: Path, tmp_path: Path, keep: float) -> None:
        data = video.read_bytes()
        truncated = tmp_path / "truncated.mp4"
        truncated.write_bytes(data[: int(len(data) * keep) if keep < 1 else int(keep)])

        with pytest.raises(NotAVideo, match=r"\w"):
            probe_video(truncated)

    def test_it_rejects_a_file_without_video(self, tmp_path: Path) -> None:
        path = tmp_path / "sound.m4a"
        with av.open(str(path), "w", format="mp4") as container:
            stream = container.add_stream("aac", rate=48000)
            stream.layout = "mono"
            for index in range(10):
                frame = av.AudioFrame.from_ndarray(
                    np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
                )
                frame.sample_rate = 48000
                frame.pts = index * 1024
                frame.time_base = Fraction(1, 48000)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))

        with pytest.raises(NotAVideo, match="no video"):
            probe_video(path)

    def test_it_leaves_a_missing_file_an_os_error(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            probe_video(tmp_path / "missing.mp4")


class TestWritePoster:
    def test_it_writes_a_jpeg_scaled_down_to_the_maximum_width(self, video: Path, tmp_path: Path) -> None:
        poster = tmp_path / "poster.jpg"

        write_poster(video, poster, max_width=160)

        with Image.open(poster) as image:
            assert image.format == "JPEG"
            assert image.size == (160, 90)
        assert [p.name for p in tmp_path.iterdir()] == ["poster.jpg"]

    def test_it_does_not_scale_up(self, video: Path, tmp_path: Path) -> None:
        poster = tmp_path / "poster.jpg"

        write_poster(video, poster)

        with Image.open(poster) as image:
            assert image.size == (320, 180)

    def test_it_takes_the_frame_at_the_requested_time(self, video: Path, tmp_path: Path) -> None:
        start = poster_pixels(video, tmp_path / "start.jpg", 0)
        one = poster_pixels(video, tmp_path / "one.jpg", 1.0)
        again = poster_pixels(video, tmp_path / "again.jpg", 1.0)

        assert differs(start, one)
        assert not differs(one, again)

    def test_it_takes_the_last_frame_of_a_shorter_video(self, video: Path, tmp_path: Path) -> None:
        one = poster_pixels(video, tmp_path / "one.jpg", 1.0)
        last = poster_pixels(video, tmp_path / "last.jpg", 47 / 24)
        beyond = poster_pixels(video, tmp_path / "beyond.jpg", 60)

        assert differs(one, beyond)
        assert not differs(last, beyond)

    def test_it_replaces_an_existing_poster(self, video: Path, tmp_path: Path) -> None:
        poster = tmp_path / "poster.jpg"
        poster.write_bytes(b"old")

        write_poster(video, poster)

        assert poster.read_bytes()[:3] == b"\xff\xd8\xff"
        assert [p.name for p in tmp_path.iterdir()] == ["poster.jpg"]

    def test_it_rejects_a_text_file_and_writes_nothing(self, tmp_path: Path) -> None:
        text = tmp_path / "notes.mp4"
        text.write_text("this is not a video\n" * 50)

        with pytest.raises(NotAVideo):
            write_poster(text, tmp_path / "poster.jpg")
        assert [p.name for p in tmp_path.iterdir()] == ["notes.mp4"]

    def test_it_leaves_a_missing_file_an_os_error(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            write_poster(tmp_path / "missing.mp4", tmp_path / "poster.jpg")
