"""A real ``dripline serve`` process for end-to-end tests: started on a free port of
127.0.0.1 with a SQLite file of the test's own, stopped by its pid with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")
START_TIMEOUT = 60.0  # seconds; a cold start imports everything and creates the tables
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def dripline_command() -> list[str]:
    """The installed ``dripline`` script beside this interpreter, else the same entry point
    run through the interpreter."""
    script = Path(sys.executable).with_name("dripline")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from dripline.cli import main; main()"]


def poll(check: Callable[[], T | None], what: str, timeout: float = 10.0,
         interval: float = 0.05) -> T:
    """Call ``check`` until it returns something other than None; bounded."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    database: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM by pid; the exit code (raises if it does not exit in time)."""
        return terminate(self.process, "serve", self.output)


def terminate(process: subprocess.Popen[bytes], name: str, output: Callable[[], str]) -> int:
    """SIGTERM by pid and wait; SIGKILL and fail, with the log's end, if it does not exit."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
    try:
        return process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"dripline {name} ignored SIGTERM:\n{output()[-3000:]}") from None


def start(database: Path, *, api_keys: str | None = None) -> Server:
    """Start ``dripline serve`` on the file ``database`` and wait until it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
    env["DRIPLINE_DATABASE_URL"] = f"sqlite:///{database}"
    env["PYTHONUNBUFFERED"] = "1"
    if api_keys is not None:
        env["DRIPLINE_API_KEYS"] = api_keys
    log = database.with_name(f"{database.name}.{port}.log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*dripline_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=database.parent)
    server = Server(process, f"http://127.0.0.1:{port}", database, log)

    def ready() -> bool | None:
        if process.poll() is not None:
            raise AssertionError(f"dripline serve exited with {process.returncode}:\n"
                                 f"{server.output()}")
        try:
            return httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200 or None
        except httpx.TransportError:
            return None

    try:
        poll(ready, "dripline serve to be ready", timeout=START_TIMEOUT, interval=0.1)
    except BaseException:
        server.stop()
        raise
    return server
