"""module and lesson locks

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 03:00:00

A module may open on a date, or once every lesson of the module before it is completed; a
lesson may require the one before it (in the course's reading order). module_lock() and
lesson_lock() say, for one learner, why it is still locked (NULL: open): the rule progress
writes, the resolvers, the dashboard's next lesson and the compiled reads all use.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("modules", sa.Column("unlock_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "modules", sa.Column("requires_previous", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column(
        "lessons", sa.Column("requires_previous", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.execute(
        """
        CREATE FUNCTION module_lock(p_tenant uuid, p_module uuid, p_user uuid) RETURNS text
        LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
        AS $$
            SELECT CASE
                WHEN m.unlock_at IS NOT NULL AND m.unlock_at > now()
                    THEN 'opens on ' || to_char(m.unlock_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
                WHEN m.requires_previous AND EXISTS (
                    SELECT 1 FROM lessons pl
                    WHERE pl.tenant_id = p_tenant AND pl.archived_at IS NULL
                      AND pl.module_id = (
                          SELECT pm.id FROM modules pm
                          WHERE pm.tenant_id = p_tenant AND pm.course_id = m.course_id
                            AND pm.archived_at IS NULL AND pm.position < m.position
                          ORDER BY pm.position DESC, pm.created_at DESC, pm.id DESC LIMIT 1
                      )
                      AND NOT EXISTS (
                          SELECT 1 FROM lesson_progress p
                          WHERE p.tenant_id = p_tenant AND p.user_id = p_user AND p.lesson_id = pl.id
                            AND p.status = 'completed'
                      )
                ) THEN 'complete the previous module first'
            END
            FROM modules m WHERE m.tenant_id = p_tenant AND m.id = p_module
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION lesson_lock(p_tenant uuid, p_lesson uuid, p_user uuid) RETURNS text
        LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
        AS $$
            SELECT coalesce(module_lock(p_tenant, l.module_id, p_user), CASE
                WHEN l.requires_previous AND EXISTS (
                    SELECT 1 FROM (
                        SELECT pl.id FROM lessons pl
                        JOIN modules pm ON pm.tenant_id = pl.tenant_id AND pm.id = pl.module_id
                        WHERE pl.tenant_id = p_tenant AND pl.course_id = l.course_id
                          AND pl.archived_at IS NULL AND pm.archived_at IS NULL
                          AND (pm.position, pl.position) < (m.position, l.position)
                        ORDER BY pm.position DESC, pl.position DESC LIMIT 1
                    ) previous
                    WHERE NOT EXISTS (
                        SELECT 1 FROM lesson_progress p
                        WHERE p.tenant_id = p_tenant AND p.user_id = p_user AND p.lesson_id = previous.id
                          AND p.status = 'completed'
                    )
                ) THEN 'complete the previous lesson first'
            END)
            FROM lessons l JOIN modules m ON m.tenant_id = l.tenant_id AND m.id = l.module_id
            WHERE l.tenant_id = p_tenant AND l.id = p_lesson
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION lesson_lock(uuid, uuid, uuid)")
    op.execute("DROP FUNCTION module_lock(uuid, uuid, uuid)")
    op.drop_column("lessons", "requires_previous")
    op.drop_column("modules", "requires_previous")
    op.drop_column("modules", "unlock_at")
