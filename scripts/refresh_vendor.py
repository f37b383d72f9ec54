#!/usr/bin/env python3
"""Refresh the third-party browser files the server serves itself: GraphiQL's
(lms_graphql/static/graphiql/vendor) and the REST API's Swagger UI (lms_graphql/static/apidocs/vendor).

    python3 scripts/refresh_vendor.py graphiql                     # the pinned versions below
    python3 scripts/refresh_vendor.py graphiql --graphiql 3.9.0    # try another version
    python3 scripts/refresh_vendor.py apidocs --swagger-ui-dist 5.36.0    # another Swagger UI

Fetches each package's tarball with `npm pack` (npm checks it against the registry's
integrity hash), copies the browser build and the package's LICENSE into
vendor/NAME@VERSION/, removes what an older refresh left, and writes vendor/MANIFEST.json:
the versions, the registry's integrity of each tarball and the sha256 of every file kept.
tests/test_graphiql_assets.py checks the files against those manifests. Needs node's npm and
the npm registry; nothing else.

GraphiQL stays on 3.x: its UMD build (window.GraphiQL, with graphql-ws bundled for
subscriptions) runs from plain <script> tags; 4.x and later ship ES modules only, which
would need a bundler here. React 18 is the newest React that GraphiQL 3 supports.
Swagger UI is 5.x: the first to render OpenAPI 3.1, the version FastAPI writes.
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

STATIC = Path(__file__).resolve().parent.parent / "lms_graphql" / "static"
MANIFEST = "MANIFEST.json"

Packages = dict[str, tuple[str, tuple[str, ...]]]
# bundle -> package -> (pinned version, files taken from its tarball's package/ folder)
BUNDLES: dict[str, Packages] = {
    "graphiql": {
        "graphiql": ("3.8.3", ("graphiql.min.js", "graphiql.min.css", "LICENSE")),
        "react": ("18.2.0", ("umd/react.production.min.js", "LICENSE")),
        "react-dom": ("18.2.0", ("umd/react-dom.production.min.js", "LICENSE")),
    },
    "apidocs": {
        "swagger-ui-dist": ("5.35.0", ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE")),
    },
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


def refresh(bundle: str, versions: dict[str, str]) -> dict[str, object]:
    vendor = STATIC / bundle / "vendor"
    packages: dict[str, object] = {}
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix=f"{bundle}-refresh-") as temp:
        work = Path(temp)
        staged = work / "vendor"
        staged.mkdir()
        for name, (_, wanted) in BUNDLES[bundle].items():
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
                    sys.exit(f"{name}@{version} has no {inside}: pick another version or update BUNDLES")
                target = staged / folder / Path(inside).name
                shutil.copyfile(source, target)
                files[f"{folder}/{target.name}"] = sha256_of(target)
            license_name = json.loads((unpacked / "package" / "package.json").read_text()).get("license")
            packages[name] = {"version": version, "integrity": packed["integrity"], "license": license_name}
        manifest: dict[str, object] = {
            "refreshedBy": "scripts/refresh_vendor.py",
            "packages": packages,
            "files": dict(sorted(files.items())),
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if vendor.exists():
            shutil.rmtree(vendor)
        vendor.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, vendor)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", choices=sorted(BUNDLES))
    for name, (version, _) in (item for packages in BUNDLES.values() for item in packages.items()):
        parser.add_argument(f"--{name}", default=version, metavar="VERSION", help=f"default {version}")
    options = vars(parser.parse_args())
    bundle = options["bundle"]
    versions = {name: options[name.replace("-", "_")] for name in BUNDLES[bundle]}
    manifest = refresh(bundle, versions)
    files = manifest["files"]
    assert isinstance(files, dict)
    vendor = STATIC / bundle / "vendor"
    total = sum((vendor / path).stat().st_size for path in files)
    print(f"wrote {len(files)} files ({total / 1024:.0f} KiB) and {MANIFEST} to {vendor}")
    for name, version in versions.items():
        print(f"  {name}@{version}")


if __name__ == "__main__":
    main()
