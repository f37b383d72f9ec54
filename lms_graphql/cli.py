"""The `lms-graphql` console script (see the contract's table of commands)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import psycopg
from sqlalchemy import URL
from sqlalchemy.exc import DBAPIError, OperationalError

from lms_graphql.config import LOG_FORMATS, LOG_LEVELS, Settings
from lms_graphql.errors import LmsError
from lms_graphql.kit.clusters import clusters_for, open_database
from lms_graphql.kit.db import Database, DatabaseUrls, describe_url, resolve_database_urls
from lms_graphql.kit.embedded import EmbeddedDatabaseError
from lms_graphql.migrate import MigrationSetupError, head_revision, migrate, schema_revision
from lms_graphql.models.user import ROLES

EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def prepare_database(settings: Settings, *, quiet: bool = False, homes_must_succeed: bool = False) -> DatabaseUrls:
    """Resolve (starting the embedded server if needed) and migrate the pool, then every bridge
    and silo home; returns the URLs. With the app login only, check instead that someone
    migrated the schema to this version's head. A home that fails to migrate is reported (and
    refused until migrated); with ``homes_must_succeed`` it fails the command."""
    urls = resolve_database_urls(settings)
    if urls.owner is None:
        _ensure_schema_is_current(urls.app, settings.app_role, quiet=quiet)
        return urls
    try:
        before, after = migrate(
            urls.owner,
            app_role=settings.app_role,
            app_password=_password(urls),
        )
    except OperationalError as exc:
        raise CliError(f"cannot reach the database at {describe_url(urls.owner)}: {_first_line(exc)}", 1) from exc
    except (DBAPIError, psycopg.Error) as exc:
        raise CliError(f"migrating {describe_url(urls.owner)} failed: {_first_line(exc)}", 1) from exc
    if not quiet:
        if before == after:
            print(f"database {describe_url(urls.owner)} is up to date (revision {after})", file=sys.stderr)
        else:
            print(
                f"database {describe_url(urls.owner)} migrated {before or 'empty'} -> {after}",
                file=sys.stderr,
            )
    _migrate_homes(settings, urls, quiet=quiet, must_succeed=homes_must_succeed)
    return urls


def _migrate_homes(settings: Settings, urls: DatabaseUrls, *, quiet: bool, must_succeed: bool) -> None:
    from lms_graphql.placement.upgrades import upgrade_homes

    assert urls.owner is not None
    states = upgrade_homes(urls.owner, clusters_for(settings, urls.app, urls.owner), app_role=settings.app_role)
    failed = [state for state in states if state.error is not None]
    for state in states if not quiet else failed:
        print(f"tenant {state.describe()}", file=sys.stderr)
    if failed and must_succeed:
        raise CliError(f"{len(failed)} of {len(states)} tenant homes could not be migrated; run migrate again", 1)


def _ensure_schema_is_current(app_url: URL, app_role: str, *, quiet: bool) -> None:
    where = describe_url(app_url)
    advice = "run `lms-graphql migrate` with the owner login (LMS_DATABASE_URL) first"
    try:
        found = schema_revision(app_url)
    except OperationalError as exc:
        raise CliError(f"cannot reach the database at {where}: {_first_line(exc)}", 1) from exc
    except (DBAPIError, psycopg.Error) as exc:
        raise CliError(f"cannot read the schema's revision at {where}: {_first_line(exc)}; {advice}", 1) from exc
    wanted = head_revision(app_role)
    if found != wanted:
        raise CliError(f"the database at {where} is at revision {found or 'empty'}, not {wanted}: {advice}", 1)
    if not quiet:
        print(f"database {where} is at revision {found} (app login only: migrated elsewhere)", file=sys.stderr)


def _password(urls: DatabaseUrls) -> str | None:
    password = urls.app.password if urls.app_password_managed else None
    return None if password is None else str(password)


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def run_with_database(
    coroutine_factory: Callable[[Database], Coroutine[Any, Any, None]], urls: DatabaseUrls, settings: Settings
) -> None:
    async def runner() -> None:
        db = open_database(settings, urls, pool_size=2, max_overflow=0)
        try:
            await coroutine_factory(db)
        finally:
            await db.dispose()

    asyncio.run(runner())


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import logging.config

    from lms_graphql.observability.logs import logging_config
    from lms_graphql.server import serve

    settings.jwt_keys  # noqa: B018 - a bad key configuration fails here, in one line, not in a worker
    # Before the database starts and the demo logins print: a busy port is the likely mistake.
    ensure_port_free(args.host, args.port)
    log_format, log_level = args.log_format or settings.log_format, args.log_level or settings.log_level
    log_config = logging_config(log_format, log_level)
    logging.config.dictConfig(log_config)
    urls = prepare_database(settings)
    if args.demo:
        from lms_graphql.demo import load_demo

        run_with_database(lambda db: load_demo(db, only_if_empty=True, port=args.port), urls, settings)
    serve(urls, host=args.host, port=args.port, workers=args.workers, log_config=log_config, log_level=log_level)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    """The job queue's worker beside `serve` (LMS_WORKER=off there), or as many as needed."""
    import logging.config

    from lms_graphql.jobs.queue import JobServices, job_queue, run_worker
    from lms_graphql.observability.logs import logging_config
    from lms_graphql.storage.backends import storage_for

    logging.config.dictConfig(logging_config(args.log_format or settings.log_format, settings.log_level))
    urls = prepare_database(settings)
    storage = storage_for(settings)
    concurrency = args.concurrency or settings.worker_concurrency

    async def work(db: Database) -> None:
        queue = job_queue(db.engine.url, JobServices(db, storage), pool_size=concurrency + 2)
        await run_worker(queue, concurrency=concurrency, wait=not args.once, signals=not args.once)

    run_with_database(work, urls, settings)


def ensure_port_free(host: str, port: int) -> None:
    """Fail in one line if uvicorn could not listen on host:port: bind each address it would, and let go."""
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}", EXIT_USAGE) from exc
    unavailable: OSError | None = None
    bound = 0
    for family, kind, proto, _, address in addresses:
        try:
            probe = socket.socket(family, kind, proto)
        except OSError:
            continue  # a family this machine lacks (no IPv6): asyncio skips it too
        with probe:
            # As uvicorn binds: a port held only by connections closing (TIME_WAIT) is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
                bound += 1
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    busy = f"port {port} on {host} is in use (another lms-graphql serve?)"
                    raise CliError(f"{busy}; choose another with --port", EXIT_FAILURE) from exc
                if exc.errno != errno.EADDRNOTAVAIL:  # asyncio skips such an address, listening on the others
                    raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}", EXIT_FAILURE) from exc
                unavailable = exc
    if not bound and unavailable is not None:
        raise CliError(f"cannot listen on {host}:{port}: {unavailable.strerror}", EXIT_FAILURE) from unavailable


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.demo import load_demo

    urls = prepare_database(settings)
    run_with_database(lambda db: load_demo(db, only_if_empty=False), urls, settings)


def cmd_tenant_set_active(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.tenancy.service import copy_registry_row, find_tenant, set_tenant_active

    urls = prepare_database(settings, quiet=True)
    active = args.action == "activate"

    async def change(db: Database) -> None:
        async with db.platform_transaction() as session:
            tenant = await find_tenant(session, args.slug)
            if tenant is None:
                raise CliError(f"no tenant with slug {args.slug!r}", EXIT_USAGE)
            await set_tenant_active(session, tenant.id, active)
        if tenant.placement != "pool":
            async with db.tenant_transaction(tenant.id) as session:
                await copy_registry_row(db, session, tenant.id)
        print(f"tenant {args.slug} is now {'active' if active else 'inactive'}")

    run_with_database(change, urls, settings)


def cmd_tenant_delete_content(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.storage.backends import storage_for
    from lms_graphql.storage.offboarding import delete_tenant_content
    from lms_graphql.tenancy.service import find_tenant

    if args.confirm != args.slug:
        raise CliError(f"this deletes every file of {args.slug}: repeat its slug with --confirm", EXIT_USAGE)
    urls = prepare_database(settings, quiet=True)
    storage = storage_for(settings)

    async def delete(db: Database) -> None:
        async with db.platform_transaction() as session:
            tenant = await find_tenant(session, args.slug)
        if tenant is None:
            raise CliError(f"no tenant with slug {args.slug!r}", EXIT_USAGE)
        if tenant.is_active:
            raise CliError(f"tenant {args.slug} is active: deactivate it first", EXIT_USAGE)
        removed = await delete_tenant_content(db, storage, tenant.id)
        print(f"removed {removed} stored objects of tenant {args.slug}")

    run_with_database(delete, urls, settings)


def cmd_user_create(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.tenancy.service import find_tenant
    from lms_graphql.users.service import create_user

    urls = prepare_database(settings, quiet=True)

    async def create(db: Database) -> None:
        async with db.platform_transaction() as session:
            tenant = await find_tenant(session, args.tenant)
        if tenant is None:
            raise CliError(f"no tenant with slug {args.tenant!r}", EXIT_USAGE)
        async with db.tenant_transaction(tenant.id) as session:
            user = await create_user(
                session,
                tenant,
                email=args.email,
                full_name=args.name,
                role=args.role,
                password=args.password,
            )
        print(user.id)

    run_with_database(create, urls, settings)


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.schema import export_schema

    sys.stdout.write(export_schema())


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {port}")
    return port


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= workers <= 256:
        raise argparse.ArgumentTypeError(f"workers must be 1-256, got {workers}")
    return workers


def build_parser() -> argparse.ArgumentParser:
    from lms_graphql.offboarding_commands import add_offboarding_commands
    from lms_graphql.placement_commands import add_migrate_arguments, add_move_command, add_placement_arguments

    parser = argparse.ArgumentParser(prog="lms-graphql", description="Multi-tenant LMS GraphQL backend")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate_cmd = commands.add_parser("migrate", help="bring the pool and every tenant's home to the newest schema")
    add_migrate_arguments(migrate_cmd)

    serve_cmd = commands.add_parser("serve", help="migrate if needed, then serve HTTP and websockets")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=_port, default=8000)
    serve_cmd.add_argument("--workers", type=_workers, default=1)
    serve_cmd.add_argument("--demo", action="store_true", help="load the demo data set if no tenant exists")
    serve_cmd.add_argument(
        "--log-format", choices=LOG_FORMATS, help="JSON lines (default, or LMS_LOG_FORMAT) or human-readable lines"
    )
    serve_cmd.add_argument("--log-level", choices=LOG_LEVELS, help="default info, or LMS_LOG_LEVEL")
    serve_cmd.set_defaults(handler=cmd_serve)

    worker_cmd = commands.add_parser(
        "worker", help="run queued jobs (video transcoding, deletions, deadline reminders) until stopped"
    )
    worker_cmd.add_argument("--concurrency", type=_workers, help="jobs at once (default 2, or LMS_WORKER_CONCURRENCY)")
    worker_cmd.add_argument("--once", action="store_true", help="run the jobs due now, then stop")
    worker_cmd.add_argument("--log-format", choices=LOG_FORMATS, help="JSON lines (default) or human-readable lines")
    worker_cmd.set_defaults(handler=cmd_worker)

    tenant_cmd = commands.add_parser("tenant", help="manage tenants")
    tenant_sub = tenant_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    tenant_create = tenant_sub.add_parser("create", help="register a tenant; prints its id")
    tenant_create.add_argument("slug")
    tenant_create.add_argument("--name", required=True)
    add_placement_arguments(tenant_create)
    add_move_command(tenant_sub)
    for action, text in (("deactivate", "its requests answer 404"), ("activate", "serve it again")):
        toggle = tenant_sub.add_parser(action, help=f"{action} a tenant: {text}")
        toggle.add_argument("slug")
        toggle.set_defaults(handler=cmd_tenant_set_active)

    delete_content = tenant_sub.add_parser(
        "delete-content", help="offboarding: remove every stored file of an inactive tenant (a prefix delete)"
    )
    delete_content.add_argument("slug")
    delete_content.add_argument("--confirm", required=True, metavar="SLUG", help="the slug again")
    delete_content.set_defaults(handler=cmd_tenant_delete_content)
    add_offboarding_commands(tenant_sub)

    user_cmd = commands.add_parser("user", help="manage users")
    user_sub = user_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    user_create = user_sub.add_parser("create", help="create a user; prints its id")
    user_create.add_argument("--tenant", required=True, metavar="SLUG")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--name", required=True)
    user_create.add_argument("--role", required=True, choices=ROLES)
    user_create.add_argument("--password", required=True)
    user_create.set_defaults(handler=cmd_user_create)

    demo_cmd = commands.add_parser("demo", help="load the demo data set and print how to log in")
    demo_cmd.set_defaults(handler=cmd_demo)

    from lms_graphql.document_commands import add_documents_commands

    add_documents_commands(commands)

    export_cmd = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export_cmd.set_defaults(handler=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args, Settings.from_env())
    except LmsError as exc:
        return _fail(exc.message, EXIT_USAGE)
    except CliError as exc:
        return _fail(str(exc), exc.exit_code)
    except (EmbeddedDatabaseError, MigrationSetupError) as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except (DBAPIError, psycopg.Error) as exc:
        return _fail(f"database error: {_first_line(exc)}", EXIT_FAILURE)
    except ValueError as exc:  # e.g. an unsupported database URL
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return 130
    return 0


def _fail(message: str, code: int) -> int:
    print(f"lms-graphql: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
