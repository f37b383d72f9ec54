"""Erasing a person (GDPR art. 17): their user row stays, pseudonymous, so what others see stays
true (enrollment counts, course statistics, grades' distribution, certificates' codes); every
column models/personal_data.py calls personal is removed or rewritten, their files and archives are deleted
once the transaction commits, and their tokens stop working at that commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from lms_graphql import models
from lms_graphql.auth import policies
from lms_graphql.auth.viewer import Viewer
from lms_graphql.errors import ErrorCode, LmsError, not_found
from lms_graphql.kit.db import note_revoked
from lms_graphql.privacy.repository import PersonalDataRepository
from lms_graphql.storage.service import defer_deletion, staging_key
from lms_graphql.users.repository import UserRepository


async def erase_user(session: AsyncSession, tenant_id: uuid.UUID, viewer: Viewer, user_id: uuid.UUID) -> models.User:
    users = UserRepository(session, tenant_id)
    user = await users.lock(user_id)  # a concurrent erasure, or update, waits for this one
    if user is None:
        raise not_found("user not found")
    if user.erased_at is not None:
        return user  # erased already: nothing personal is left
    if user.id == viewer.id:
        raise LmsError(ErrorCode.FORBIDDEN, "you cannot erase yourself: ask another admin")
    if user.role == "super_admin" and not policies.may_manage_tenants(viewer):
        raise LmsError(ErrorCode.FORBIDDEN, "only a platform operator may erase a super_admin")
    needles = [user.email, user.full_name]
    object_keys = await PersonalDataRepository(session, tenant_id).erase(user.id, needles, datetime.now(UTC))
    if object_keys:
        staged = [staging_key(key) for key in object_keys if not key.endswith(".zip")]
        await defer_deletion(session, tenant_id, object_keys=[*object_keys, *staged])
    note_revoked(session, user.id)
    await session.refresh(user)
    return user
