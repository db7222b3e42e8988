"""The API key a newcomer gets when ``DRIPLINE_API_KEYS`` is unset: random per install, kept
beside the embedded database so it survives restarts, and printed at start."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dripline.settings import Settings
from projections.storage.urls import is_postgres, sqlite_path

DEFAULT_TENANT = "default"


def key_file(settings: Settings) -> Path | None:
    """Where the generated key is kept: beside the SQLite file (None on PostgreSQL, where
    operators are expected to configure keys; a fresh key is made per start instead)."""
    if is_postgres(settings.database_url):
        return None
    return Path(sqlite_path(settings.database_url) + ".api-key")


def ensure_api_keys(settings: Settings) -> tuple[Settings, str | None]:
    """Settings with keys, and the generated key if one had to be made or was kept."""
    if settings.api_keys:
        return settings, None
    path = key_file(settings)
    key = path.read_text().strip() if path is not None and path.exists() else ""
    if not key:
        key = secrets.token_urlsafe(32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(key + "\n")
            os.chmod(path, 0o600)
    return settings.model_copy(update={"api_keys": f"{DEFAULT_TENANT}:{key}"}), key
