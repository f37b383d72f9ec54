"""`lms-graphql documents ...`: registering trusted documents, and a tenant's trusted-only mode."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lms_graphql.cli import EXIT_FAILURE, EXIT_USAGE, CliError, prepare_database, run_with_database
from lms_graphql.config import DOCUMENT_MODES, Settings
from lms_graphql.kit.db import Database


def add_documents_commands(commands: Any) -> None:
    documents_cmd = commands.add_parser("documents", help="registered (trusted) documents and persisted queries")
    documents_sub = documents_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    documents_add = documents_sub.add_parser(
        "add", help="register a manifest's documents (Relay, GraphQL Codegen or Apollo format)"
    )
    documents_add.add_argument("file", type=Path)
    documents_list = documents_sub.add_parser("list", help="the registered documents and their cost")
    documents_remove = documents_sub.add_parser("remove", help="unregister a document")
    documents_remove.add_argument("document_id", metavar="ID")
    for command, handler in (
        (documents_add, cmd_documents_add),
        (documents_list, cmd_documents_list),
        (documents_remove, cmd_documents_remove),
    ):
        command.add_argument("--tenant", metavar="SLUG", help="the tenant's own (default: the platform's)")
        command.set_defaults(handler=handler)
    documents_mode = documents_sub.add_parser("mode", help="whether a tenant runs registered documents only")
    documents_mode.add_argument("slug")
    documents_mode.add_argument("mode", choices=DOCUMENT_MODES)
    documents_mode.set_defaults(handler=cmd_documents_mode)


async def _tenant_id(db: Database, slug: str | None) -> uuid.UUID | None:
    """The tenant named by --tenant, or None for the platform's documents."""
    from lms_graphql.tenancy.service import find_tenant

    if slug is None:
        return None
    async with db.platform_transaction() as session:
        tenant = await find_tenant(session, slug)
    if tenant is None:
        raise CliError(f"no tenant with slug {slug!r}", EXIT_USAGE)
    return tenant.id


def cmd_documents_add(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.documents import service
    from lms_graphql.documents.manifest import ManifestError, read_manifest
    from lms_graphql.schema import schema

    try:
        entries = read_manifest(args.file.read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}", EXIT_USAGE) from exc
    except ManifestError as exc:
        raise CliError(f"{args.file}: {exc}", EXIT_USAGE) from exc
    urls = prepare_database(settings, quiet=True)

    async def add(db: Database) -> None:
        tenant_id = await _tenant_id(db, args.tenant)
        try:
            async with _documents_transaction(db, tenant_id) as session:
                added = await service.register(session, schema._schema, tenant_id, entries, args.file.name)
        except ManifestError as exc:
            raise CliError(f"{args.file}: {exc}; nothing was registered", EXIT_FAILURE) from exc
        new = sum(1 for registration in added if registration.new)
        print(f"{new} documents registered, {len(added) - new} already registered ({_scope(args.tenant)})")
        for registration in added:
            document = registration.document
            print(f"  {document.document_id}  {_operations(document.operation_names)}  cost {document.cost}")

    run_with_database(add, urls, settings)


def cmd_documents_list(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.documents import service

    urls = prepare_database(settings, quiet=True)

    async def show(db: Database) -> None:
        tenant_id = await _tenant_id(db, args.tenant)
        async with _documents_transaction(db, tenant_id) as session:
            rows = await service.listing(session, tenant_id)
        print(f"{len(rows)} documents ({_scope(args.tenant)})")
        for row in rows:
            print(f"  {row.document_id}  {_operations(row.operation_names)}  cost {row.cost}  from {row.source or '-'}")

    run_with_database(show, urls, settings)


def cmd_documents_remove(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.documents import service
    from lms_graphql.documents.manifest import normalized_id

    urls = prepare_database(settings, quiet=True)

    async def remove(db: Database) -> None:
        tenant_id = await _tenant_id(db, args.tenant)
        async with _documents_transaction(db, tenant_id) as session:
            removed = await service.remove(session, tenant_id, normalized_id(args.document_id))
        if not removed:
            raise CliError(f"no document {args.document_id} ({_scope(args.tenant)})", EXIT_USAGE)
        print(f"document {args.document_id} removed ({_scope(args.tenant)})")

    run_with_database(remove, urls, settings)


def cmd_documents_mode(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.documents import service

    urls = prepare_database(settings, quiet=True)

    async def change(db: Database) -> None:
        tenant_id = await _tenant_id(db, args.slug)
        assert tenant_id is not None
        async with db.platform_transaction() as session:
            await service.set_mode(session, tenant_id, args.mode)
        print(f"tenant {args.slug} now accepts {'registered documents only' if args.mode != 'any' else 'any document'}")

    run_with_database(change, urls, settings)


def _documents_transaction(db: Database, tenant_id: uuid.UUID | None) -> Any:
    return db.tenant_transaction(tenant_id) if tenant_id is not None else db.platform_transaction()


def _scope(slug: str | None) -> str:
    return f"tenant {slug}" if slug else "the platform's, for every tenant"


def _operations(names: Sequence[str]) -> str:
    return ", ".join(name or "(anonymous)" for name in names)
