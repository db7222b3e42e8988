"""The README walkthrough as data: its ``sh`` blocks parsed into the HTTP requests they make.

The walkthrough is written for people (copy-paste ``curl``); the test runs the very same
requests. Only what the walkthrough uses is understood: ``export NAME=value``, one ``curl``
per block with ``-X``, ``-H`` and ``-d @-`` fed by a here-document, ``$NAME`` and the
``$(date -u +FORMAT)`` substitution, and ``NAME=$(curl ... | python3 -c '...')`` to keep a
value from the answer. Anything else fails loudly, so the README cannot drift into commands
the test silently skips.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
_HEREDOC = re.compile(r"<<(')?(\w+)(')?")
_CAPTURE = re.compile(r"^(\w+)=\$\((.*)$", re.DOTALL)
_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
_EXPORT = re.compile(r"export (\w+)=(\$\([^)]*\)|\S+)\s*(?:#.*)?")
_DATE = re.compile(r"\$\(date -u \+([^)]*)\)")


class WalkthroughError(AssertionError):
    pass


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    body_expands: bool = False  # an unquoted here-document: $NAME and $(date) expand
    capture: str | None = None  # the shell variable that keeps a value of the answer
    extract: str | None = None  # the python3 -c program that picks it from the answer


@dataclass
class Walkthrough:
    exports: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)


def section(text: str, title: str = "## Walkthrough") -> str:
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end if end != -1 else len(text)]


def parse(text: str) -> Walkthrough:
    walkthrough = Walkthrough()
    for block in _BLOCK.findall(section(text)):
        lines = [line for line in block.splitlines() if line.strip()]
        if lines[0].startswith("export "):
            for line in lines:
                match = _EXPORT.fullmatch(line.strip())
                if match is None:
                    raise WalkthroughError(f"not understood: {line}")
                walkthrough.exports[match.group(1)] = match.group(2)
            continue
        walkthrough.requests.append(_request(lines))
    return walkthrough


def _request(lines: list[str]) -> Request:
    head, body, delimiter_quoted = _split_heredoc(lines)
    command = " ".join(line.rstrip("\\").strip() for line in head)
    capture = extract = None
    if match := _CAPTURE.match(command):
        capture, command = match.group(1), match.group(2)
        command, _, program = command.partition("| python3 -c ")
        extract = shlex.split(program)[0]
    tokens = shlex.split(command, comments=True)
    if tokens[0] != "curl":
        raise WalkthroughError(f"not a curl command: {command}")
    method, url, headers, data = "GET", None, {}, None
    words = iter(tokens[1:])
    for word in words:
        if word in ("-s", "-sS", "-S"):
            continue
        if word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = next(words)
        elif _HEREDOC.fullmatch(word) or word.startswith("<<"):
            continue
        elif word.startswith("-"):
            raise WalkthroughError(f"curl option {word} is not understood by the test")
        else:
            url = word
    if url is None:
        raise WalkthroughError(f"no URL in {command}")
    if data == "@-":
        if body is None:
            raise WalkthroughError(f"-d @- without a here-document: {command}")
        data = body
    if data is not None and method == "GET":
        method = "POST"
    return Request(method, url, headers, data, body_expands=body is not None
                   and not delimiter_quoted, capture=capture, extract=extract)


def _split_heredoc(lines: list[str]) -> tuple[list[str], str | None, bool]:
    for i, line in enumerate(lines):
        match = _HEREDOC.search(line)
        if match:
            delimiter, quoted = match.group(2), match.group(1) is not None
            end = lines.index(delimiter, i + 1)
            rest = [x for x in lines[end + 1:] if x.strip() not in (")",)]
            if rest and not all(x.startswith("echo ") for x in rest):
                raise WalkthroughError(f"unexpected lines after the here-document: {rest}")
            return lines[:i + 1], "\n".join(lines[i + 1:end]), quoted
    return [x for x in lines if not x.startswith("echo ")], None, False


def expand(text: str, variables: Mapping[str, str],
           now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    """Expand ``$NAME`` and ``$(date -u +FORMAT)`` as the shell would."""
    text = _DATE.sub(lambda m: now().strftime(m.group(1)), text)
    if "$(" in text:
        raise WalkthroughError(f"a command substitution the test cannot run: {text}")

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise WalkthroughError(f"${name} is used before it is set")
        return variables[name]

    return _VARIABLE.sub(value, text)


def body_of(request: Request, variables: Mapping[str, str],
            now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str | None:
    if request.body is None or not request.body_expands:
        return request.body
    return expand(request.body, variables, now)
