"""FFmpeg: probe a video, cut HLS renditions (360p and 720p, 1080p when the source has it)
with a master playlist, and a thumbnail. Runs the ffmpeg and ffprobe programs."""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEGMENT_SECONDS = 4
THUMBNAIL = "thumbnail.jpg"
MASTER = "master.m3u8"


@dataclass(frozen=True)
class Rendition:
    name: str
    height: int
    video_kbps: int

    def bandwidth(self, audio: bool) -> int:
        return (self.video_kbps + (96 if audio else 0)) * 1000


RENDITIONS = (Rendition("360p", 360, 800), Rendition("720p", 720, 2800))
FULL_HD = Rendition("1080p", 1080, 5000)


class MediaError(Exception):
    """The video could not be processed; ``permanent`` when retrying cannot help (not a video)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Probe:
    duration: float
    width: int
    height: int
    audio: bool


@dataclass(frozen=True)
class Made:
    probe: Probe
    renditions: list[dict[str, Any]]  # name, width, height, bandwidth, playlist (relative)


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise MediaError(f"{name} is not installed on the worker (Debian package ffmpeg)")
    return found


async def _run(*argv: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        out, err = await process.communicate()
    except BaseException:  # cancelled (the worker is stopping): FFmpeg must not run on alone
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise MediaError(f"{Path(argv[0]).name} failed: {' / '.join(tail) or 'no message'}")
    return out


async def probe(source: Path) -> Probe:
    try:
        out = await _run(
            _program("ffprobe"), "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(source)
        )
    except MediaError as error:
        raise MediaError(f"not a playable video ({error})", permanent=True) from None
    found = json.loads(out)
    video = next((s for s in found.get("streams", []) if s.get("codec_type") == "video"), None)
    duration = float(found.get("format", {}).get("duration") or 0)
    if video is None or not video.get("width") or duration <= 0:
        raise MediaError("not a playable video: no video stream with a duration", permanent=True)
    audio = any(s.get("codec_type") == "audio" for s in found.get("streams", []))
    return Probe(duration, int(video["width"]), int(video["height"]), audio)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


async def make_hls(source: Path, out: Path) -> Made:
    """``out`` gets {rendition}/index.m3u8 with its segments, master.m3u8 and thumbnail.jpg."""
    found = await probe(source)
    ffmpeg = _program("ffmpeg")
    chosen = [*RENDITIONS, *([FULL_HD] if found.height >= FULL_HD.height else [])]
    made: list[dict[str, Any]] = []
    for rendition in chosen:
        folder = out / rendition.name
        folder.mkdir(parents=True)
        width = _even(found.width * rendition.height / found.height)
        audio = ["-c:a", "aac", "-b:a", "96k", "-ac", "2"] if found.audio else ["-an"]
        await _run(
            ffmpeg, "-nostdin", "-y", "-v", "error", "-i", str(source),
            "-vf", f"scale={width}:{rendition.height}", "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main",
            "-b:v", f"{rendition.video_kbps}k", "-maxrate", f"{rendition.video_kbps * 107 // 100}k",
            "-bufsize", f"{rendition.video_kbps * 3 // 2}k",
            # Keyframes every 2 seconds, none on scene cuts: segments start alike in every rendition.
            "-g", "48", "-keyint_min", "48", "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*2)",
            *audio,
            "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(folder / "segment-%04d.ts"), str(folder / "index.m3u8"),
        )  # fmt: skip
        made.append(
            {
                "name": rendition.name,
                "width": width,
                "height": rendition.height,
                "bandwidth": rendition.bandwidth(found.audio),
                "playlist": f"{rendition.name}/index.m3u8",
            }
        )
    (out / MASTER).write_text(master_playlist(made), encoding="utf-8")
    at = min(1.0, found.duration / 2)
    await _run(
        ffmpeg, "-nostdin", "-y", "-v", "error", "-ss", f"{at:.3f}", "-i", str(source),
        "-frames:v", "1", "-vf", "scale=-2:360", str(out / THUMBNAIL),
    )  # fmt: skip
    return Made(found, made)


def master_playlist(renditions: list[dict[str, Any]]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for rendition in renditions:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={rendition['bandwidth']},"
            f'RESOLUTION={rendition["width"]}x{rendition["height"]},NAME="{rendition["name"]}"'
        )
        lines.append(rendition["playlist"])
    return "\n".join(lines) + "\n"
