"""Where the server's time goes under one scenario: python -m bench.profile [dashboard|catalogue].

Samples the server process with py-spy (``pip install py-spy``; not a dependency) while the
load generator drives the scenario on the quick data set (or --default-sizes), then prints the functions with the
most samples on the stack (inclusive) and at the top of it (self). ``--flame out.svg`` also
writes a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx

from bench import data
from bench.__main__ import CATALOGUE, DASHBOARD, tokens_for
from bench.harness import bench_database, run_server
from bench.load import drive, graphql_call

QUERIES = {"dashboard": DASHBOARD, "catalogue": CATALOGUE}


def summarise(collapsed: Path, top: int) -> str:
    """Inclusive and self sample counts per function from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0] + ")" for frame in stack.split(";")]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive %  function"]
    lines += [f"{100 * n / total:10.1f}  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "self %  function"]
    lines += [f"{100 * n / total:6.1f}  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def find_py_spy() -> str:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy")
    return spy


async def main(args: argparse.Namespace) -> None:
    spy = find_py_spy()
    with bench_database() as owner_url:
        sizes = data.Sizes(tenants=10) if args.default_sizes else data.Sizes(tenants=10, students=400, courses=60)
        prepared = data.prepare(owner_url, sizes)
        tokens, _ = tokens_for(prepared.owner_conninfo, prepared.dataset, 400)
        with run_server(owner_url, LMS_BENCH="1") as server, tempfile.TemporaryDirectory() as scratch:
            query = QUERIES[args.scenario]
            async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
                await drive(graphql_call(http, query, tokens), 30, args.concurrency)  # warm up
                collapsed = Path(scratch) / "stacks.txt"
                command = [spy, "record", "--pid", str(server.process.pid), "--rate", "200", "--nonblocking"]
                recorder = subprocess.Popen(
                    [*command, "--format", "raw", "--output", str(collapsed)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                flame = (
                    subprocess.Popen(
                        [*command, "--output", args.flame], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                    )
                    if args.flame
                    else None
                )
                await asyncio.sleep(1)
                run = await drive(graphql_call(http, query, tokens), args.requests, args.concurrency)
                for process in (recorder, flame):
                    if process is not None:
                        process.send_signal(2)
                        process.wait(timeout=30)
            print(run.summary())
            print(summarise(collapsed, args.top))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", nargs="?", default="dashboard", choices=sorted(QUERIES))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--flame", help="also write a flame graph (SVG) here")
    parser.add_argument("--default-sizes", action="store_true", help="the default data set (slower to generate)")
    asyncio.run(main(parser.parse_args()))
