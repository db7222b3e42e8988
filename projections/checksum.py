"""A digest of a read model's live tables, to show that two ways of building them (a full
replay and incremental projection, say) produced the same rows."""

from __future__ import annotations

import hashlib

from projections import generations as gens
from projections.db import ReadDb, as_datetime
from projections.models.base import ReadModel


def checksum(db: ReadDb, model: ReadModel, generation: int | None = None) -> str:
    if generation is None:
        generation = gens.live_generation(db, model.name).generation
    digest = hashlib.sha256()
    for base, table in sorted(model.tables(generation).items()):
        digest.update(base.encode())
        for row in db.read(f"SELECT * FROM {table} ORDER BY {model.keys[base]}"):
            digest.update(repr(sorted((k, _canonical(v)) for k, v in row.items())).encode())
    return digest.hexdigest()


def _canonical(value: object) -> object:
    # SQLite gives timestamps back as text, PostgreSQL as datetimes: compare the instants.
    if isinstance(value, str) and len(value) == 32 and value[10:11] == "T":
        return as_datetime(value)
    return value
