"""A tenant as one file (`lms-graphql tenant export` / `tenant import`): its registry row, every row
of every tenant table and every stored object, restorable into a platform that does not have it,
ids preserved.

The archive is a gzip'd tar: ``manifest.json`` (format, schema revision, the registry row, each
table's file, columns and row count, each object's key and size), ``tables/NNN-<table>.copy``
(the rows as the binary COPY stream a placement move pipes between homes, in the order tables
refer to each other) and ``objects/<key>``. It is read in one REPEATABLE READ snapshot: one moment
of the tenant. An archive is imported only by code at the same schema revision (binary COPY needs
the same columns); migrate the source or the target first.

Command-line work: the database side is psycopg's blocking API, as a move's is; only the object
store is awaited."""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from lms_graphql.kit import channels
from lms_graphql.kit.clusters import Cluster
from lms_graphql.kit.homes import POOL, home_for
from lms_graphql.migration_helpers import schema_head
from lms_graphql.placement.provision import libpq
from lms_graphql.placement.table_copy import bypasses_rls, home_connection, select_rows, table_columns, tenant_tables
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage

FORMAT = "lms-graphql tenant archive"
VERSION = 1


class ArchiveError(Exception):
    """The archive cannot be made or restored; nothing was changed."""


@dataclass
class ArchiveReport:
    slug: str
    tenant_id: uuid.UUID
    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    archive_bytes: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        total = sum(self.rows.values())
        return (
            f"tenant {self.slug} ({self.tenant_id}): {total} rows in {len(self.rows)} tables, {self.objects} objects, "
            f"{self.archive_bytes} bytes, {self.seconds:.1f} s"
        )


def registry_row(
    owner_url: URL, *, slug: str | None = None, tenant_id: uuid.UUID | None = None
) -> dict[str, Any] | None:
    with psycopg.connect(libpq(owner_url)) as conn:
        row = conn.execute(
            "SELECT row_to_json(t) FROM tenants t WHERE t.slug = %s OR t.id = %s", (slug, tenant_id)
        ).fetchone()
    return dict(row[0]) if row else None


def _size(path: Path) -> int:
    return path.stat().st_size


def _add(tar: tarfile.TarFile, name: str, path: Path) -> None:
    tar.add(str(path), arcname=name, recursive=False)


async def export_tenant(
    owner_url: URL, clusters: dict[str, Cluster], storage: Storage, slug: str, target: Path
) -> ArchiveReport:
    started = time.monotonic()
    tenant = registry_row(owner_url, slug=slug)
    if tenant is None:
        raise ArchiveError(f"no tenant with slug {slug!r}")
    tenant_id = uuid.UUID(tenant["id"])
    home = home_for(tenant_id, tenant["placement"], tenant["cluster"])
    report = ArchiveReport(slug, tenant_id)
    manifest: dict[str, Any] = {"format": FORMAT, "version": VERSION, "revision": schema_head(), "tenant": tenant}
    with (
        tempfile.TemporaryDirectory(prefix="lms-archive-") as folder,
        tarfile.open(target, "w:gz", compresslevel=1) as tar,
    ):
        tables = []
        with home_connection(clusters, home, tenant_id) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            for number, table in enumerate(tenant_tables()):
                columns, _ = table_columns(conn, home.schema, table)
                name = f"tables/{number:03d}-{table}.copy"
                local = Path(folder) / name.replace("/", "_")
                with conn.cursor() as cursor, local.open("wb") as sink:
                    query = select_rows(table, columns, tenant_id)
                    with cursor.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query)) as copy:
                        for block in copy:
                            sink.write(block)
                    count = max(cursor.rowcount, 0)
                _add(tar, name, local)
                local.unlink()
                report.rows[table] = count
                tables.append({"table": table, "file": name, "columns": columns, "rows": count})
            conn.rollback()
        objects = []
        for key in await storage.store.keys_under(keys.tenant_prefix(tenant_id)):
            local = Path(folder) / uuid.uuid4().hex
            await storage.store.get_file(key, local)
            objects.append({"key": key, "file": f"objects/{key}", "bytes": local.stat().st_size})
            _add(tar, f"objects/{key}", local)
            local.unlink()
        report.objects = len(objects)
        manifest.update(tables=tables, objects=objects)
        path = Path(folder) / "manifest.json"
        path.write_text(json.dumps(manifest, indent=2, default=str))
        _add(tar, "manifest.json", path)
    report.archive_bytes = _size(target)
    report.seconds = time.monotonic() - started
    return report


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.extractfile("manifest.json")
    except KeyError:
        member = None
    if member is None:
        raise ArchiveError("not a tenant archive: it has no manifest.json")
    manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ArchiveError("not a tenant archive of this format")
    if manifest.get("revision") != schema_head():
        raise ArchiveError(
            f"the archive was made at schema revision {manifest.get('revision')}, this server is at {schema_head()}: "
            "import it with the same version"
        )
    return manifest


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    stream = tar.extractfile(name)
    if stream is None:
        raise ArchiveError(f"the archive lacks {name}")
    return stream


async def import_tenant(owner_url: URL, clusters: dict[str, Cluster], storage: Storage, source: Path) -> ArchiveReport:
    """Into the pool, all or nothing for the rows (one transaction); the objects after them."""
    started = time.monotonic()
    with tarfile.open(source, "r:gz") as tar:
        manifest = read_manifest(tar)
        tenant = manifest["tenant"]
        tenant_id = uuid.UUID(tenant["id"])
        if registry_row(owner_url, slug=tenant["slug"], tenant_id=tenant_id) is not None:
            raise ArchiveError(f"this platform has tenant {tenant['slug']} (or its id) already: nothing was imported")
        report = ArchiveReport(tenant["slug"], tenant_id)
        pooled = {**tenant, "placement": POOL.placement, "cluster": POOL.cluster, "frozen": False}
        with home_connection(clusters, POOL, tenant_id) as conn:
            conn.execute(
                "INSERT INTO tenants SELECT * FROM json_populate_record(NULL::tenants, %s::json)", (json.dumps(pooled),)
            )
            for entry in manifest["tables"]:
                _restore_table(conn, tar, entry)
                report.rows[entry["table"]] = entry["rows"]
            conn.execute(
                "SELECT pg_notify(%s, %s)",
                (channels.CONTROL_WIRE_CHANNEL, channels.pack(channels.REGISTRY, tenant["slug"])),
            )
            conn.commit()
        with tempfile.TemporaryDirectory(prefix="lms-archive-") as folder:
            for entry in manifest["objects"]:
                if not entry["key"].startswith(keys.tenant_prefix(tenant_id)):
                    raise ArchiveError(f"object {entry['key']} is not the tenant's")
                local = Path(folder) / uuid.uuid4().hex
                with _member(tar, entry["file"]) as stream, local.open("wb") as sink:
                    while block := stream.read(1 << 20):
                        sink.write(block)
                await storage.store.put_file(entry["key"], local, "application/octet-stream")
                local.unlink()
                report.objects += 1
    report.archive_bytes = _size(source)
    report.seconds = time.monotonic() - started
    return report


def _restore_table(conn: psycopg.Connection, tar: tarfile.TarFile, entry: dict[str, Any]) -> None:
    table, columns = entry["table"], entry["columns"]
    if table not in tenant_tables():
        raise ArchiveError(f"the archive names a table this schema does not have: {table}")
    listed = sql.SQL(", ").join(map(sql.Identifier, columns))
    direct = bypasses_rls(conn)
    into = sql.SQL("{} ({})").format(sql.Identifier(table), listed) if direct else sql.Identifier("restored_rows")
    if not direct:  # COPY FROM refuses a table row-level security applies to: through a temporary table
        conn.execute(
            sql.SQL("CREATE TEMP TABLE restored_rows AS SELECT {} FROM {} WITH NO DATA").format(
                listed, sql.Identifier(table)
            )
        )
    with (
        _member(tar, entry["file"]) as stream,
        conn.cursor() as cursor,
        cursor.copy(sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(into)) as copy,
    ):
        while block := stream.read(1 << 20):
            copy.write(block)
    if not direct:
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM restored_rows").format(sql.Identifier(table), listed, listed)
        )
        conn.execute("DROP TABLE restored_rows")
