"""idempotency keys keep the answer's exact text

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 21:10:00

A replay must answer byte for byte what the first request answered; jsonb normalises key order
and whitespace, so the answer is kept as the text that was sent.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "idempotency_keys",
        "response_body",
        type_=sa.Text(),
        existing_type=postgresql.JSONB(astext_type=sa.Text()),
        postgresql_using="response_body::text",
    )


def downgrade() -> None:
    op.alter_column(
        "idempotency_keys",
        "response_body",
        type_=postgresql.JSONB(astext_type=sa.Text()),
        existing_type=sa.Text(),
        postgresql_using="response_body::jsonb",
    )
