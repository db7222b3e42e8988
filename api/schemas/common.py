"""Shared schema pieces: the request base model and the list envelope."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")


def unstorable(value: object) -> str | None:
    """The path of the first string that cannot be stored (a NUL byte, a lone surrogate).
    Iterative: a deeply nested body must not exhaust the stack."""
    pending: list[tuple[str, object]] = [("", value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                return where or "value"
        elif isinstance(item, dict):
            for key, child in item.items():
                path = f"{where}.{key}" if where else str(key)
                pending += [(path, key), (path, child)]
        elif isinstance(item, list):
            pending += [(f"{where}[{i}]", child) for i, child in enumerate(item)]
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StorableStrings(BaseModel):
    """Refuses strings that cannot be stored (NUL bytes, unpaired surrogates), naming where."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        where = unstorable(data)
        if where:
            raise ValueError(f"{where}: contains a NUL byte or an unpaired surrogate")
        return data


class RequestBody(StorableStrings):
    """A request body: unknown fields are refused (422 naming them), and so are strings that
    cannot be stored."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    limit: int = Field(ge=1)
