"""Personalised message content, rendered in a sandbox.

Templates use ``{{contact.name}}``-style variables: ``contact`` (name, email, phone,
timezone, tags, lists, custom_fields — custom fields also directly as ``contact.<field>``) and
the step's static ``variables`` by name. Jinja2's ImmutableSandboxedEnvironment blocks access
to internals; on top of it, ``range`` and friends are removed, string repetition and powers
are capped, loops nest at most twice, and rendering stops past an output size or time limit.
Templates are checked when a step is saved, so most mistakes never reach send time.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE = 10_000
MAX_OUTPUT = 20_000
MAX_SECONDS = 0.2
MAX_LOOP_DEPTH = 2


class TemplateRenderError(Exception):
    """A template could not be rendered; the message says why, never shows internals."""


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            return operator.pow(left, right)
        result_size = _repeat_size(left, right)
        if result_size > MAX_OUTPUT:
            raise SecurityError("repetition result too large")
        return operator.mul(left, right)


def _repeat_size(left: Any, right: Any) -> int:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int):
            return len(seq) * max(times, 0)
    return 0


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False)
for _name in ("range", "lipsum", "dict", "cycler", "joiner", "namespace"):
    _ENV.globals.pop(_name, None)


def check_template(source: str, variable_names: set[str]) -> str | None:
    """Why ``source`` would not render (syntax, unknown variable, too deep), or None."""
    if len(source) > MAX_TEMPLATE:
        return f"is longer than {MAX_TEMPLATE} characters"
    try:
        tree = _ENV.parse(source)
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        return f"template syntax error{f' on line {line}' if line else ''}: {error.message}"
    unknown = sorted(meta.find_undeclared_variables(tree) - variable_names - {"contact"})
    if unknown:
        known = ", ".join(sorted(variable_names | {"contact"}))
        return f"unknown variable '{unknown[0]}'; known here: {known}"
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        return f"loops nest more than {MAX_LOOP_DEPTH} deep"
    internal = _internal_name(tree)
    if internal is not None:
        return f"'{internal}' is internal to Python; templates may only use the variables"
    return None


def _internal_name(tree: nodes.Node) -> str | None:
    """A dunder attribute or key (``x.__class__``, ``x['__init__']``): the sandbox refuses it
    when rendering, so it is refused when the template is saved, too."""
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name: object = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        if isinstance(name, str) and name.startswith("__"):
            return name
    return None


def _loop_depth(node: nodes.Node) -> int:
    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + 1 if isinstance(node, nodes.For) else inner


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render with limits on output size and time; raises TemplateRenderError."""
    if "{" not in source:
        return source  # nothing to substitute: skip the engine entirely
    if len(source) > MAX_TEMPLATE:
        raise TemplateRenderError(f"template longer than {MAX_TEMPLATE} characters")
    started = time.monotonic()
    size = 0
    parts: list[str] = []
    try:
        for chunk in _ENV.from_string(source).generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateRenderError(f"output longer than {MAX_OUTPUT} characters")
            if time.monotonic() - started > MAX_SECONDS:
                raise TemplateRenderError(f"rendering took longer than {MAX_SECONDS} s")
            parts.append(chunk)
    except SecurityError as error:
        raise TemplateRenderError(f"refused by the sandbox: {error}") from None
    except TemplateError as error:
        raise TemplateRenderError(f"{type(error).__name__}: {error.message}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise TemplateRenderError(f"{type(error).__name__}: {error}") from None
    return "".join(parts)
