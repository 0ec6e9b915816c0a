"""Inspecting downloaded videos: what they are (``probe_video``) and a still for them (``write_poster``).

Both read through FFmpeg (PyAV) a packet at a time and never load a whole file into memory. Anything FFmpeg
cannot make sense of becomes ``NotAVideo`` with a message fit to show a user; a missing or unreadable file
is not that, and stays an ``OSError``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import Image

StrPath = str | os.PathLike[str]

POSTER_QUALITY = 82

_INCOMPLETE = "the video is incomplete"
_CUT_SHORT = " (was the download cut short?)"

# The microsecond unit FFmpeg uses for container-level timestamps and durations (AV_TIME_BASE).
_CONTAINER_TIME_BASE = Fraction(1, 1_000_000)


@dataclass(frozen=True)
class VideoInfo:
    duration: float  # seconds; 0.0 when the file does not say and it cannot be worked out
    width: int
    height: int
    codec: str  # FFmpeg's codec name, e.g. "h264", "hevc", "vp9", "av1"


class NotAVideo(Exception):
    """The file is not a video that can be read: not a media file at all, no video stream, or cut short."""


def probe_video(path: StrPath) -> VideoInfo:
    """Describe the video in ``path``, after checking that its end is really there.

    A download that stopped early often still has a complete header (an MP4 with its moov atom up front
    describes every frame before any of them), so the last keyframe's group is read too: a cut-off file
    has a short or missing packet there.
    """
    with _open(path) as container:
        stream = _video_stream(container)
        try:
            duration = _duration(container, stream)
            _check_tail(container, stream, duration)
            # The format's name ("av1"), not the decoder's ("libdav1d").
            codec = stream.codec_context.codec.canonical_name
        except av.FFmpegError as exc:
            raise NotAVideo(_describe(exc)) from None
        return VideoInfo(duration=duration, width=stream.width, height=stream.height, codec=codec)


def write_poster(
    video_path: StrPath, poster_path: StrPath, *, at_seconds: float = 1.0, max_width: int = 960
) -> None:
    """Save the frame shown at ``at_seconds`` (or the first one after it) as a JPEG at ``poster_path``.

    A video shorter than ``at_seconds`` gives its last frame. The image is scaled down to ``max_width``
    if it is wider, and the file appears atomically, so a reader never sees a half-written poster.
    """
    if max_width < 1:
        raise ValueError(f"max_width must be at least 1, not {max_width}")
    with _open(video_path) as container:
        stream = _video_stream(container)
        try:
            frame = _frame_at(container, stream, max(0.0, at_seconds))
            image = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
        except av.FFmpegError as exc:
            raise NotAVideo(_describe(exc)) from None
    if image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.LANCZOS)

    poster_path = Path(poster_path)
    tmp = poster_path.with_name(f".{poster_path.name}.{secrets.token_hex(6)}.part")
    try:
        image.convert("RGB").save(tmp, format="JPEG", quality=POSTER_QUALITY, optimize=True, progressive=True)
        os.replace(tmp, poster_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def _open(path: StrPath) -> Iterator[InputContainer]:
    # Absolute, so that FFmpeg cannot take a "name:" prefix for a protocol such as "http:" or "concat:".
    name = os.path.abspath(os.fspath(path))
    # Opened by Python first so that a missing or unreadable file is a plain OSError; FFmpeg reports some
    # kinds of corrupt data with errno values (EPERM, EIO) that PyAV would also turn into OSErrors.
    with open(name, "rb"):
        pass
    try:
        container = av.open(name, mode="r", metadata_errors="replace")
    except av.FFmpegError as exc:
        raise NotAVideo(_describe(exc)) from None
    with container:
        yield container


def _video_stream(container: InputContainer) -> VideoStream:
    if not container.streams.video:
        raise NotAVideo("the file has no video in it")
    return container.streams.video[0]


def _duration(container: InputContainer, stream: VideoStream) -> float:
    if container.duration:
        return float(container.duration * _CONTAINER_TIME_BASE)
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    rate = stream.average_rate or stream.guessed_rate
    if stream.frames and rate:
        return float(stream.frames / rate)
    return 0.0


def _check_tail(container: InputContainer, stream: VideoStream, duration: float) -> None:
    """Read from the last keyframe to the end; raise NotAVideo if the file stops before its data does.

    Any short packet (in any stream: a cut in the final audio chunk counts too) or missing video packets
    mean the file was cut off. At least one frame is decoded, to show that the video is not just packets.
    """
    time_base = stream.time_base
    start = stream.start_time or 0
    if time_base and duration > 0:
        # Seeking "backward" from the end lands on the last keyframe. Should that fail, everything is
        # demuxed from the start instead: slower, but still only one packet in memory at a time.
        try:
            container.seek(start + int(duration / time_base), stream=stream, backward=True)
        except av.FFmpegError:
            container.seek(0)

    packets = decoded = 0
    last_end: int | None = None
    for packet in container.demux():
        if packet.is_corrupt:
            raise NotAVideo(f"{_INCOMPLETE}: its data stops part-way{_CUT_SHORT}")
        if packet.stream_index != stream.index:
            continue
        if packet.size == 0:  # the empty packet PyAV adds at the end of each stream, to flush the decoder
            if not decoded:
                decoded = len(packet.decode())
            continue
        packets += 1
        if packet.pts is not None:
            # The maximum, not the last: with B-frames the last packet decoded is not the last one shown.
            end = packet.pts + (packet.duration or 0)
            last_end = end if last_end is None else max(last_end, end)
        if not decoded:
            decoded = len(packet.decode())
    if not packets:
        raise NotAVideo(f"{_INCOMPLETE}: its last frames are missing{_CUT_SHORT}")
    if not decoded:
        raise NotAVideo("the video's frames cannot be decoded")
    # Only the video stream's own length is trusted here: the container's may include a longer audio track.
    if stream.duration and time_base and last_end is not None:
        missing = float((stream.duration + start - last_end) * time_base)
        frame_interval = float(1 / stream.average_rate) if stream.average_rate else 0.05
        # One frame of slack, for muxers that round the track's length up.
        if missing > frame_interval + 0.001:
            raise NotAVideo(f"{_INCOMPLETE}: its last {missing:.1f} s are missing{_CUT_SHORT}")


def _frame_at(container: InputContainer, stream: VideoStream, seconds: float) -> VideoFrame:
    """The first frame shown at or after ``seconds`` from the start, or the last frame if there is none."""
    time_base = stream.time_base
    start = stream.start_time or 0
    start_seconds = float(start * time_base) if time_base else 0.0
    rate = stream.average_rate or stream.guessed_rate
    duration = _duration(container, stream)
    if duration and rate:
        seconds = min(seconds, max(0.0, duration - float(1 / rate)))

    if seconds > 0 and time_base:
        try:
            container.seek(start + int(seconds / time_base), stream=stream, backward=True)
        except av.FFmpegError:
            container.seek(0)
    chosen = _decode_until(container, stream, start_seconds + seconds)
    if chosen is None and seconds > 0:
        # A seek beyond what the index knows about (a wrong duration, say) can land past every frame.
        container.seek(0)
        chosen = _decode_until(container, stream, start_seconds + seconds)
    if chosen is None:
        raise NotAVideo("the video has no frames that can be decoded")
    return chosen


def _decode_until(container: InputContainer, stream: VideoStream, target: float) -> VideoFrame | None:
    chosen = None
    for frame in container.decode(stream):
        chosen = frame
        # A millisecond of slack, so a frame stamped 0.99999 for "1.0" still counts as being at it.
        if frame.time is None or frame.time >= target - 0.001:
            break
    return chosen


def _describe(exc: av.FFmpegError) -> str:
    reason = (exc.strerror or "").strip().rstrip(".") or "unknown error"
    return f"the file is not a readable video ({reason[0].lower()}{reason[1:]})"
