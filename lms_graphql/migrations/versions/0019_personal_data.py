"""personal data: erasure and export

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 10:00:00

users.erased_at: an admin erased the person (privacy/erasure.py). data_exports: the archives of
a person's data that jobs build (privacy/exports.py), a tenant table under RLS.

lms_erase_records(tenant, user, needles) rewrites what the app role may not otherwise change: the
append-only audit log and grade history keep their rows, but lose the person's words (audit
variables, grade feedback); outbox payloads and other people's notifications lose every string
that mentions the person (``needles``: their email and name); submissions lose free-text answers.
SECURITY DEFINER so the app role needs no UPDATE on audit_log or submission_grades; it acts only in
the tenant its transaction is bound to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from lms_graphql.migration_helpers import home_schema, quote_ident, secure_tenant_table

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID_TEXT = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
FREE_TEXT_TYPES = "('short_text', 'essay')"


def upgrade() -> None:
    op.add_column("users", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "data_exports",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'ready', 'failed')", name=op.f("ck_data_exports_status_valid")),
        sa.CheckConstraint(
            "status <> 'ready' OR object_key IS NOT NULL", name=op.f("ck_data_exports_ready_has_archive")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["users.tenant_id", "users.id"], name=op.f("fk_data_exports_tenant_id_user_id")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_data_exports_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_data_exports")),
    )
    op.create_index(
        op.f("ix_data_exports_tenant_id_user_id_created_at"),
        "data_exports",
        ["tenant_id", "user_id", "created_at"],
        unique=False,
    )
    role = context.config.attributes["app_role"]
    secure_tenant_table("data_exports", role, "SELECT, INSERT, UPDATE, DELETE")
    _create_functions(quote_ident(home_schema()), quote_ident(role))


def _create_functions(schema: str, role: str) -> None:
    # needles NULL: every string but a uuid goes (what a person sent); else those mentioning a needle.
    op.execute(
        f"""
        CREATE FUNCTION lms_redact_json(doc jsonb, needles text[]) RETURNS jsonb
        LANGUAGE plpgsql IMMUTABLE
        SET search_path = {schema}
        AS $$
        DECLARE
            result jsonb;
            value text;
        BEGIN
            CASE jsonb_typeof(doc)
            WHEN 'object' THEN
                SELECT coalesce(jsonb_object_agg(e.key, lms_redact_json(e.value, needles)), '{{}}'::jsonb)
                INTO result FROM jsonb_each(doc) AS e;
                RETURN result;
            WHEN 'array' THEN
                SELECT coalesce(jsonb_agg(lms_redact_json(e.value, needles) ORDER BY e.n), '[]'::jsonb)
                INTO result FROM jsonb_array_elements(doc) WITH ORDINALITY AS e(value, n);
                RETURN result;
            WHEN 'string' THEN
                value := doc #>> '{{}}';
                IF needles IS NULL THEN
                    IF value ~ '{UUID_TEXT}' THEN
                        RETURN doc;
                    END IF;
                    RETURN '"[erased]"'::jsonb;
                END IF;
                IF EXISTS (SELECT FROM unnest(needles) AS n WHERE n <> '' AND strpos(lower(value), lower(n)) > 0) THEN
                    RETURN '"[erased]"'::jsonb;
                END IF;
                RETURN doc;
            ELSE
                RETURN doc;
            END CASE;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION lms_mentions(doc text, needles text[]) RETURNS boolean
        LANGUAGE sql IMMUTABLE
        SET search_path = {schema}
        AS $$
            SELECT doc IS NOT NULL AND EXISTS (
                SELECT FROM unnest(needles) AS n
                WHERE n <> '' AND strpos(lower(doc), lower(btrim(to_jsonb(n)::text, '"'))) > 0
            )
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION lms_erase_records(p_tenant uuid, p_user uuid, needles text[]) RETURNS void
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = {schema}
        AS $$
        DECLARE
            about text[] := needles || p_user::text;
        BEGIN
            IF p_tenant IS DISTINCT FROM NULLIF(current_setting('app.current_tenant_id', true), '')::uuid THEN
                RAISE EXCEPTION 'erasure outside the bound tenant' USING ERRCODE = '42501';
            END IF;
            UPDATE audit_log SET details = jsonb_set(details, '{{variables}}', lms_redact_json(details -> 'variables', NULL))
            WHERE tenant_id = p_tenant AND details ? 'variables'
              AND (actor_user_id = p_user OR lms_mentions(details::text, about));
            UPDATE audit_log SET details = lms_redact_json(details, needles)
            WHERE tenant_id = p_tenant AND lms_mentions(details::text, needles);
            UPDATE domain_events SET payload = lms_redact_json(payload, needles)
            WHERE tenant_id = p_tenant AND lms_mentions(payload::text, needles);
            UPDATE notifications
            SET title = CASE WHEN lms_mentions(to_jsonb(title)::text, needles) THEN '[erased]' ELSE title END,
                body = CASE WHEN lms_mentions(to_jsonb(body)::text, needles) THEN '[erased]' ELSE body END,
                payload = lms_redact_json(payload, needles)
            WHERE tenant_id = p_tenant
              AND lms_mentions(concat_ws(' ', to_jsonb(title)::text, to_jsonb(body)::text, payload::text), needles);
            UPDATE submission_grades AS g SET feedback = NULL
            FROM submissions AS s
            WHERE g.tenant_id = p_tenant AND s.tenant_id = p_tenant AND s.id = g.submission_id
              AND s.user_id = p_user AND g.feedback IS NOT NULL;
            UPDATE submissions AS s
            SET feedback = NULL,
                answers = s.answers || coalesce((
                    SELECT jsonb_object_agg(q ->> 'id', '"[erased]"'::jsonb)
                    FROM (
                        SELECT a.questions FROM assessments AS a
                        WHERE a.tenant_id = p_tenant AND a.id = s.assessment_id
                        UNION ALL
                        SELECT v.questions FROM assessment_versions AS v
                        WHERE v.tenant_id = p_tenant AND v.assessment_id = s.assessment_id
                    ) AS versions, jsonb_array_elements(versions.questions) AS q
                    WHERE q ->> 'type' IN {FREE_TEXT_TYPES} AND s.answers ? (q ->> 'id')
                ), '{{}}'::jsonb)
            WHERE s.tenant_id = p_tenant AND s.user_id = p_user;
        END
        $$
        """
    )
    for signature in (
        "lms_redact_json(jsonb, text[])",
        "lms_mentions(text, text[])",
        "lms_erase_records(uuid, uuid, text[])",
    ):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION lms_erase_records(uuid, uuid, text[]) TO {role}")


def downgrade() -> None:
    op.execute("DROP FUNCTION lms_erase_records(uuid, uuid, text[])")
    op.execute("DROP FUNCTION lms_mentions(text, text[])")
    op.execute("DROP FUNCTION lms_redact_json(jsonb, text[])")
    op.drop_table("data_exports")
    op.drop_column("users", "erased_at")
