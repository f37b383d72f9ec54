"""Configuration from the environment (see the contract's table of LMS_* variables)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lms_graphql.kit.secrets import read_or_create_secret

DEFAULT_DATA_DIR = "./.lms-data"
DEFAULT_APP_ROLE = "lms_app"


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    app_database_url: str | None
    data_dir: Path
    base_domain: str
    broadcast_url: str | None
    app_role: str
    jwt_secret_env: str | None = field(repr=False)

    @classmethod
    def from_env(cls, env: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        return cls(
            database_url=source.get("LMS_DATABASE_URL") or None,
            app_database_url=source.get("LMS_APP_DATABASE_URL") or None,
            data_dir=Path(source.get("LMS_DATA_DIR") or DEFAULT_DATA_DIR).expanduser().absolute(),
            base_domain=(source.get("LMS_BASE_DOMAIN") or "localhost").lower().strip("."),
            broadcast_url=source.get("LMS_BROADCAST_URL") or None,
            app_role=source.get("LMS_APP_ROLE") or DEFAULT_APP_ROLE,
            jwt_secret_env=source.get("LMS_JWT_SECRET") or None,
        )

    @cached_property
    def jwt_secret(self) -> str:
        """LMS_JWT_SECRET, else a secret generated once and stored (0600) in the data dir."""
        if self.jwt_secret_env:
            return self.jwt_secret_env
        return read_or_create_secret(self.data_dir / "jwt-secret")
