"""every tenant gets the features of its plan

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29 10:30:00

Feature flags now gate behaviour (tenancy/features.py): a tenant registered before had none
enabled, and would lose certificates, live updates and REST. Each gets what its plan allows, as a
new tenant does; a flag set before is kept. In a bridge or silo home this updates the home's copy.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As models/tenant.py has them today: migrations are history, and do not follow later changes.
PLAN_FEATURES = {
    "free": ("certificates", "live_updates", "rest_api"),
    "pro": ("certificates", "live_updates", "rest_api", "peer_review"),
    "enterprise": ("certificates", "live_updates", "rest_api", "peer_review"),
}


def upgrade() -> None:
    for plan, features in PLAN_FEATURES.items():
        listed = ", ".join(f"'{name}'" for name in features)
        op.execute(
            f"UPDATE tenants SET features = ARRAY(SELECT DISTINCT unnest(features || ARRAY[{listed}]::varchar[]) "
            f"ORDER BY 1) WHERE plan = '{plan}'"
        )


def downgrade() -> None:
    pass  # the flags stay: they gated nothing before
