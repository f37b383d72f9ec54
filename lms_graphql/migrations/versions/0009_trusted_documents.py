"""trusted documents: a tenant's and the platform's registered GraphQL documents

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 02:00:00

Clients send a registered document's id instead of its text (persisted queries); a tenant in
trusted-only mode accepts nothing else. A tenant's documents are tenant-owned (RLS as every
tenant table); the platform's are a reference table the app role reads and the CLI writes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from lms_graphql.migration_helpers import quote_ident, secure_tenant_table

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _document_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("operation_names", postgresql.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column("operation_kinds", postgresql.ARRAY(sa.String(length=12)), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("schema_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), server_default=sa.text("''"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    app_role = context.config.attributes["app_role"]
    op.create_table(
        "trusted_documents",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        *_document_columns(),
        sa.CheckConstraint("length(document_id) > 0", name=op.f("ck_trusted_documents_document_id_not_blank")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_trusted_documents_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_trusted_documents")),
        sa.UniqueConstraint("tenant_id", "document_id", name=op.f("uq_trusted_documents_tenant_id_document_id")),
    )
    secure_tenant_table("trusted_documents", app_role, "SELECT, INSERT, DELETE")
    op.create_table(
        "platform_documents",
        *_document_columns(),
        sa.CheckConstraint("length(document_id) > 0", name=op.f("ck_platform_documents_document_id_not_blank")),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_platform_documents")),
    )
    op.execute(f"GRANT SELECT, INSERT, DELETE ON platform_documents TO {quote_ident(app_role)}")


def downgrade() -> None:
    op.drop_table("platform_documents")
    op.drop_table("trusted_documents")
