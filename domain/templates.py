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
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE = 10_000
MAX_OUTPUT = 20_000
MAX_SECONDS = 0.5  # CPU seconds
MAX_LOOP_DEPTH = 2
MAX_NUMBER_BITS = 4096  # about 1,200 decimal digits


class TemplateRenderError(Exception):
    """A template could not be rendered; the message says why, never shows internals."""


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%"])

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        # Integers are exact, so only memory and CPU bound their size, and one expression runs
        # to its end before the time limit is looked at: (((9 ** 64) ** 64) ** 64) ** 64 took
        # 20 s here, one more level would take hours. Bound the result's size instead.
        whole = isinstance(left, int) and isinstance(right, int)
        if operator_name == "%":
            if isinstance(left, str):
                raise SecurityError("'%' string formatting is not allowed; use {{ }}")
            return operator.mod(left, right)
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            if whole and right > 0 and left.bit_length() * right > MAX_NUMBER_BITS:
                raise SecurityError("power result too large")
            return operator.pow(left, right)
        if whole and left.bit_length() + right.bit_length() > MAX_NUMBER_BITS:
            raise SecurityError("product too large")
        result_size = _repeat_size(left, right)
        if result_size > MAX_OUTPUT:
            raise SecurityError("repetition result too large")
        return operator.mul(left, right)


def _repeat_size(left: Any, right: Any) -> int:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int):
            return _size(seq) * max(times, 0)
    return 0


def _size(value: Any, depth: int = 0) -> int:
    """Characters a value would print as, counting what a list holds (not just its length)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple) and depth < 4:
        return sum(_size(item, depth + 1) + 2 for item in value)
    return 8


# keep_trailing_newline: a message renders as written, like one without any {{ }} (returned as is).
_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
for _name in ("range", "lipsum", "dict", "cycler", "joiner", "namespace"):
    _ENV.globals.pop(_name, None)
# Only filters whose output stays about the size of their input: padding, repeating and
# formatting filters (center, indent, wordwrap, replace, format, ...) could build a huge value
# in one step, before the output limit is looked at.
_SAFE_FILTERS = ("default", "d", "upper", "lower", "title", "capitalize", "trim", "truncate",
                 "length", "count", "first", "last", "round", "int", "float", "string", "abs",
                 "escape", "e", "join", "sort", "unique", "list", "wordcount", "striptags",
                 "urlencode", "tojson", "min", "max", "sum", "reverse", "safe")
_ENV.filters = {name: _ENV.filters[name] for name in _SAFE_FILTERS if name in _ENV.filters}


def check_template(source: str, variable_names: set[str]) -> str | None:
    """Why ``source`` would not render (syntax, unknown variable, too deep), or None."""
    if len(source) > MAX_TEMPLATE:
        return f"is longer than {MAX_TEMPLATE} characters"
    try:
        tree = _ENV.parse(source)
    except TemplateError as error:
        line = getattr(error, "lineno", None)
        return f"template syntax error{f' on line {line}' if line else ''}: {error.message}"
    try:
        declared = meta.find_undeclared_variables(tree)
    except TemplateError as error:  # e.g. a filter that is not allowed
        return f"template error: {error.message}"
    unknown = sorted(declared - variable_names - {"contact"})
    if unknown:
        known = ", ".join(sorted(variable_names | {"contact"}))
        return f"unknown variable '{unknown[0]}'; known here: {known}"
    problem = _structure_problem(tree)
    if problem:
        return problem
    try:
        _ENV.from_string(tree)  # compiling finds filters that are not allowed
    except TemplateError as error:
        return f"template error: {error.message}"
    return None


_FORBIDDEN_NODES = (nodes.Assign, nodes.AssignBlock, nodes.Macro, nodes.CallBlock,
                    nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)


def _structure_problem(tree: nodes.Template) -> str | None:
    """Shapes refused both when a step is saved and when it is rendered (an old stored step
    is held to today's rules at send time)."""
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        return f"loops nest more than {MAX_LOOP_DEPTH} deep"
    for node in tree.find_all(_FORBIDDEN_NODES):
        # {% set %} could build values that refer to themselves many times over.
        return f"'{type(node).__name__.lower()}' blocks are not allowed in message templates"
    internal = _internal_name(tree)
    if internal is not None:
        return f"'{internal}' is internal to Python; templates may only use the variables"
    return None


@lru_cache(maxsize=2048)
def _compiled(source: str) -> Template:
    """Parse, check and compile once per distinct template: most steps reuse one."""
    try:
        tree = _ENV.parse(source)
    except TemplateError as error:
        raise TemplateRenderError(f"template syntax error: {error.message}") from None
    problem = _structure_problem(tree)
    if problem:
        raise TemplateRenderError(problem)
    try:
        return _ENV.from_string(tree)
    except TemplateError as error:  # e.g. a filter that is not allowed
        raise TemplateRenderError(f"template error: {error.message}") from None


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


_Piece = str | tuple[str, ...]  # literal text, or the path of a variable: ("contact", "name")


@lru_cache(maxsize=2048)
def _substitutions(source: str) -> tuple[_Piece, ...] | None:
    """A template that only substitutes variables (``Hi {{ contact.name }}``, most of them),
    as its pieces; None for anything else (filters, tests, loops, ...)."""
    try:
        tree = _ENV.parse(source)
    except TemplateError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    pieces: list[_Piece] = []
    for node in tree.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            pieces.append(node.data)
            continue
        path: list[str] = []
        while isinstance(node, nodes.Getattr):
            # ``x.items`` is the dict's method to Jinja, not the key: leave those to it.
            if node.attr.startswith("_") or hasattr(dict, node.attr):
                return None
            path.append(node.attr)
            node = node.node
        if not isinstance(node, nodes.Name):
            return None
        path.append(node.name)
        pieces.append(tuple(reversed(path)))
    return tuple(pieces)


def _substitute(pieces: tuple[_Piece, ...], context: Mapping[str, Any]) -> str | None:
    """What Jinja would render for these pieces, or None where it might differ (a missing
    value, a value that is not a plain dict on the way, output over the limit)."""
    parts: list[str] = []
    size = 0
    for piece in pieces:
        if isinstance(piece, str):
            text = piece
        else:
            value: Any = context
            for name in piece:
                if type(value) is not dict or name not in value:
                    return None
                value = value[name]
            text = str(value)
        size += len(text)
        if size > MAX_OUTPUT:
            return None
        parts.append(text)
    return "".join(parts)


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render with limits on output size and time; raises TemplateRenderError."""
    if "{" not in source:
        return source  # nothing to substitute: skip the engine entirely
    if len(source) > MAX_TEMPLATE:
        raise TemplateRenderError(f"template longer than {MAX_TEMPLATE} characters")
    pieces = _substitutions(source)
    if pieces is not None and type(context) is dict:
        # Plain substitution without the engine (a fifth of its cost); anything it cannot
        # vouch for goes through Jinja below, which also words the errors.
        done = _substitute(pieces, context)
        if done is not None:
            return done
    template = _compiled(source)
    # CPU time of this thread, not wall time: a busy machine must not fail a good template.
    # The clock is read every 16 chunks, starting at the 16th: reading it is a system call
    # (tens of microseconds on some hosts), and most templates are done in fewer chunks.
    started = 0.0
    size = 0
    parts: list[str] = []
    try:
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateRenderError(f"output longer than {MAX_OUTPUT} characters")
            if len(parts) % 16 == 15:
                if not started:
                    started = time.thread_time()
                elif time.thread_time() - started > MAX_SECONDS:
                    raise TemplateRenderError(f"rendering took longer than {MAX_SECONDS} s")
            parts.append(chunk)
    except SecurityError as error:
        raise TemplateRenderError(f"refused by the sandbox: {error}") from None
    except TemplateError as error:
        raise TemplateRenderError(f"{type(error).__name__}: {error.message}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise TemplateRenderError(f"{type(error).__name__}: {error}") from None
    return "".join(parts)
