"""Persisted queries and trusted documents: the manifests client toolchains write, registering
them (CLI), asking for them by id over HTTP and websockets, and trusted-only tenants."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets

from lms_graphql.cli import main
from lms_graphql.config import Settings
from lms_graphql.documents.manifest import ManifestError, read_manifest
from lms_graphql.kit import graphql as kit_graphql
from lms_graphql.kit.db import Database
from tests.support.http import app_client, login
from tests.support.people import PASSWORD, PersonFactory, TenantFactory
from tests.support.servers import LEGACY_WS, TRANSPORT_WS, live_server

ME = "query Me { me { id role } }"
TENANT = "query TenantName { tenant { slug } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


async def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The console script, beside the app under test (it runs an event loop of its own)."""
    return await asyncio.to_thread(_run_cli, capsys, list(argv))


def manifest(tmp_path: Path, documents: dict[str, str], name: str = "persisted-documents.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(documents))
    return str(path)


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Changes made by the CLI reach the server over the control channel (NOTIFY)."""
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not so after {seconds} s")


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


# --- manifests ----------------------------------------------------------------------------


def test_the_manifests_of_relay_codegen_and_apollo_are_read() -> None:
    relay = {hashlib.md5(ME.encode()).hexdigest(): ME}  # noqa: S324 - Relay's default id is MD5
    codegen = {sha256(ME): ME, hashlib.sha1(TENANT.encode()).hexdigest(): TENANT}  # noqa: S324
    apollo = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": sha256(ME), "name": "Me", "type": "query", "body": ME}],
    }
    assert [(e.document_id, e.body) for e in read_manifest(json.dumps(relay).encode())] == list(relay.items())
    assert [e.body for e in read_manifest(json.dumps(codegen).encode())] == [ME, TENANT]
    assert [(e.document_id, e.body) for e in read_manifest(json.dumps(apollo).encode())] == [(sha256(ME), ME)]
    # The GraphQL over HTTP form of an id names the same document.
    (entry,) = read_manifest(json.dumps({f"sha256:{sha256(ME)}": ME}).encode())
    assert entry.document_id == sha256(ME)
    (opaque,) = read_manifest(json.dumps({"dashboard-v3": ME}).encode())
    assert opaque.document_id == "dashboard-v3"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({sha256(TENANT): ME}, "not the hash of its document"),
        ({hashlib.md5(b"x").hexdigest(): ME}, "MD5"),  # noqa: S324
        ({sha256(ME): ME, f"sha256:{sha256(ME)}": ME + " "}, "hash"),
        ({"has space": ME}, "printable"),
        ({"id": ""}, "non-empty"),
        ({}, "no documents"),
        ([ME], "expected a JSON object"),
        ({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}, "version"),
    ],
)
def test_a_manifest_that_does_not_hold_together_is_refused(raw: Any, reason: str) -> None:
    with pytest.raises(ManifestError, match=reason):
        read_manifest(json.dumps(raw).encode())


# --- registering, and asking by id ----------------------------------------------------------


@pytest.mark.usefixtures("env_for_cli")
async def test_a_registered_document_answers_by_its_id_in_every_form(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    student = await make_user(tenant)
    token = await login(client, student)
    headers = {"Authorization": f"Bearer {token}"}
    code, out, err = await run_cli(
        capsys, "documents", "add", manifest(tmp_path, {sha256(ME): ME}), "--tenant", tenant.slug
    )
    assert (code, err) == (0, ""), out
    assert f"1 documents registered, 0 already registered (tenant {tenant.slug})" in out
    assert f"{sha256(ME)}  Me  cost " in out
    again = await run_cli(capsys, "documents", "add", manifest(tmp_path, {sha256(ME): ME}), "--tenant", tenant.slug)
    assert "0 documents registered, 1 already registered" in again[1]

    validated_before = len(kit_graphql._validated)
    for body in (
        {"documentId": f"sha256:{sha256(ME)}"},
        {"documentId": sha256(ME)},
        {"doc_id": sha256(ME)},
        {"extensions": persisted(ME)},
        {"query": ME, "extensions": persisted(ME)},
    ):
        response = await client.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, (body, response.text)
        assert response.json()["data"]["me"] == {"id": str(student.id), "role": "STUDENT"}
    # Validated when registered, not again when asked for.
    assert len(kit_graphql._validated) == validated_before

    # What admins see of them.
    listing = (
        "{ trustedDocuments { mode documents { documentId operationNames operationKinds cost source platform } } }"
    )
    admin = await login(client, await make_user(tenant, "admin"))
    shown = await client.post("/graphql", json={"query": listing}, headers={"Authorization": f"Bearer {admin}"})
    (own,) = [d for d in shown.json()["data"]["trustedDocuments"]["documents"] if not d["platform"]]
    assert shown.json()["data"]["trustedDocuments"]["mode"] == "any"
    assert own["documentId"] == sha256(ME)
    assert (own["operationNames"], own["operationKinds"], own["source"]) == (
        ["Me"],
        ["query"],
        "persisted-documents.json",
    )
    assert own["cost"] >= 2
    forbidden = await client.post("/graphql", json={"query": listing}, headers=headers)
    assert codes(forbidden) == ["FORBIDDEN"]

    # Another tenant's clients do not know it.
    stranger = await login(client, await make_user(other))
    response = await client.post(
        "/graphql", json={"documentId": sha256(ME)}, headers={"Authorization": f"Bearer {stranger}"}
    )
    assert (response.status_code, codes(response)) == (400, ["PERSISTED_QUERY_NOT_FOUND"])

    code, out, _ = await run_cli(capsys, "documents", "list", "--tenant", tenant.slug)
    assert code == 0
    assert f"1 documents (tenant {tenant.slug})" in out
    assert "from persisted-documents.json" in out
    code, out, _ = await run_cli(capsys, "documents", "remove", f"sha256:{sha256(ME)}", "--tenant", tenant.slug)
    assert code == 0, out

    async def forgotten() -> bool:
        response = await client.post("/graphql", json={"documentId": sha256(ME)}, headers=headers)
        return codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]

    await eventually(forgotten)
    assert (await run_cli(capsys, "documents", "remove", sha256(ME), "--tenant", tenant.slug))[0] == 2


@pytest.mark.usefixtures("env_for_cli")
async def test_the_platforms_documents_serve_every_tenant_and_a_tenants_own_come_first(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    tenant = await make_tenant()
    token = await login(client, await make_user(tenant))
    shared_id = f"platform-{uuid.uuid4().hex[:8]}"
    code, out, _ = await run_cli(capsys, "documents", "add", manifest(tmp_path, {shared_id: TENANT}))
    assert code == 0
    assert "the platform's, for every tenant" in out
    response = await client.post(
        "/graphql", json={"documentId": shared_id}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.json() == {"data": {"tenant": {"slug": tenant.slug}}}
    # The same id in the tenant's own manifest wins there.
    await run_cli(capsys, "documents", "add", manifest(tmp_path, {shared_id: ME}, "own.json"), "--tenant", tenant.slug)

    async def own_first() -> bool:
        response = await client.post(
            "/graphql", json={"documentId": shared_id}, headers={"Authorization": f"Bearer {token}"}
        )
        return "me" in (response.json().get("data") or {})

    await eventually(own_first)
    code, _, err = await run_cli(capsys, "documents", "add", manifest(tmp_path, {shared_id: ME}, "clash.json"))
    assert code == 2
    assert "registered for another document" in err
    assert (await run_cli(capsys, "documents", "remove", shared_id))[0] == 0


@pytest.mark.usefixtures("env_for_cli")
async def test_a_manifest_with_an_invalid_document_registers_nothing(
    make_tenant: TenantFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Database
) -> None:
    tenant = await make_tenant()
    documents = {sha256(ME): ME, sha256("{ nope }"): "{ nope }"}
    code, _, err = await run_cli(capsys, "documents", "add", manifest(tmp_path, documents), "--tenant", tenant.slug)
    assert code == 1
    assert "Cannot query field 'nope'" in err
    assert "nothing was registered" in err
    assert "0 documents" in (await run_cli(capsys, "documents", "list", "--tenant", tenant.slug))[1]
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    assert (await run_cli(capsys, "documents", "add", str(bad)))[0] == 2
    assert (await run_cli(capsys, "documents", "add", str(tmp_path / "missing.json")))[0] == 2
    assert (await run_cli(capsys, "documents", "list", "--tenant", "no-such-tenant"))[0] == 2


# --- automatic persisted queries --------------------------------------------------------------


async def test_automatic_persisted_queries_as_apollo_client_sends_them(
    client: httpx.AsyncClient, make_tenant: TenantFactory, make_user: PersonFactory
) -> None:
    tenant = await make_tenant()
    token = await login(client, await make_user(tenant))
    document = f"query Mine{uuid.uuid4().hex[:6]} {{ me {{ id }} }}"
    extensions = json.dumps(persisted(document))
    auth = {"Authorization": f"Bearer {token}"}
    first = await client.get("/graphql", params={"extensions": extensions}, headers=auth)
    assert (first.status_code, codes(first)) == (400, ["PERSISTED_QUERY_NOT_FOUND"])
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"  # older Apollo clients match it
    registered = await client.post(
        "/graphql", json={"query": document, "extensions": persisted(document)}, headers=auth
    )
    assert registered.status_code == 200
    assert "me" in registered.json()["data"]
    by_hash = await client.get("/graphql", params={"extensions": extensions}, headers=auth)
    assert by_hash.json() == registered.json()
    assert by_hash.headers["cache-control"] == "private, no-store"  # personal data

    wrong = await client.post("/graphql", json={"query": ME, "extensions": persisted(document)}, headers=auth)
    assert (wrong.status_code, codes(wrong)) == (400, ["BAD_USER_INPUT"])
    assert "does not match" in wrong.json()["errors"][0]["message"]
    for bad in (
        {"persistedQuery": {"version": 2, "sha256Hash": sha256(ME)}},
        {"persistedQuery": {"version": 1, "sha256Hash": "XYZ"}},
        {"persistedQuery": "yes"},
    ):
        response = await client.post("/graphql", json={"extensions": bad}, headers=auth)
        assert (response.status_code, codes(response)) == (400, ["BAD_USER_INPUT"]), bad
    # A text that does not validate (or parse) takes no place in the cache.
    for junk in ("{ nope }", "{ tenant { slug "):
        await client.post("/graphql", json={"query": junk, "extensions": persisted(junk)}, headers=auth)
        again = await client.post("/graphql", json={"extensions": persisted(junk)}, headers=auth)
        assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"], junk
    mixed = await client.post("/graphql", json={"documentId": "other", "extensions": persisted(document)}, headers=auth)
    assert codes(mixed) == ["BAD_USER_INPUT"]


async def test_a_public_persisted_document_fetched_by_get_may_be_cached_by_others(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    headers = {"X-Tenant-ID": tenant.slug}
    await client.post("/graphql", json={"query": TENANT, "extensions": persisted(TENANT)}, headers=headers)
    response = await client.get("/graphql", params={"extensions": json.dumps(persisted(TENANT))}, headers=headers)
    assert response.json() == {"data": {"tenant": {"slug": tenant.slug}}}
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["vary"] == "Host, X-Tenant-ID, Authorization, Accept"
    sent_as_text = await client.get("/graphql", params={"query": TENANT}, headers=headers)
    assert sent_as_text.headers["cache-control"] == "private, no-store"


# --- trusted-only ---------------------------------------------------------------------------


async def test_a_trusted_only_tenant_runs_registered_documents_only(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    env_for_cli: dict[str, str],
    db: Database,
) -> None:
    tenant, open_tenant = await make_tenant(), await make_tenant()
    student, admin = await make_user(tenant), await make_user(tenant, "admin")
    student_auth = {"Authorization": f"Bearer {await login(client, student)}"}
    admin_auth = {"Authorization": f"Bearer {await login(client, admin)}"}
    await run_cli(capsys, "documents", "add", manifest(tmp_path, {sha256(ME): ME}), "--tenant", tenant.slug)
    code, out, _ = await run_cli(capsys, "documents", "mode", tenant.slug, "trusted-only")
    assert (code, out) == (0, f"tenant {tenant.slug} now accepts registered documents only")

    async def refused() -> bool:
        response = await client.post("/graphql", json={"query": TENANT}, headers=student_auth)
        return codes(response) == ["DOCUMENT_NOT_TRUSTED"] and response.status_code == 400

    await eventually(refused)
    by_id = await client.post("/graphql", json={"documentId": sha256(ME)}, headers=student_auth)
    assert by_id.json()["data"]["me"]["id"] == str(student.id)
    # An automatic persisted query is not a trusted document, and the registered text sent
    # without its id is not either: the id is what the allow-list checks.
    for body in ({"query": TENANT, "extensions": persisted(TENANT)}, {"query": ME}):
        response = await client.post("/graphql", json=body, headers=student_auth)
        assert codes(response) == ["DOCUMENT_NOT_TRUSTED"], body
    # Admins explore in GraphiQL where it is served; the tenant beside is not concerned.
    explored = await client.post("/graphql", json={"query": TENANT}, headers=admin_auth)
    assert explored.json() == {"data": {"tenant": {"slug": tenant.slug}}}
    beside = await client.post("/graphql", json={"query": TENANT}, headers={"X-Tenant-ID": open_tenant.slug})
    assert "errors" not in beside.json()
    async with app_client(db, env_for_cli, LMS_GRAPHIQL="false") as production:
        refused_admin = await production.post("/graphql", json={"query": TENANT}, headers=admin_auth)
        assert codes(refused_admin) == ["DOCUMENT_NOT_TRUSTED"]
    await run_cli(capsys, "documents", "mode", tenant.slug, "any")

    async def open_again() -> bool:
        response = await client.post("/graphql", json={"query": TENANT}, headers=student_auth)
        return "errors" not in response.json()

    await eventually(open_again)


async def test_the_whole_server_can_be_trusted_only(
    make_tenant: TenantFactory, make_user: PersonFactory, env_for_cli: dict[str, str], db: Database
) -> None:
    tenant = await make_tenant()
    async with app_client(db, env_for_cli, LMS_TRUSTED_DOCUMENTS="trusted-only") as http:
        anonymous = await http.post("/graphql", json={"query": TENANT}, headers={"X-Tenant-ID": tenant.slug})
        assert codes(anonymous) == ["DOCUMENT_NOT_TRUSTED"]
    with pytest.raises(Exception, match="LMS_TRUSTED_DOCUMENTS must be one of any, trusted-only"):
        Settings.from_env({**env_for_cli, "LMS_TRUSTED_DOCUMENTS": "sometimes"})


# --- over websockets ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_documents_by_id_over_websockets(
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    protocol: str,
) -> None:
    tenant = await make_tenant()
    student = await make_user(tenant)
    await run_cli(capsys, "documents", "add", manifest(tmp_path, {sha256(ME): ME}), "--tenant", tenant.slug)
    start = "subscribe" if protocol == TRANSPORT_WS else "start"
    with live_server(env_for_cli, LMS_GRAPHIQL="false") as server:
        # Signed in first: in trusted-only mode the client's own sign-in is a registered document too.
        token = await server.login(tenant.slug, student.email, PASSWORD)
        await run_cli(capsys, "documents", "mode", tenant.slug, "trusted-only")

        async def refused() -> bool:
            body = await server.gql(TENANT, Authorization=f"Bearer {token}")
            return [e["extensions"]["code"] for e in body.get("errors", [])] == ["DOCUMENT_NOT_TRUSTED"]

        await eventually(refused)
        async with websockets.connect(server.ws_url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"

            async def ask(operation: str, payload: dict[str, Any]) -> dict[str, Any]:
                await ws.send(json.dumps({"id": operation, "type": start, "payload": payload}))
                while True:
                    message = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                    if message.get("id") == operation and message["type"] != "complete":
                        return dict(message)

            answer = await ask("1", {"extensions": persisted(ME)})
            assert answer["payload"]["data"]["me"]["id"] == str(student.id)
            answer = await ask("2", {"documentId": sha256(ME)})
            assert answer["payload"]["data"]["me"]["id"] == str(student.id)
            for operation, payload, code in (
                ("3", {"documentId": "unknown"}, "PERSISTED_QUERY_NOT_FOUND"),
                ("4", {"query": TENANT}, "DOCUMENT_NOT_TRUSTED"),
                ("5", {"query": "subscription { studentNotifications { title } }"}, "DOCUMENT_NOT_TRUSTED"),
            ):
                answer = await ask(operation, payload)
                assert answer["type"] == "error", answer
                errors = answer["payload"] if isinstance(answer["payload"], list) else [answer["payload"]]
                assert errors[0]["extensions"]["code"] == code, answer


@pytest.mark.slow
async def test_a_refused_operation_id_does_not_lend_its_document_to_the_next(
    env_for_cli: dict[str, str],
    make_tenant: TenantFactory,
    make_user: PersonFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    tenant = await make_tenant()
    student = await make_user(tenant)
    watch = "subscription Watch { studentNotifications { title } }"
    await run_cli(capsys, "documents", "add", manifest(tmp_path, {sha256(watch): watch}), "--tenant", tenant.slug)
    with live_server(env_for_cli, LMS_GRAPHIQL="false", LMS_WS_MAX_SUBSCRIPTIONS="1") as server:
        token = await server.login(tenant.slug, student.email, PASSWORD)
        await run_cli(capsys, "documents", "mode", tenant.slug, "trusted-only")

        async def refused() -> bool:
            body = await server.gql(TENANT, Authorization=f"Bearer {token}")
            return [e["extensions"]["code"] for e in body.get("errors", [])] == ["DOCUMENT_NOT_TRUSTED"]

        await eventually(refused)
        async with websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
            by_id = {"documentId": sha256(watch)}
            await ws.send(json.dumps({"id": "a", "type": "subscribe", "payload": by_id}))
            await ws.send(json.dumps({"id": "b", "type": "subscribe", "payload": by_id}))  # over the limit
            limit = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            assert (limit["id"], limit["type"]) == ("b", "error"), limit
            await ws.send(json.dumps({"id": "a", "type": "complete"}))
            await ws.send(json.dumps({"id": "b", "type": "subscribe", "payload": {"query": TENANT}}))
            while (answer := orjson.loads(await asyncio.wait_for(ws.recv(), 5))).get("id") != "b":
                pass
            assert answer["type"] == "error", answer
            assert answer["payload"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
