"""Small checks shared by the value objects; each raises InvalidInputError naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from domain.errors import InvalidInputError

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def require_mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, f"must be an object, got {type(value).__name__}")
    return value


def reject_unknown(data: Mapping[str, Any], allowed: set[str], field: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        where = f"{field}." if field else ""
        raise InvalidInputError(
            f"{where}{unknown[0]}", f"unknown field; allowed: {', '.join(sorted(allowed))}"
        )


def text(value: object, field: str, *, max_len: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise InvalidInputError(field, "is required and must not be blank")
    if "\x00" in value or _has_lone_surrogate(value):
        # Neither can be stored (PostgreSQL text refuses NUL; lone surrogates are not UTF-8).
        raise InvalidInputError(field, "contains a NUL character or invalid Unicode")
    if len(value) > max_len:
        raise InvalidInputError(field, f"must be at most {max_len} characters, got {len(value)}")
    return value


def _has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def optional_text(value: object, field: str, *, max_len: int) -> str | None:
    if value is None:
        return None
    return text(value, field, max_len=max_len)


def integer(value: object, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(field, f"must be an integer, got {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise InvalidInputError(field, f"must be between {minimum} and {maximum}, got {value}")
    return value


def boolean(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(field, f"must be true or false, got {type(value).__name__}")
    return value


def choice(value: object, field: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise InvalidInputError(field, f"must be one of {', '.join(options)}; got {value!r}")
    return value


def identifier(value: object, field: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise InvalidInputError(
            field, f"must be a lowercase name like 'whatsapp' or 'email'; got {value!r}"
        )
    return value


def string_map(value: object, field: str, *, max_items: int, max_len: int) -> dict[str, str]:
    if value is None:
        return {}
    data = require_mapping(value, field)
    if len(data) > max_items:
        raise InvalidInputError(field, f"must have at most {max_items} entries")
    out: dict[str, str] = {}
    for key, item in data.items():
        text(key, f"{field} key", max_len=100)
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise InvalidInputError(f"{field}.{key}", "must be a string or a number")
        out[key] = text(str(item), f"{field}.{key}", max_len=max_len, required=False)
    return out


# Tenant and contact ids go into derived ids, URL paths and log lines: a small, documented
# alphabet (docs/behaviour.md, "Ids") keeps every one of them unambiguous and printable.
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CONTACT = re.compile(r"^[A-Za-z0-9+][A-Za-z0-9._:@+=|~-]{0,199}$")
TENANT_RULE = "1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
CONTACT_RULE = ("1-200 characters: letters, digits and . _ : @ + = | ~ -, starting with a "
                "letter, a digit or '+'")


def tenant_id(value: object, field: str = "tenant_id") -> str:
    if not isinstance(value, str) or not _TENANT.match(value):
        raise InvalidInputError(field, f"must be {TENANT_RULE}; got {value!r}"[:300])
    return value


def contact_id(value: object, field: str = "contact_id") -> str:
    if not isinstance(value, str) or not _CONTACT.match(value):
        raise InvalidInputError(field, f"must be {CONTACT_RULE}; got {value!r}"[:300])
    return value
