"""Persisted queries and trusted documents as the real client toolchains make them (npm packages
pinned by tests/js/package-lock.json), against a server process: Apollo Client 4's
persisted-queries link (hashing as it does, over POST and GET), the manifest Apollo's
generate-persisted-query-manifest writes, and relay-compiler's persisted queries sent by
relay-runtime as Relay's guide says (doc_id)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lms_graphql.kit.db import Database
from tests.support.builders import build_course
from tests.support.node import node_with_packages
from tests.support.people import PASSWORD, Person, PersonFactory, TenantFactory
from tests.support.servers import CONSOLE_SCRIPT, LiveServer, live_server

pytestmark = pytest.mark.slow

JS = Path(__file__).resolve().parent / "js"
APOLLO_MANIFEST_TOOL = JS / "node_modules" / "@apollo" / "generate-persisted-query-manifest" / "cli.js"
TITLE = "Persisted queries in practice"
APOLLO_OPERATIONS = ("ApolloViewer", "ApolloCourse")
FREE_TEXT = "query FreeText { tenant { slug } }"


@pytest.fixture(scope="session")
def node() -> Path:
    return node_with_packages(JS, "Apollo Client and Relay cannot run")


class World:
    def __init__(self, student: Person, course_id: uuid.UUID) -> None:
        self.student, self.course_id = student, course_id
        self.slug = student.tenant.slug


@pytest.fixture
async def world(make_tenant: TenantFactory, make_user: PersonFactory, db: Database) -> World:
    tenant = await make_tenant()
    instructor, student = await make_user(tenant, "instructor"), await make_user(tenant)
    course = await build_course(db, tenant, instructor.id, title=TITLE, modules=1, lessons=1)
    return World(student, course.id)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def execute(*argv: str | Path, cwd: Path = JS, env: dict[str, str] | None = None) -> str:
    """A program's output; it must succeed (its errors in the assertion when not)."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, errors = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, (output + errors).decode()
    return output.decode()


async def client_run(node: Path, script: str, *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(await execute(node, script, *args))
    return result


async def cli(env: dict[str, str], *args: str) -> str:
    """The console script as operators run it (this process's environment, PYTHONPATH included)."""
    return await execute(CONSOLE_SCRIPT, *args, env=env)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """What the CLI changes reaches the server over the control channel (NOTIFY)."""
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not so after {seconds} s")


async def post(server: LiveServer, body: dict[str, Any], token: str, slug: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        return await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}", "X-Tenant-ID": slug})


def persisted(hash_: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": hash_}}


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


async def trusted_only(env: dict[str, str], server: LiveServer, token: str, slug: str) -> None:
    await cli(env, "documents", "mode", slug, "trusted-only")

    async def refused() -> bool:
        return codes(await post(server, {"query": FREE_TEXT}, token, slug)) == ["DOCUMENT_NOT_TRUSTED"]

    await eventually(refused)


def apollo_answers(world: World) -> dict[str, Any]:
    """What Apollo Client returns for apollo/operations.js (it adds __typename to every selection)."""
    return {
        "ApolloViewer": {"me": {"__typename": "User", "id": str(world.student.id), "role": "STUDENT"}},
        "ApolloCourse": {"course": {"__typename": "Course", "id": str(world.course_id), "title": TITLE}},
    }


def request(method: str, name: str, hash_: str, *, text: bool, status: int, code: str | None = None) -> dict[str, Any]:
    """One request as apollo_persisted.mjs saw it go out and come back."""
    return {
        "method": method,
        "operationName": name,
        "hash": hash_,
        "withText": text,
        "status": status,
        "codes": [code] if code else [],
    }


# --- Apollo Client: automatic persisted queries ----------------------------------------------


@pytest.mark.parametrize("mode", ["post", "get"])
async def test_apollo_clients_persisted_queries_link_registers_its_own_hashes(
    node: Path, env_for_cli: dict[str, str], world: World, mode: str
) -> None:
    """Apollo Client's link sends its hash alone, is told PERSISTED_QUERY_NOT_FOUND, sends the text
    with it (always by POST), and from then on the hash alone is answered (by GET with
    useGETForHashedQueries). The hash is Apollo's own: SHA-256 of the text it prints."""
    method = "GET" if mode == "get" else "POST"
    with live_server(env_for_cli) as server:
        token = await server.login(world.slug, world.student.email, PASSWORD)
        run = await client_run(
            node, "apollo_persisted.mjs", f"{server.base}/graphql", world.slug, token, str(world.course_id), mode
        )
        expected = apollo_answers(world)
        assert run["rounds"] == [expected, expected]
        hashed = run["hashed"]
        assert sorted(hashed) == sorted(APOLLO_OPERATIONS)
        for seen in hashed.values():
            assert seen["hash"] == sha256(seen["text"])
            assert "__typename" in seen["text"]  # what Apollo sends, not what apollo/operations.js holds
        # The link hashes the document as written: the fragment first.
        assert hashed["ApolloCourse"]["text"].startswith("fragment ApolloCourseCard on Course")
        first_round = [
            step
            for name in APOLLO_OPERATIONS
            for step in (
                request(method, name, hashed[name]["hash"], text=False, status=400, code="PERSISTED_QUERY_NOT_FOUND"),
                request("POST", name, hashed[name]["hash"], text=True, status=200),
            )
        ]
        second_round = [
            request(method, name, hashed[name]["hash"], text=False, status=200) for name in APOLLO_OPERATIONS
        ]
        assert run["requests"] == first_round + second_round

        # The server keeps Apollo's text under Apollo's hash: a client that is not Apollo's, sending
        # only that hash, has the same answer.
        viewer = await post(server, {"extensions": persisted(hashed["ApolloViewer"]["hash"])}, token, world.slug)
        assert viewer.json() == {"data": expected["ApolloViewer"]}
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            course = await http.get(
                "/graphql",
                params={
                    "extensions": json.dumps(persisted(hashed["ApolloCourse"]["hash"])),
                    "variables": json.dumps({"id": str(world.course_id)}),
                },
                headers={"Authorization": f"Bearer {token}", "X-Tenant-ID": world.slug},
            )
        assert course.json() == {"data": expected["ApolloCourse"]}


# --- Apollo: a persisted query manifest as trusted documents --------------------------------------


async def test_apollos_manifest_registered_as_trusted_documents_serves_apollo_client(
    node: Path, env_for_cli: dict[str, str], world: World, tmp_path: Path
) -> None:
    """Apollo's generate-persisted-query-manifest writes the manifest (running the operations
    through Apollo Client: __typename added, definitions sorted, SHA-256 ids); the CLI registers
    it; in trusted-only mode Apollo Client with generatePersistedQueryIdsFromManifest is answered
    by id alone while free text is refused."""
    manifest_path = tmp_path / "persisted-query-manifest.json"
    await execute(
        node,
        APOLLO_MANIFEST_TOOL,
        "--config",
        "apollo/persisted-query-manifest.config.cjs",
        env={"APOLLO_MANIFEST_OUTPUT": str(manifest_path)},
    )
    manifest = json.loads(manifest_path.read_text())
    assert (manifest["format"], manifest["version"]) == ("apollo-persisted-query-manifest", 1)
    operations = {operation["name"]: operation for operation in manifest["operations"]}
    assert sorted(operations) == sorted(APOLLO_OPERATIONS)
    for operation in operations.values():
        assert operation["id"] == sha256(operation["body"])
        assert operation["type"] == "query"
    # Sorted: the operation before its fragment, unlike apollo/operations.js.
    assert operations["ApolloCourse"]["body"].startswith("query ApolloCourse")
    added = await cli(env_for_cli, "documents", "add", str(manifest_path), "--tenant", world.slug)
    assert f"2 documents registered, 0 already registered (tenant {world.slug})" in added
    for name, operation in operations.items():
        assert f"{operation['id']}  {name}  cost " in added

    with live_server(env_for_cli, LMS_GRAPHIQL="false") as server:
        # Signed in first: the sign-in mutation is free text, which trusted-only refuses.
        token = await server.login(world.slug, world.student.email, PASSWORD)
        await trusted_only(env_for_cli, server, token, world.slug)
        args = (f"{server.base}/graphql", world.slug, token, str(world.course_id))

        run = await client_run(node, "apollo_persisted.mjs", *args, "manifest", str(manifest_path))
        expected = apollo_answers(world)
        assert run["rounds"] == [expected, expected]
        by_id = [request("POST", name, operations[name]["id"], text=False, status=200) for name in APOLLO_OPERATIONS]
        assert run["requests"] == by_id + by_id  # never the text

        # The link hashing by itself (sha256 of what it prints, as written): the same id for a
        # document without fragments, which is answered; another for the one whose fragment comes
        # first, which is not registered: its text, sent after PERSISTED_QUERY_NOT_FOUND, is refused.
        run = await client_run(node, "apollo_persisted.mjs", *args, "post")
        hashed = run["hashed"]
        assert hashed["ApolloViewer"]["hash"] == operations["ApolloViewer"]["id"]
        assert hashed["ApolloCourse"]["hash"] != operations["ApolloCourse"]["id"]
        for round_ in run["rounds"]:
            assert round_["ApolloViewer"] == expected["ApolloViewer"]
            assert round_["ApolloCourse"]["codes"] == ["DOCUMENT_NOT_TRUSTED"], round_
        viewer = request("POST", "ApolloViewer", operations["ApolloViewer"]["id"], text=False, status=200)
        course_hash = hashed["ApolloCourse"]["hash"]
        not_found = request(
            "POST", "ApolloCourse", course_hash, text=False, status=400, code="PERSISTED_QUERY_NOT_FOUND"
        )
        not_trusted = request("POST", "ApolloCourse", course_hash, text=True, status=400, code="DOCUMENT_NOT_TRUSTED")
        # The second time, the server either asks for the text again, or refuses the hash at once:
        # it remembered the refused text as an automatic persisted query, which is not trusted
        # either (as it does today: it keeps an automatic persisted query before running it).
        refused_by_hash = {**not_trusted, "withText": False}
        assert run["requests"][:4] == [viewer, not_found, not_trusted, viewer]
        assert run["requests"][4:] in ([not_found, not_trusted], [refused_by_hash])

        refused = await post(server, {"query": FREE_TEXT}, token, world.slug)
        assert (refused.status_code, codes(refused)) == (400, ["DOCUMENT_NOT_TRUSTED"])
        # The registered text itself, sent as text without its id, is not trusted either.
        as_text = await post(server, {"query": operations["ApolloViewer"]["body"]}, token, world.slug)
        assert codes(as_text) == ["DOCUMENT_NOT_TRUSTED"]


# --- Relay: relay-compiler's persisted queries ----------------------------------------------------


def _operation_name(text: str) -> str:
    named = re.match(r"(?:query|mutation) (\w+)", text)
    assert named is not None, text
    return named.group(1)


def relay_compiler(node: Path) -> Path:
    """relay-compiler's native binary for this platform (as its cli.js picks it), or a skip."""
    found = subprocess.run(
        [node, "-p", "require('relay-compiler')"], cwd=JS, capture_output=True, text=True, check=False
    ).stdout.strip()
    if found in ("", "null"):
        pytest.skip("relay-compiler ships no binary for this platform: the Relay test cannot run")
    binary = Path(found)
    try:
        subprocess.run([binary, "--version"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"relay-compiler's binary {binary} does not run here ({exc}): the Relay test cannot run")
    return binary


async def test_relay_compilers_persisted_queries_registered_as_trusted_documents(
    node: Path, env_for_cli: dict[str, str], world: World, tmp_path: Path
) -> None:
    """relay-compiler (persistConfig: a local file, MD5) compiles tests/js/relay against the schema
    the server exports; the CLI registers its persisted_queries.json; relay-runtime, sending
    {doc_id, variables} as Relay's guide does, has its answers in trusted-only mode and
    normalizes them into its store."""
    compiler = relay_compiler(node)
    project = tmp_path / "relay"
    (project / "src").mkdir(parents=True)
    for source in (JS / "relay").glob("*.js"):
        shutil.copy(source, project / "src" / source.name)
    (project / "schema.graphql").write_text(await cli(env_for_cli, "export-schema"))
    persisted_file = project / "persisted_queries.json"
    persisted_file.write_text("{}")  # relay-compiler adds to the file, which must exist
    config = {
        "src": "./src",
        "schema": "./schema.graphql",
        "language": "javascript",
        "eagerEsModules": True,
        "persistConfig": {"file": "./persisted_queries.json", "algorithm": "MD5"},
    }
    (project / "relay.config.json").write_text(json.dumps(config))
    (project / "package.json").write_text(json.dumps({"type": "module"}))  # the artifacts are ES modules
    await execute(compiler, cwd=project)

    query_map: dict[str, str] = json.loads(persisted_file.read_text())
    names = {_operation_name(text): document_id for document_id, text in query_map.items()}
    assert sorted(names) == ["RelayCourseQuery", "RelayMeQuery"]
    for document_id, text in query_map.items():
        assert document_id == hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Relay's id
    # Relay selects the ids itself, and the fragment travels in the query's text.
    assert "fragment RelayCourse_card on Course" in query_map[names["RelayCourseQuery"]]
    added = await cli(env_for_cli, "documents", "add", str(persisted_file), "--tenant", world.slug)
    assert f"2 documents registered, 0 already registered (tenant {world.slug})" in added

    with live_server(env_for_cli, LMS_GRAPHIQL="false") as server:
        token = await server.login(world.slug, world.student.email, PASSWORD)
        await trusted_only(env_for_cli, server, token, world.slug)
        run = await client_run(
            node,
            "relay_persisted.mjs",
            f"{server.base}/graphql",
            world.slug,
            token,
            str(project / "src" / "__generated__"),
            str(world.course_id),
        )
    student, course = str(world.student.id), str(world.course_id)
    answers = {answer["name"]: answer for answer in run["answers"]}
    assert sorted(answers) == ["RelayCourseQuery", "RelayMeQuery"]
    for name, answer in answers.items():
        assert (answer["id"], answer["text"], answer["status"]) == (names[name], None, 200)
    assert answers["RelayMeQuery"]["body"] == {"data": {"me": {"role": "STUDENT", "id": student}}}
    assert answers["RelayCourseQuery"]["body"] == {"data": {"course": {"title": TITLE, "id": course}}}
    # What a component reads: its own selections (the ids Relay added stay in the store).
    assert run["results"]["RelayMeQuery"] == {"me": {"role": "STUDENT"}}
    assert run["results"]["RelayCourseQuery"]["course"]["__id"] == course  # the fragment's data is masked
    records = run["records"]
    assert (records[course]["__typename"], records[course]["title"]) == ("Course", TITLE)
    assert records[student]["role"] == "STUDENT"
