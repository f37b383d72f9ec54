#!/usr/bin/env python3
"""Refresh the GraphiQL files the server serves itself (lms_graphql/static/graphiql/vendor).

    python3 scripts/refresh_graphiql.py                       # the pinned versions below
    python3 scripts/refresh_graphiql.py --graphiql 3.9.0      # try another version

Fetches each package's tarball with `npm pack` (npm checks it against the registry's
integrity hash), copies the browser build and the package's LICENSE into
vendor/NAME@VERSION/, removes what an older refresh left, and writes vendor/MANIFEST.json:
the versions, the registry's integrity of each tarball and the sha256 of every file kept.
tests/test_graphiql_assets.py checks the files against that manifest. Needs node's npm and
the npm registry; nothing else.

GraphiQL stays on 3.x: its UMD build (window.GraphiQL, with graphql-ws bundled for
subscriptions) runs from plain <script> tags; 4.x and later ship ES modules only, which
would need a bundler here. React 18 is the newest React that GraphiQL 3 supports.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "lms_graphql" / "static" / "graphiql" / "vendor"
MANIFEST = "MANIFEST.json"

# package -> (pinned version, files taken from its tarball's package/ folder)
PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "graphiql": ("3.8.3", ("graphiql.min.js", "graphiql.min.css", "LICENSE")),
    "react": ("18.2.0", ("umd/react.production.min.js", "LICENSE")),
    "react-dom": ("18.2.0", ("umd/react-dom.production.min.js", "LICENSE")),
}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def npm_pack(spec: str, into: Path) -> dict[str, object]:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is not installed: install node.js (npm comes with it)")
    done = subprocess.run(
        [npm, "pack", spec, "--json", "--silent", "--pack-destination", str(into)],
        cwd=into,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"npm pack {spec} failed:\n{done.stderr.strip()}")
    (packed,) = json.loads(done.stdout)
    result: dict[str, object] = packed
    return result


def refresh(versions: dict[str, str]) -> dict[str, object]:
    packages: dict[str, object] = {}
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="graphiql-refresh-") as temp:
        work = Path(temp)
        staged = work / "vendor"
        staged.mkdir()
        for name, (_, wanted) in PACKAGES.items():
            version = versions[name]
            packed = npm_pack(f"{name}@{version}", work)
            unpacked = work / f"{name}-unpacked"
            with tarfile.open(work / str(packed["filename"])) as tarball:
                tarball.extractall(unpacked, filter="data")
            folder = f"{name}@{version}"
            (staged / folder).mkdir()
            for inside in wanted:
                source = unpacked / "package" / inside
                if not source.is_file():
                    sys.exit(f"{name}@{version} has no {inside}: pick another version or update PACKAGES")
                target = staged / folder / Path(inside).name
                shutil.copyfile(source, target)
                files[f"{folder}/{target.name}"] = sha256_of(target)
            license_name = json.loads((unpacked / "package" / "package.json").read_text()).get("license")
            packages[name] = {"version": version, "integrity": packed["integrity"], "license": license_name}
        manifest: dict[str, object] = {
            "refreshedBy": "scripts/refresh_graphiql.py",
            "packages": packages,
            "files": dict(sorted(files.items())),
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if VENDOR.exists():
            shutil.rmtree(VENDOR)
        VENDOR.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, VENDOR)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, (version, _) in PACKAGES.items():
        parser.add_argument(f"--{name}", default=version, metavar="VERSION", help=f"default {version}")
    options = vars(parser.parse_args())
    versions = {name: options[name.replace("-", "_")] for name in PACKAGES}
    manifest = refresh(versions)
    files = manifest["files"]
    assert isinstance(files, dict)
    total = sum((VENDOR / path).stat().st_size for path in files)
    print(f"wrote {len(files)} files ({total / 1024:.0f} KiB) and {MANIFEST} to {VENDOR}")
    for name, version in versions.items():
        print(f"  {name}@{version}")


if __name__ == "__main__":
    main()
