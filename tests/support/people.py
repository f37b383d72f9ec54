"""People and tenants of the tests."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from lms_graphql.tenancy.tenant import TenantConfig


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


TenantFactory = Callable[..., Awaitable[TenantConfig]]


PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    tenant: TenantConfig
    id: uuid.UUID
    email: str
    role: str


PersonFactory = Callable[..., Awaitable[Person]]
