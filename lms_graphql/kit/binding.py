"""The statement that binds a transaction to its tenant, in its home: what every tenant
transaction runs first (Database.tenant_transaction begins it)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

TENANT_SETTING = "app.current_tenant_id"
# One round trip binds a transaction: the tenant; how long any statement may run; the schema
# holding the tenant's tables (a bridge tenant's own); then lms_bind_writes() (migration 0018):
# the tenant's lock, held shared, and read-only while a move has the tenant frozen; it fails
# (SQLSTATE LMS01) in a home the tenant has moved away from.
_BIND = "SELECT set_config(%(name)s, %(tenant)s, true)"
_BIND_TIMEOUT = ", set_config('statement_timeout', %(timeout)s, true)"
_BIND_SCHEMA = ", set_config('search_path', %(search_path)s, true)"
_BIND_WRITES = ", {schema}.lms_bind_writes(%(tenant)s::uuid, %(placement)s)"
# Seeds the tenant's lock key (hashtextextended), apart from other advisory locks (0018 too).
TENANT_LOCK_SEED = 7_253_018_335
# What a statement answers in a home that is no longer the tenant's: moved away (LMS01), its
# schema (3F000, 42883) or database (3D000) dropped after a move.
HOME_GONE_STATES = frozenset({"LMS01", "3F000", "3D000", "42883"})


class TenantBoundSession(Session):
    """Sync half of the async session; binds every transaction it begins (see below)."""


@event.listens_for(TenantBoundSession, "after_begin")
def _bind_tenant(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    # set_config(..., is_local => true) lasts until this transaction ends, so a pooled
    # connection can never carry one request's tenant into the next.
    # Benchmarks record a request's statements (Database(record_statements=True) only).
    connection.info["recorder"] = session.info.get("recorder")
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        return
    statement, parameters = _BIND, {"name": TENANT_SETTING, "tenant": str(tenant_id)}
    timeout = session.info.get("statement_timeout_ms")
    if timeout is not None:
        statement, parameters["timeout"] = statement + _BIND_TIMEOUT, f"{int(timeout)}ms"
    schema = session.info.get("schema", "public")
    if schema != "public":
        statement, parameters["search_path"] = statement + _BIND_SCHEMA, f'"{schema}"'
    statement += _BIND_WRITES.format(schema=f'"{schema}"')
    parameters["placement"] = session.info.get("placement", "pool")
    row = connection.exec_driver_sql(statement, parameters).fetchone()
    session.info["read_only"] = row is not None and row[-1] is False
