"""tenant placements: pool, bridge, silo

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 07:10:00

tenants.placement names the tenant's home (kit/homes.py): the shared pool (what
'shared' meant), a schema of its own (bridge) or a database of its own (silo); cluster names
the database server it is on. frozen: a move is copying the tenant's last writes; its
transactions are read-only meanwhile (kit/db.py binds them so).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("tenants", "placement", server_default="pool", type_=sa.String(length=16))
    op.execute("UPDATE tenants SET placement = 'pool' WHERE placement = 'shared'")
    op.add_column("tenants", sa.Column("cluster", sa.String(length=63), server_default="main", nullable=False))
    op.add_column("tenants", sa.Column("frozen", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_check_constraint(op.f("ck_tenants_placement_valid"), "tenants", "placement IN ('pool', 'bridge', 'silo')")
    op.create_check_constraint(op.f("ck_tenants_pool_on_main"), "tenants", "placement <> 'pool' OR cluster = 'main'")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_tenants_pool_on_main"), "tenants", type_="check")
    op.drop_constraint(op.f("ck_tenants_placement_valid"), "tenants", type_="check")
    op.drop_column("tenants", "frozen")
    op.drop_column("tenants", "cluster")
    op.execute("UPDATE tenants SET placement = 'shared' WHERE placement = 'pool'")
    op.alter_column("tenants", "placement", server_default="shared", type_=sa.String(length=63))
