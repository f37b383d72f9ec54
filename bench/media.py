"""The video pipeline's transcoding time: python -m bench.media [--quick]. A 10-second test clip
(FFmpeg's testsrc2 with a tone, made here) through make_hls (every rendition, the master playlist
and the thumbnail), against a baseline in the same run: one plain FFmpeg encode of the clip to
720p at the same preset, the least any pipeline must do. Wall time and the CPU of the FFmpeg
processes (RUSAGE_CHILDREN)."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lms_graphql.media import transcode
from tests.support.content import make_clip


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def timed(work: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    cpu, start = children_cpu(), time.perf_counter()
    await work()
    return {"wall_s": round(time.perf_counter() - start, 2), "cpu_s": round(children_cpu() - cpu, 2)}


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


async def measure(work: Path, seconds: float, height: int) -> dict[str, Any]:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None, "install FFmpeg (Debian package ffmpeg)"
    clip = make_clip(work / f"clip-{height}.mp4", seconds=seconds, width=height * 16 // 9, height=height)
    out = work / f"hls-{height}"
    made: list[transcode.Made] = []

    async def pipeline() -> None:
        made.append(await transcode.make_hls(clip, out))

    async def baseline() -> None:
        encode = await asyncio.create_subprocess_exec(
            ffmpeg, "-nostdin", "-y", "-v", "error", "-i", str(clip), "-vf", "scale=-2:720", "-c:v", "libx264",
            "-preset", "veryfast", "-b:v", "2800k", "-c:a", "aac", "-b:a", "96k", str(work / f"baseline-{height}.mp4"),
        )  # fmt: skip
        assert await encode.wait() == 0

    base = await timed(baseline)
    result = await timed(pipeline)
    return {
        "clip_seconds": seconds,
        "source": f"{height * 16 // 9}x{height}",
        "renditions": [rendition["name"] for rendition in made[0].renditions],
        "pipeline": {**result, "realtime_x": round(seconds / result["wall_s"], 2), "bytes": folder_bytes(out)},
        "baseline_720p_encode": base,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    seconds, heights = (2.0, [720]) if args.quick else (10.0, [720, 1080])
    with tempfile.TemporaryDirectory(prefix="bench-media-") as temp:
        return {"clips": [await measure(Path(temp), seconds, height) for height in heights]}


def table(results: dict[str, Any]) -> str:
    lines = [
        "| clip | renditions | pipeline wall s | pipeline CPU s | x realtime | baseline 720p encode wall s / CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for clip in results["clips"]:
        run, base = clip["pipeline"], clip["baseline_720p_encode"]
        lines.append(
            f"| {clip['clip_seconds']:g} s {clip['source']} | {', '.join(clip['renditions'])} | {run['wall_s']} | "
            f"{run['cpu_s']} | {run['realtime_x']} | {base['wall_s']} / {base['cpu_s']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 2-second 720p clip only")
    outcome = asyncio.run(main(parser.parse_args()))
    print(table(outcome))
    print(json.dumps(outcome, indent=2))
