"""What every read model is: a name (also its tracking name), its tables, and a handler per
event class it follows. The handled classes also give the topics fetched from the store, so
the two can never disagree."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from projections.batch import Batch

Handler = Callable[[Batch, Any, Mapping[str, str]], None]


def table_name(base: str, generation: int) -> str:
    return f"rm_{base}_g{generation}"


def dumps(value: Any) -> str:
    """JSON with sorted keys: equal content gives equal text, so table checksums compare."""
    return json.dumps(value, sort_keys=True, default=str)


class ReadModel:
    name: ClassVar[str]
    # Base table names; each generation of the model has its own copies (see ``tables``).
    table_bases: ClassVar[tuple[str, ...]]
    # DDL with ``{base}`` placeholders for the generation's table names; indexes are named
    # after their table so that generations never collide.
    schema: ClassVar[tuple[str, ...]]
    # Columns that order each table's rows for checksums (a unique key).
    keys: ClassVar[Mapping[str, str]]
    # Bumped when what the handlers write changes meaning while the schema and topics stay
    # the same (a schema or topic change alters the fingerprint by itself).
    version: ClassVar[int] = 1

    def __init__(self) -> None:
        self._handlers = self.build_handlers()

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        raise NotImplementedError

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(sorted(cls.TOPIC for cls in self._handlers))

    @property
    def fingerprint(self) -> str:
        """What a generation's tables were built for: the model's version, its DDL and the
        topics it follows. A generation with another fingerprint was built by other code
        (other columns, or events of a newly followed topic never applied): it is neither
        read nor fed by this code, but replaced (``generations.setup``)."""
        digest = hashlib.sha256("\n".join([*self.schema, *self.topics]).encode()).hexdigest()
        return f"v{self.version}:{digest[:16]}"

    def tables(self, generation: int) -> dict[str, str]:
        return {base: table_name(base, generation) for base in self.table_bases}

    def prefetch(self, batch: Batch, events: Sequence[Any], tables: Mapping[str, str]) -> None:
        """Read what the batch's events will need in a few queries (optional)."""

    def apply(self, batch: Batch, event: Any, tables: Mapping[str, str]) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(batch, event, tables)
