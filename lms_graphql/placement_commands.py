"""`lms-graphql migrate [--status]`, `tenant create --placement` and `tenant move`: placements
from the command line (placement/)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lms_graphql.cli import EXIT_FAILURE, EXIT_USAGE, CliError, prepare_database, run_with_database
from lms_graphql.config import Settings
from lms_graphql.kit.clusters import clusters_for
from lms_graphql.kit.db import Database, resolve_database_urls
from lms_graphql.kit.homes import PLACEMENTS
from lms_graphql.models.tenant import PLANS, REGIONS
from lms_graphql.placement.upgrades import home_states


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    """The pool, then every bridge schema and silo database; a failed home fails the command
    (after the others were tried), and running it again resumes where it stopped."""
    if settings.app_database_url and not settings.database_url:
        raise CliError("migrate needs the owner login: set LMS_DATABASE_URL (or LMS_DATABASE_URL_FILE)", EXIT_USAGE)
    if args.status:
        urls = resolve_database_urls(settings)
        assert urls.owner is not None
        states = home_states(urls.owner, clusters_for(settings, urls.app, urls.owner))
        for state in states:
            print(state.describe())
        behind = sum(1 for state in states if not state.current)
        print(f"{len(states)} homes, {behind} behind", file=sys.stderr)
        return
    urls = prepare_database(settings, homes_must_succeed=True)
    del urls


def cmd_tenant_create(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.placement.service import create_placed_tenant

    urls = prepare_database(settings, quiet=True)

    async def create(db: Database) -> None:
        tenant = await create_placed_tenant(
            db,
            slug=args.slug,
            name=args.name,
            plan=args.plan,
            placement=args.placement,
            cluster=args.cluster,
            region=args.region,
            app_role=settings.app_role,
        )
        print(tenant.id)

    run_with_database(create, urls, settings)


def cmd_tenant_move(args: argparse.Namespace, settings: Settings) -> None:
    from lms_graphql.placement.moves import MoveError, move_tenant

    urls = prepare_database(settings, quiet=True)
    assert urls.owner is not None
    try:
        report = move_tenant(
            urls.owner,
            clusters_for(settings, urls.app, urls.owner),
            args.slug,
            args.to,
            args.cluster,
            app_role=settings.app_role,
        )
    except MoveError as exc:
        raise CliError(f"{exc}; the tenant stays where it was", EXIT_FAILURE) from exc
    print(report.describe())


def add_move_command(tenant_sub: Any) -> None:
    move = tenant_sub.add_parser(
        "move", help="move a tenant to another placement while it is served (writes pause for a moment)"
    )
    move.add_argument("slug")
    move.add_argument("--to", choices=PLACEMENTS, required=True, help="the shared pool, a schema or a database")
    move.add_argument("--cluster", help="the database server of a bridge or silo home (default: main)")
    move.set_defaults(handler=cmd_tenant_move)


def add_placement_arguments(tenant_create: argparse.ArgumentParser) -> None:
    tenant_create.add_argument("--plan", choices=PLANS, default="free")
    tenant_create.add_argument(
        "--placement", choices=PLACEMENTS, default="pool", help="the shared pool (default), a schema or a database"
    )
    tenant_create.add_argument("--cluster", help="the database server of a bridge or silo tenant (default: main)")
    tenant_create.add_argument("--region", choices=REGIONS, help="where its data must stay (default: the cluster's)")
    tenant_create.set_defaults(handler=cmd_tenant_create)


def add_migrate_arguments(migrate_cmd: argparse.ArgumentParser) -> None:
    migrate_cmd.add_argument(
        "--status", action="store_true", help="list every home (pool, bridge schemas, silo databases) and its revision"
    )
    migrate_cmd.set_defaults(handler=cmd_migrate)
