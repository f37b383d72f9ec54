"""Database errors that carry no data: what a log or a traceback prints of them names the
statement and the constraint, never the values.

Two things put values into an error's text. SQLAlchemy appends the statement's parameters
(``[parameters: {...}]``): the engine is created with ``hide_parameters=True`` for that. The
server's own message does too: a unique violation's ``DETAIL: Key (tenant_id, email)=(...)``,
a not-null or check violation's ``DETAIL: Failing row contains (...)`` (a whole row, password
hash included), ``CONTEXT: unnamed portal parameter $1 = '...'``, and a data exception's
primary message quoting the input (``invalid input syntax for type uuid: "..."``).
:func:`redact_database_error`, a ``handle_error`` listener on the engine, rewrites the text of
the driver's exception and of SQLAlchemy's wrapper before either is raised, so every log
call, handler and formatter sees only the redacted text. The structured fields the code reads
(``exc.orig.diag.constraint_name``, ``sqlstate``) stay as they were.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.engine import ExceptionContext

HIDDEN = "[details hidden]"
# Lines after the primary message: DETAIL, HINT, CONTEXT, and the rest PostgreSQL may add.
_SECONDARY = re.compile(r"\n(?=[A-Z ]+:)")
# A quoted literal in a data exception's message (class 22): the value that did not fit.
_QUOTED = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'")


def redact_message(message: str, sqlstate: str | None) -> str:
    """The primary message only; for data exceptions without the quoted input either."""
    primary, *secondary = _SECONDARY.split(message, maxsplit=1)
    if sqlstate is not None and sqlstate.startswith("22"):
        primary = _QUOTED.sub("[value hidden]", primary)
    return f"{primary}\n{HIDDEN}" if secondary else primary


def redact_database_error(context: ExceptionContext) -> None:
    original: Any = context.original_exception
    message = str(original)
    redacted = redact_message(message, getattr(original, "sqlstate", None))
    if redacted == message:
        return
    original.args = (redacted,)
    wrapper = context.sqlalchemy_exception
    if wrapper is not None and wrapper.orig is original:
        kind = type(original)
        wrapper.args = (f"({kind.__module__}.{kind.__name__}) {redacted}",)
