"""Trusted-only mode: a tenant (its settings) or the whole server (LMS_TRUSTED_DOCUMENTS) runs
registered documents only. Admins may still explore in GraphiQL where it is served (a
development server; production turns it off with LMS_GRAPHIQL=false)."""

from __future__ import annotations

from lms_graphql.auth.viewer import Viewer
from lms_graphql.config import DOCUMENT_MODES, Settings
from lms_graphql.documents.store import Registered
from lms_graphql.errors import ErrorCode, LmsError
from lms_graphql.tenancy.tenant import TenantConfig

MODES = DOCUMENT_MODES
ANY, TRUSTED_ONLY = DOCUMENT_MODES
TENANT_SETTING = "documents"  # tenants.settings["documents"]: "any" or "trusted-only"
EXPLORERS = frozenset({"admin", "super_admin"})


def mode_of(settings: Settings, tenant: TenantConfig) -> str:
    if settings.documents == TRUSTED_ONLY:
        return TRUSTED_ONLY
    return TRUSTED_ONLY if tenant.settings.get(TENANT_SETTING) == TRUSTED_ONLY else ANY


def refuse_untrusted(
    settings: Settings, tenant: TenantConfig, viewer: Viewer | None, trusted: Registered | None
) -> None:
    """Raises DOCUMENT_NOT_TRUSTED when this document may not run here."""
    if trusted is not None or mode_of(settings, tenant) != TRUSTED_ONLY:
        return
    if settings.graphiql and viewer is not None and viewer.role in EXPLORERS:
        return
    raise LmsError(
        ErrorCode.DOCUMENT_NOT_TRUSTED,
        "this tenant runs registered documents only: send the id of a trusted document",
    )
