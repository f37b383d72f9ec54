"""the app role may read the schema's revision

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 22:40:00

A server holding only the app login (compose's replicas: `serve` with LMS_APP_DATABASE_URL and
no owner URL) checks that the schema is the one it was built for before it serves.
"""

from collections.abc import Sequence

from alembic import context, op

from lms_graphql.migration_helpers import quote_ident

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(f"GRANT SELECT ON alembic_version TO {quote_ident(context.config.attributes['app_role'])}")


def downgrade() -> None:
    op.execute(f"REVOKE SELECT ON alembic_version FROM {quote_ident(context.config.attributes['app_role'])}")
