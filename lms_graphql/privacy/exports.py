"""A person's data as an archive (GDPR art. 15 and 20): requested through the API, built by a job,
fetched through a signed link that expires, every step in the audit log.

The archive is a zip: ``manifest.json`` (who, when, what each file holds), ``tables/<table>.json``
(the person's rows of every table models/personal_data.py names a subject for, as JSON arrays) and
``files/<key>`` (their submission attachments)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.audit import service as audit
from lms_graphql.auth.permissions import Permission
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError, not_found
from lms_graphql.kit.db import Database
from lms_graphql.kit.deferral import defer_job
from lms_graphql.models.personal_data import CATALOG
from lms_graphql.privacy.export_repository import DataExportRepository
from lms_graphql.privacy.repository import PersonalDataRepository
from lms_graphql.storage import keys
from lms_graphql.storage.backends import Storage
from lms_graphql.users.repository import UserRepository

log = logging.getLogger("lms_graphql.privacy")

EXPORT_TASK, EXPORT_QUEUE = "privacy.export", "privacy"
ARCHIVE_KEPT = timedelta(days=7)
LINK_SECONDS = 3600
EXPORTS_PATH = "/exports"
MAX_WAITING = 3  # unfinished exports per person: asking again does not queue more work
FORMAT = "lms-graphql personal data export"


async def request_export(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, user_id: uuid.UUID) -> Any:
    """A pending export of ``user_id``'s data, its job deferred in this transaction."""
    # The person's row, locked: concurrent requests count the waiting exports one after the other.
    if await UserRepository(session, tenant_id).lock(user_id) is None:
        raise not_found("user not found")
    exports = DataExportRepository(session, tenant_id)
    if await exports.waiting_of(user_id) >= MAX_WAITING:
        raise LmsError(
            ErrorCode.RATE_LIMITED,
            f"{MAX_WAITING} exports of this person's data are still being built: wait for them",
            retryable=True,
            retryAfter=60,
        )
    export = await exports.add(user_id, viewer.id)
    args = {"tenant_id": str(tenant_id), "export_id": str(export.id)}
    await defer_job(session, EXPORT_TASK, args, queue=EXPORT_QUEUE, queueing_lock=f"export-{export.id}")
    return export


async def visible_export(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, export_id: uuid.UUID) -> Any:
    """The export, if it is the viewer's own or the viewer manages the tenant's users."""
    row = await DataExportRepository(session, tenant_id).get(export_id)
    if row is None or (row.user_id != viewer.id and not viewer.can(Permission.USER_MANAGE)):
        raise not_found("export not found")
    return row


async def exports_of(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[Any]:
    return await DataExportRepository(session, tenant_id).of_user(user_id)


def download_link(storage: Storage, export: Any) -> str | None:
    """A signed link to the archive, or None while there is none (pending, failed, expired)."""
    if export.status != "ready" or export.expires_at is None or export.expires_at <= datetime.now(UTC):
        return None
    lifetime = min(LINK_SECONDS, int((export.expires_at - datetime.now(UTC)).total_seconds()))
    return storage.signer.url("GET", f"{export.tenant_id}/{export.id}", lifetime, base=EXPORTS_PATH)


async def build_export(db: Database, storage: Storage, tenant_id: uuid.UUID, export_id: uuid.UUID) -> None:
    """The job: writes the archive, stores it, marks the export ready (or failed, with why)."""
    async with db.tenant_transaction(tenant_id) as session:
        export = await DataExportRepository(session, tenant_id).get(export_id)
    if export is None or export.status != "pending":
        return  # erased meanwhile, or built by an earlier run of this job
    key = keys.data_export(tenant_id, export_id)
    try:
        with tempfile.TemporaryDirectory(prefix="lms-export-") as folder:
            archive = Path(folder) / "export.zip"
            await _write_archive(db, storage, tenant_id, export.user_id, archive, Path(folder))
            size = archive.stat().st_size
            await storage.store.put_file(key, archive, "application/zip")
    except Exception as error:  # the export says so; the person may ask again
        log.exception("building data export %s of tenant %s failed", export_id, tenant_id)
        async with db.tenant_transaction(tenant_id) as session:
            await DataExportRepository(session, tenant_id).fail(export_id, f"{type(error).__name__}: {error}"[:500])
        return
    async with db.tenant_transaction(tenant_id) as session:
        done = await DataExportRepository(session, tenant_id).finish(
            export_id, key, size, datetime.now(UTC) + ARCHIVE_KEPT
        )
        if done:
            details = {"exportId": str(export_id), "userId": str(export.user_id), "bytes": size}
            await audit.record(session, tenant_id, None, "privacy.exportReady", details)
    if not done:  # the person was erased while it was built: the archive must not outlive them
        await storage.store.delete(key)


async def _write_archive(
    db: Database, storage: Storage, tenant_id: uuid.UUID, user_id: uuid.UUID, archive: Path, folder: Path
) -> None:
    counts: dict[str, int] = {}
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        async with db.tenant_transaction(tenant_id) as session:
            rows = PersonalDataRepository(session, tenant_id)
            person = await UserRepository(session, tenant_id).get(user_id)
            mentions = [str(user_id), person.email] if person is not None else [str(user_id)]
            for name, data in CATALOG.items():
                if not data.subject and data.through is None:
                    continue
                with zipped.open(f"tables/{name}.json", "w") as sink:
                    counts[name] = await _write_table(sink, rows, name, user_id, mentions)
            files = await rows.submission_objects(user_id)
        for key in files:
            local = folder / uuid.uuid4().hex
            await storage.store.get_file(key, local)
            await asyncio.to_thread(zipped.write, local, f"files/{key}")
            local.unlink()
        manifest = {
            "format": FORMAT,
            "version": 1,
            "tenantId": str(tenant_id),
            "userId": str(user_id),
            "exportedAt": datetime.now(UTC).isoformat(),
            "tables": counts,
            "files": [f"files/{key}" for key in files],
        }
        zipped.writestr("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


async def _write_table(
    sink: IO[bytes], rows: PersonalDataRepository, name: str, user_id: uuid.UUID, mentions: list[str]
) -> int:
    count = 0
    sink.write(b"[")
    async with contextlib.aclosing(rows.rows_about(name, user_id, mentions)) as batches:  # closed on failure too
        async for batch in batches:
            chunk = b",".join(orjson.dumps(dict(row._mapping), default=str) for row in batch)
            await asyncio.to_thread(sink.write, (b"," if count else b"") + chunk)
            count += len(batch)
    sink.write(b"]")
    return count


async def forget_expired(db: Database, storage: Storage, tenant_id: uuid.UUID, now: datetime) -> int:
    """Archives past their time: the objects, then the rows (housekeeping)."""
    async with db.tenant_transaction(tenant_id) as session:
        expired = await DataExportRepository(session, tenant_id).expired(now)
    for export in expired:
        if export.object_key is not None:
            await storage.store.delete(export.object_key)
    if expired:
        async with db.tenant_transaction(tenant_id) as session:
            await DataExportRepository(session, tenant_id).remove([export.id for export in expired])
    return len(expired)


async def export_for_download(session: AsyncSession, tenant_id: uuid.UUID, export_id: uuid.UUID) -> Any:
    """The export a signed link names, while its archive is kept; its delivery is audited."""
    export = await DataExportRepository(session, tenant_id).get(export_id)
    if export is None or export.status != "ready" or export.expires_at <= datetime.now(UTC):
        raise not_found("this export is no longer available: ask for a new one")
    details = {"exportId": str(export_id), "userId": str(export.user_id), "requestedBy": str(export.requested_by)}
    await audit.record(session, tenant_id, None, "privacy.exportDownloaded", details)
    return export
