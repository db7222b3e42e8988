"""How events are stored: compact JSON (orjson), with each event class's typed fields
(datetimes, UUIDs) revived from the class's annotations when it is read back.

Events written by earlier versions used the library's JSON transcoder, which wraps every
datetime and UUID in a ``{"_type_": ..., "_data_": ...}`` object; those still load (the
stored bytes say which form they are in), so a store never needs rewriting (CONVENTIONS 2).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic, resolve_topic

_LEGACY_MARK = b'"_type_"'
Reviver = typing.Callable[[Any], Any]


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store a {type(value).__name__} in an event")


class EventCodec(Transcoder):
    """orjson both ways; bytes in the library's older form are read by its own decoder."""

    def __init__(self) -> None:
        self._legacy = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            self._legacy.register(transcoding)

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_default)

    def decode(self, data: bytes) -> Any:
        if _LEGACY_MARK in data:
            return self._legacy.decode(data)
        return orjson.loads(data)


def _as_datetime(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _as_uuid(value: Any) -> Any:
    return UUID(value) if isinstance(value, str) else value


def _reviver(hint: Any) -> Reviver | None:
    if hint is datetime:
        return _as_datetime
    if hint is UUID:
        return _as_uuid
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            found = _reviver(arg)
            if found is not None:
                return found
    return None


@cache
def revivers(cls: type[Any]) -> tuple[tuple[str, Reviver], ...]:
    """The fields of an event class that JSON gives back as strings, with their converters."""
    hints = typing.get_type_hints(cls)
    found = ((name, _reviver(hint)) for name, hint in hints.items())
    return tuple((name, fn) for name, fn in found if fn is not None)


_Shape = tuple[frozenset[str], frozenset[str], dict[str, Any]]
_SHAPES: dict[type[Any], _Shape] = {}


def _shape(cls: type[Any]) -> _Shape:
    """An event class's field names, the required ones, and the defaults of the others."""
    known = _SHAPES.get(cls)
    if known is not None:
        return known
    fields = dataclasses.fields(cls)
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    factories = [f.name for f in fields if f.default_factory is not dataclasses.MISSING]
    if factories:
        raise TypeError(f"{cls.__qualname__}: events take plain defaults, not factories")
    names = frozenset(f.name for f in fields)
    _SHAPES[cls] = names, names - defaults.keys(), defaults
    return _SHAPES[cls]


def trigger(aggregate: Any, event_class: type[Any], fields: dict[str, Any]) -> None:
    """``aggregate.trigger_event`` without its generic machinery (a quarter of the cost of a
    step): the event is built the way the mapper revives a stored one, applied, and kept as
    pending. ``fields`` must hold ``at``, the event's timestamp."""
    names, required, defaults = _shape(event_class)
    state = {**defaults, **fields, "originator_id": aggregate.id,
             "originator_version": aggregate.version + 1, "timestamp": fields["at"]}
    if not required <= state.keys() or not state.keys() <= names:
        raise TypeError(f"{event_class.__qualname__} takes {sorted(names)}; got "
                        f"{sorted(state)}")
    event = object.__new__(event_class)
    object.__setattr__(event, "__dict__", state)
    event.mutate(aggregate)
    aggregate._pending_events.append(event)


class Creation:
    """Mixed into an aggregate's ``Created`` event: builds the aggregate without the library's
    generic construction (it inspects the signatures of two ``__init__`` methods on every
    call); ``apply`` sets the state, as the aggregates here have no ``__init__``."""

    def mutate(self, aggregate: Any) -> Any:
        if aggregate is not None:
            raise TypeError("a Created event starts an aggregate; this one exists")
        event: Any = self
        built = object.__new__(resolve_topic(event.originator_topic))
        built._id, built._version = event.originator_id, event.originator_version
        built._created_on = built._modified_on = event.timestamp
        built._pending_events = []
        event.apply(built)
        return built


class EventMapper(Mapper[UUID]):
    """The library's mapper without compression or encryption (none is configured), and with
    field revival by class instead of a type tag on every value."""

    def __init__(self) -> None:
        super().__init__(transcoder=EventCodec())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = dict(domain_event.__dict__)
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(originator_id=originator_id, originator_version=originator_version,
                           topic=get_topic(type(domain_event)),
                           state=self.transcoder.encode(state))

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        for name, revive in revivers(cls):
            value = state.get(name)
            if value is not None:
                state[name] = revive(value)
        originator_id = stored_event.originator_id
        state["originator_id"] = (originator_id if isinstance(originator_id, UUID)
                                  else UUID(str(originator_id)))
        state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event
