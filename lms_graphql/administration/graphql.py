"""GraphQL for administering a tenant: what its admins and the platform's operators configure."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from lms_graphql.administration import configuration, reports, usage
from lms_graphql.administration.configuration import UNCHANGED, AdminChanges, OperatorChanges
from lms_graphql.auth.permissions import Permission
from lms_graphql.context import Info
from lms_graphql.kit.graphql import require_id
from lms_graphql.storage import branding
from lms_graphql.storage.types import UploadTicket, public_url
from lms_graphql.tenancy.types import Tenant


@strawberry.input(
    description="What an admin changes of their organisation; omitted fields stay as they are, null clears a "
    "colour or a setting."
)
class ConfigureTenantInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The display name, 1-255 characters; null keeps it."
    )
    primary_color: str | None = strawberry.field(default=strawberry.UNSET, description="#rrggbb, or null.")
    accent_color: str | None = strawberry.field(default=strawberry.UNSET, description="#rrggbb, or null.")
    timezone: str | None = strawberry.field(default=strawberry.UNSET, description="An IANA time zone, or null.")
    locale: str | None = strawberry.field(default=strawberry.UNSET, description="A language tag (en, pt-BR), or null.")
    support_email: str | None = strawberry.field(default=strawberry.UNSET, description="An email address, or null.")
    features: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The features to enable, all others off: each one the plan includes (availableFeatures); null "
        "keeps them.",
    )


@strawberry.input(description="What a platform operator changes of a tenant; omitted fields stay as they are.")
class UpdateTenantPlanInput:
    plan: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The new plan: free, pro or enterprise. Without features, the tenant's features become the new "
        "plan's.",
    )
    max_users: int | None = strawberry.field(
        default=strawberry.UNSET, description="The most active users, 1-10 000 000 (lowering it deactivates no one)."
    )
    features: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The enabled features, any of them, the plan's or not (a trial, a deal)."
    )
    limits: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="Overrides of the plan's limits, replacing earlier ones: an object of TenantLimits fields in "
        "snake_case (max_cost, tenant_cost_per_minute, ...) to whole numbers 1-1 000 000 000; null or {}: the plan's.",
    )


def _given(value: Any) -> Any:
    return UNCHANGED if value is strawberry.UNSET else value


def _kept_if_null(value: Any) -> Any:
    """A field null cannot clear (a name, a plan, the features): null leaves it as it is."""
    return UNCHANGED if value is strawberry.UNSET or value is None else value


@strawberry.enum(description="A course's reports, as CSV.")
class CourseReport(Enum):
    GRADEBOOK = strawberry.enum_value(
        "gradebook", description="Each enrolled learner's best graded score per assessment, and how many they passed."
    )
    COMPLETION = strawberry.enum_value(
        "completion", description="Each enrolled learner's lessons completed, enrollment status and certificate."
    )


@strawberry.type(description="A signed link to a download: no token needed, valid until expiresAt.")
class DownloadLink:
    url: str = strawberry.field(description="Where to GET it.")
    expires_at: datetime = strawberry.field(description="When the link stops working (UTC).")


@strawberry.type(description="What a tenant used on one day (UTC): the operator's billing record.")
class TenantUsageDay:
    day: date = strawberry.field(description="The day, UTC.")
    tenant_id: strawberry.ID = strawberry.field(description="The tenant's id.")
    tenant_slug: str = strawberry.field(description="The tenant's slug.")
    active_users: int = strawberry.field(description="Distinct users who made a request.")
    enrolled_learners: int = strawberry.field(description="Distinct learners with an enrollment not dropped.")
    cost_units: float = strawberry.field(description="API cost units charged (GraphQL and REST).")
    websocket_seconds: float = strawberry.field(description="Seconds its websockets were open, all added up.")
    stored_bytes: float = strawberry.field(description="Bytes of uploaded files and data exports it stores.")


@strawberry.type
class AdministrationQueries:
    @strawberry.field(
        description="Platform operators (SUPER_ADMIN): every tenant's usage per day, from `from` to `to` inclusive "
        "(at most 366 days), by day then slug; /api/v1/usage.csv is the same as CSV. Today's row grows through the "
        "day. Errors: UNAUTHENTICATED without a token; FORBIDDEN for other roles; BAD_USER_INPUT for a range "
        "backwards or too long."
    )
    async def tenant_usage(
        self,
        info: Info,
        first: Annotated[date, strawberry.argument(name="from", description="The first day (UTC).")],
        last: Annotated[date, strawberry.argument(name="to", description="The last day, included.")],
        tenant_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="One tenant only; null: every tenant.")
        ] = None,
    ) -> list[TenantUsageDay]:
        ctx = info.context
        usage.require_operator(ctx.require_viewer())
        only = require_id(tenant_id, "tenant") if tenant_id is not None else None
        return [
            TenantUsageDay(
                day=row.day,
                tenant_id=strawberry.ID(str(row.tenant_id)),
                tenant_slug=row.slug,
                active_users=row.active_users,
                enrolled_learners=row.enrolled_learners,
                cost_units=row.cost_units,
                websocket_seconds=row.websocket_seconds,
                stored_bytes=row.stored_bytes,
            )
            for row in await usage.day_rows(ctx.services.db, first, last, only)
        ]


@strawberry.type
class AdministrationMutations:
    @strawberry.mutation(
        description="The course's instructor or an admin gets a signed link to a report as CSV (GET it, no token, "
        "within 15 minutes; streamed, whatever the course's size); each download is audited. REST has the same at "
        "/api/v1/courses/{id}/{report}.csv. Errors: UNAUTHENTICATED without a token; NOT_FOUND for an unknown or "
        "hidden course; FORBIDDEN for anyone else."
    )
    async def course_report_link(
        self,
        info: Info,
        course_id: Annotated[strawberry.ID, strawberry.argument(description="The course.")],
        report: Annotated[CourseReport, strawberry.argument(description="Which report.")],
    ) -> DownloadLink:
        ctx = info.context
        viewer = ctx.require_viewer()
        key: uuid.UUID = require_id(course_id, "course")
        async with ctx.read() as session:
            await reports.authorise(session, ctx.tenant.id, viewer, key)
        link = reports.signed_link(ctx.services.storage, ctx.tenant.id, key, str(report.value), viewer)
        expires = datetime.now(UTC) + timedelta(seconds=reports.LINK_SECONDS)
        return DownloadLink(url=public_url(ctx.request, link), expires_at=expires)

    @strawberry.mutation(
        description="Admins change their organisation's name, branding colours, settings and which of their plan's "
        "features are on; every server sees the change at once. Errors: UNAUTHENTICATED without a token; FORBIDDEN "
        "for roles below admin and for a feature the plan does not include; BAD_USER_INPUT for an empty name, a "
        "colour not #rrggbb, an unknown time zone, locale, email or feature."
    )
    async def configure_tenant(
        self, info: Info, input: Annotated[ConfigureTenantInput, strawberry.argument(description="What to change.")]
    ) -> Tenant:
        ctx = info.context
        viewer = ctx.require(Permission.TENANT_CONFIGURE)
        changes = AdminChanges(
            name=_kept_if_null(input.name),
            primary_color=_given(input.primary_color),
            accent_color=_given(input.accent_color),
            timezone=_given(input.timezone),
            locale=_given(input.locale),
            support_email=_given(input.support_email),
            features=_kept_if_null(input.features),
        )
        apply = configuration.admin_change(ctx.tenant, changes)
        tenant = await configuration.configure(
            ctx.services.db, ctx.services.registry, viewer, ctx.tenant.id, apply, "tenant.configure"
        )
        return Tenant.from_config(tenant, ctx)

    @strawberry.mutation(
        description="Admins get a ticket to upload their organisation's logo (image/png, image/jpeg or image/webp, at "
        "most 2 000 000 bytes); confirmLogoUpload makes it the logo. Errors: UNAUTHENTICATED without a token; "
        "FORBIDDEN for roles below admin; BAD_USER_INPUT for another type or size."
    )
    async def request_logo_upload(
        self,
        info: Info,
        content_type: Annotated[str, strawberry.argument(description="The image's media type.")],
        size_bytes: Annotated[int, strawberry.argument(description="The image's exact size in bytes.")],
    ) -> UploadTicket:
        ctx = info.context
        viewer = ctx.require(Permission.TENANT_CONFIGURE)
        async with ctx.write() as session:
            ticket = await branding.request_logo_upload(
                session, ctx.tenant, viewer, ctx.services.storage, content_type, size_bytes
            )
        return UploadTicket.of(ctx, ticket)

    @strawberry.mutation(
        description="Admins make an uploaded image the organisation's logo (branding.logoUrl), replacing the one "
        "before. Errors: UNAUTHENTICATED without a token; FORBIDDEN for roles below admin; NOT_FOUND when the file "
        "is unknown or not your upload; BAD_USER_INPUT when nothing was uploaded or it is not the announced image."
    )
    async def confirm_logo_upload(
        self, info: Info, file_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket's fileId.")]
    ) -> Tenant:
        ctx = info.context
        viewer = ctx.require(Permission.TENANT_CONFIGURE)
        key = require_id(file_id, "file")
        async with ctx.write() as session:
            logo = await branding.confirm_logo_upload(session, ctx.tenant, viewer, ctx.services.storage, key)
        tenant = await configuration.configure(
            ctx.services.db, ctx.services.registry, viewer, ctx.tenant.id, configuration.set_logo(logo), "tenant.logo"
        )
        return Tenant.from_config(tenant, ctx)

    @strawberry.mutation(
        description="Platform operators (SUPER_ADMIN) change a tenant's plan, user limit, feature flags and limits; "
        "recorded in the tenant's audit log, seen by every server at once. Errors: UNAUTHENTICATED without a token; "
        "FORBIDDEN for other roles; NOT_FOUND for an unknown id; BAD_USER_INPUT for an unknown plan, feature or "
        "limit, or a value out of range."
    )
    async def update_tenant_plan(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The tenant's id.")],
        input: Annotated[UpdateTenantPlanInput, strawberry.argument(description="What to change.")],
    ) -> Tenant:
        ctx = info.context
        viewer = ctx.require(Permission.TENANT_MANAGE)
        tenant_id = require_id(id, "tenant")
        changes = OperatorChanges(
            plan=_kept_if_null(input.plan),
            max_users=_kept_if_null(input.max_users),
            features=_kept_if_null(input.features),
            limits=_given(input.limits),
        )
        apply = configuration.operator_change(changes)
        tenant = await configuration.configure(
            ctx.services.db, ctx.services.registry, viewer, tenant_id, apply, "tenant.plan"
        )
        return Tenant.from_config(tenant, ctx)
