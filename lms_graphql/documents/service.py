"""Registering, listing and removing documents, and a tenant's trusted-only mode."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLSchema
from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql.config import Settings
from lms_graphql.documents.manifest import Entry
from lms_graphql.documents.policy import MODES, TENANT_SETTING, mode_of
from lms_graphql.documents.registration import Checked, check
from lms_graphql.documents.repository import repository_for
from lms_graphql.documents.store import announce_documents
from lms_graphql.errors import bad_input
from lms_graphql.tenancy.service import set_tenant_setting
from lms_graphql.tenancy.tenant import TenantConfig


@dataclass(frozen=True)
class Registration:
    document: Checked
    new: bool  # False: the same text was registered under this id already


async def register(
    session: AsyncSession, schema: GraphQLSchema, tenant_id: uuid.UUID | None, entries: list[Entry], source: str
) -> list[Registration]:
    """All of ``entries`` or none (a ManifestError names the first that does not parse or
    validate; CONFLICT an id already naming another text). ``tenant_id`` None: the platform's."""
    checked = [check(schema, entry) for entry in entries]
    repository = repository_for(session, tenant_id)
    registered = [
        Registration(document, await repository.add({**dataclasses.asdict(document), "source": source[:200]}))
        for document in checked
    ]
    await announce_documents(session, tenant_id)
    return registered


async def remove(session: AsyncSession, tenant_id: uuid.UUID | None, document_id: str) -> bool:
    removed = await repository_for(session, tenant_id).remove(document_id)
    if removed:
        await announce_documents(session, tenant_id)
    return removed


async def listing(session: AsyncSession, tenant_id: uuid.UUID | None) -> list[Any]:
    return await repository_for(session, tenant_id).listing()


async def set_mode(session: AsyncSession, tenant_id: uuid.UUID, mode: str) -> TenantConfig:
    if mode not in MODES:
        raise bad_input(f"the document mode is one of {', '.join(MODES)}")
    return await set_tenant_setting(session, tenant_id, TENANT_SETTING, mode)


def mode(settings: Settings, tenant: TenantConfig) -> str:
    return mode_of(settings, tenant)
