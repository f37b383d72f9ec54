"""Configuring a tenant: its admins change its name, branding, settings and which of their plan's
features are on; platform operators change its plan, limits, seat count and any feature flag.

Every change is made in the registry, copied to a bridge or silo home's copy of the row, recorded
in the tenant's audit log, and announced (NOTIFY on the control channel) when it commits: every
server forgets what it knew of the tenant at once, so the next request anywhere sees the change."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.audit import service as audit
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import bad_input, not_found
from lms_graphql.kit.db import Database
from lms_graphql.limits.plans import PlanLimits
from lms_graphql.tenancy.features import checked_features, plan_features
from lms_graphql.tenancy.registry import TenantRegistry
from lms_graphql.tenancy.repository import TenantRepository
from lms_graphql.tenancy.service import copy_registry_row
from lms_graphql.tenancy.tenant import TenantConfig, validate_name, validate_plan
from lms_graphql.users.emails import normalize_email

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
LIMIT_RANGE = (1, 1_000_000_000)
UNCHANGED: Any = object()  # a field the caller did not send


@dataclass(frozen=True)
class AdminChanges:
    """What an admin may change; UNCHANGED fields stay, None clears (colours, settings)."""

    name: Any = UNCHANGED
    primary_color: Any = UNCHANGED
    accent_color: Any = UNCHANGED
    timezone: Any = UNCHANGED
    locale: Any = UNCHANGED
    support_email: Any = UNCHANGED
    features: Any = UNCHANGED


@dataclass(frozen=True)
class OperatorChanges:
    plan: Any = UNCHANGED
    max_users: Any = UNCHANGED
    features: Any = UNCHANGED  # any flag; UNCHANGED with a new plan: the new plan's features
    limits: Any = UNCHANGED  # {PlanLimits field: value}, replacing earlier overrides; None: the plan's


def _colour(value: str | None, what: str) -> str | None:
    if value is not None and not COLOUR.match(value):
        raise bad_input(f"{what} must be a colour like #1a73e8")
    return value.lower() if value else None


def _timezone(value: str | None) -> str | None:
    if value is not None and (len(value) > 64 or value not in zoneinfo.available_timezones()):
        raise bad_input("timezone must be an IANA time zone, like Europe/Paris")
    return value


def _locale(value: str | None) -> str | None:
    if value is not None and not LOCALE.match(value):
        raise bad_input("locale must be a language tag like en or pt-BR")
    return value


def _merged(section: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    merged = {**section}
    for key, value in updates.items():
        if value is UNCHANGED:
            continue
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def admin_change(tenant: TenantConfig, changes: AdminChanges) -> Callable[[models.Tenant], dict[str, Any]]:
    """Checks ``changes`` now (before anything is written); returns what applies them to the
    locked registry row and says what changed, for the audit log."""
    name = validate_name(changes.name, what="tenant name") if changes.name is not UNCHANGED else UNCHANGED
    branding = {
        "primaryColor": _colour(changes.primary_color, "primaryColor")
        if changes.primary_color is not UNCHANGED
        else UNCHANGED,
        "accentColor": _colour(changes.accent_color, "accentColor")
        if changes.accent_color is not UNCHANGED
        else UNCHANGED,
    }
    preferences = {
        "timezone": _timezone(changes.timezone) if changes.timezone is not UNCHANGED else UNCHANGED,
        "locale": _locale(changes.locale) if changes.locale is not UNCHANGED else UNCHANGED,
        "supportEmail": (normalize_email(changes.support_email) if changes.support_email else None)
        if changes.support_email is not UNCHANGED
        else UNCHANGED,
    }
    features = UNCHANGED
    if changes.features is not UNCHANGED:
        features = checked_features(changes.features, plan_features(tenant.plan))

    def apply(row: models.Tenant) -> dict[str, Any]:
        if name is not UNCHANGED:
            row.name = name
        settings = dict(row.settings)
        settings["branding"] = _merged(settings.get("branding", {}), branding)
        settings["preferences"] = _merged(settings.get("preferences", {}), preferences)
        row.settings = settings
        if features is not UNCHANGED:  # checked again against the plan as locked: an operator may have changed it
            row.features = checked_features(features, plan_features(row.plan))
        changed = {"name": name, **branding, **preferences, "features": features}
        return {key: value for key, value in changed.items() if value is not UNCHANGED}

    return apply


def operator_change(changes: OperatorChanges) -> Callable[[models.Tenant], dict[str, Any]]:
    plan = validate_plan(changes.plan) if changes.plan is not UNCHANGED else UNCHANGED
    if changes.max_users is not UNCHANGED and not 1 <= changes.max_users <= 10_000_000:
        raise bad_input("maxUsers must be between 1 and 10000000")
    features = checked_features(changes.features) if changes.features is not UNCHANGED else UNCHANGED
    limits = _limits(changes.limits) if changes.limits is not UNCHANGED else UNCHANGED

    def apply(row: models.Tenant) -> dict[str, Any]:
        changed: dict[str, Any] = {}
        if plan is not UNCHANGED and plan != row.plan:
            row.plan = changed["plan"] = plan
            if features is UNCHANGED:
                row.features = changed["features"] = list(plan_features(plan))
        if features is not UNCHANGED:
            row.features = changed["features"] = features
        if changes.max_users is not UNCHANGED:
            row.max_users = changed["maxUsers"] = changes.max_users
        if limits is not UNCHANGED:
            settings = {key: value for key, value in row.settings.items() if key != "limits"}
            row.settings = {**settings, "limits": limits} if limits else settings
            changed["limits"] = limits
        return changed

    return apply


def set_logo(object_key: str) -> Callable[[models.Tenant], dict[str, Any]]:
    def apply(row: models.Tenant) -> dict[str, Any]:
        branding = {**row.settings.get("branding", {}), "logo": object_key}
        row.settings = {**row.settings, "branding": branding}
        return {"logo": object_key}

    return apply


def _limits(overrides: dict[str, Any] | None) -> dict[str, int]:
    if not overrides:
        return {}
    names = {field.name for field in fields(PlanLimits)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise bad_input(f"unknown limits {', '.join(unknown)}: one of {', '.join(sorted(names))}")
    low, high = LIMIT_RANGE
    for name, value in overrides.items():
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise bad_input(f"limit {name} must be a whole number from {low} to {high}")
    return dict(overrides)


async def configure(
    db: Database,
    registry: TenantRegistry,
    viewer: Viewer,
    tenant_id: uuid.UUID,
    apply: Callable[[models.Tenant], dict[str, Any]],
    action: str,
) -> TenantConfig:
    """``apply`` to the tenant's registry row, locked; the copy, the audit entry and the
    announcement follow (in the same transaction for a pooled tenant, whose registry is its home)."""
    pooled = (await db.homes.home_of(tenant_id)).placement == "pool"
    async with db.tenant_transaction(tenant_id) if pooled else db.platform_transaction() as session:
        tenant, changed = await _apply(session, tenant_id, apply)
        if pooled:
            await audit.record(session, tenant_id, viewer, action, changed)
    if not pooled:
        async with db.tenant_transaction(tenant_id) as session:
            await copy_registry_row(db, session, tenant_id)
            await audit.record(session, tenant_id, viewer, action, changed)
    registry.invalidate(tenant.slug)  # here at once; other processes on the NOTIFY
    return tenant


async def _apply(
    session: AsyncSession, tenant_id: uuid.UUID, apply: Callable[[models.Tenant], dict[str, Any]]
) -> tuple[TenantConfig, dict[str, Any]]:
    repository = TenantRepository(session)
    row = await repository.lock_for_update(tenant_id)
    if row is None:
        raise not_found("tenant not found")
    changed = apply(row)
    await session.flush()
    await session.refresh(row)
    await repository.announce(row.slug)
    return TenantConfig.from_row(row), changed
