"""`lms-graphql tenant export`, `tenant import` and `tenant purge`: a tenant leaving the platform,
or arriving from another (placement/archive.py, placement/purge.py)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lms_graphql.cli import EXIT_FAILURE, EXIT_USAGE, CliError, prepare_database
from lms_graphql.config import Settings
from lms_graphql.kit.clusters import clusters_for


def _prepared(settings: Settings) -> tuple[Any, Any]:
    from lms_graphql.storage.backends import storage_for

    urls = prepare_database(settings, quiet=True)
    if urls.owner is None:
        raise CliError("this needs the owner login: set LMS_DATABASE_URL (or LMS_DATABASE_URL_FILE)", EXIT_USAGE)
    return urls, storage_for(settings)


def cmd_tenant_export(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.placement.archive import ArchiveError, export_tenant

    urls, storage = _prepared(settings)
    target = Path(args.to or f"{args.slug}-{datetime.now(UTC):%Y%m%d-%H%M%S}.lms.tar.gz")
    if target.exists():
        raise CliError(f"{target} exists: name another file with --to", EXIT_USAGE)
    clusters = clusters_for(settings, urls.app, urls.owner)
    try:
        report = asyncio.run(export_tenant(urls.owner, clusters, storage, args.slug, target))
    except ArchiveError as exc:
        target.unlink(missing_ok=True)
        raise CliError(str(exc), EXIT_USAGE) from exc
    print(f"{report.describe()} -> {target}")


def cmd_tenant_import(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.placement.archive import ArchiveError, import_tenant

    source = Path(args.archive)
    if not source.is_file():
        raise CliError(f"no such archive: {source}", EXIT_USAGE)
    urls, storage = _prepared(settings)
    clusters = clusters_for(settings, urls.app, urls.owner)
    try:
        report = asyncio.run(import_tenant(urls.owner, clusters, storage, source))
    except ArchiveError as exc:
        raise CliError(str(exc), EXIT_FAILURE) from exc
    print(f"imported {report.describe()} into the pool")


def cmd_tenant_purge(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.placement.purge import PurgeError, purge_tenant, remove_objects, verify_purged

    if args.confirm != args.slug:
        raise CliError(f"this deletes tenant {args.slug} for good: repeat its slug with --confirm", EXIT_USAGE)
    urls, storage = _prepared(settings)
    clusters = clusters_for(settings, urls.app, urls.owner)
    try:
        tenant_id, home = purge_tenant(urls.owner, clusters, args.slug, grace=timedelta(days=args.grace_days))

        async def finish() -> Any:
            removed = await remove_objects(storage, tenant_id)
            report = await verify_purged(urls.owner, clusters, storage, args.slug, tenant_id, home)
            report.objects_removed = removed
            return report

        report = asyncio.run(finish())
    except PurgeError as exc:
        raise CliError(str(exc), EXIT_FAILURE) from exc
    print(report.describe())


def add_offboarding_commands(tenant_sub: Any) -> None:
    export = tenant_sub.add_parser(
        "export", help="write a tenant (registry row, every row, every stored object) to one archive file"
    )
    export.add_argument("slug")
    export.add_argument("--to", metavar="FILE", help="the archive to write (default: SLUG-TIMESTAMP.lms.tar.gz)")
    export.set_defaults(handler=cmd_tenant_export)

    restore = tenant_sub.add_parser(
        "import", help="restore an archive of `tenant export` into this platform's pool, ids preserved"
    )
    restore.add_argument("archive")
    restore.set_defaults(handler=cmd_tenant_import)

    purge = tenant_sub.add_parser(
        "purge",
        help="delete a deactivated tenant for good, once its grace period has passed, and check nothing is left",
    )
    purge.add_argument("slug")
    purge.add_argument("--confirm", required=True, metavar="SLUG", help="the slug again")
    purge.add_argument(
        "--grace-days", type=int, default=30, metavar="DAYS", help="days since its deactivation (default 30)"
    )
    purge.set_defaults(handler=cmd_tenant_purge)
