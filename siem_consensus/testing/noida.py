"""A real Elasticsearch-8 and Kafka server process for tests: ``noida-db`` from PyPI.

``noida-db`` is one local binary that speaks, among others, the Elasticsearch 8 REST API and
the Kafka wire protocol. :class:`NoidaServer` starts it on free ports of 127.0.0.1 with its
data in a temporary directory, waits until every asked service accepts connections, and
stops it (and deletes the data) on exit::

    with NoidaServer(("elasticsearch",)) as server:
        Elasticsearch(server.elasticsearch_url).info()

It needs the ``noida-db`` package (a development dependency); it never downloads anything.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from types import TracebackType

from ..errors import MissingDependencyError

__all__ = ["NoidaServer"]

_SERVICES = ("elasticsearch", "kafka")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _binary() -> Path:
    try:
        path = Path(str(files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError:
        raise MissingDependencyError("noida-db", "dev") from None
    if not path.is_file():
        raise MissingDependencyError("noida-db", "dev")
    path.chmod(0o755)
    return path


class NoidaServer:
    """A ``noida-db`` process serving the given services on 127.0.0.1.

    Args:
        services: Any of ``"elasticsearch"`` and ``"kafka"``.
        startup_timeout: Seconds to wait for the services to accept connections.

    Attributes:
        ports: Port of each service.
    """

    def __init__(
        self, services: Sequence[str] = _SERVICES, *, startup_timeout: float = 20.0
    ) -> None:
        unknown = sorted(set(services) - set(_SERVICES))
        if unknown:
            raise ValueError(f"unknown noida-db services {unknown}; choose from {_SERVICES}")
        self.services = tuple(services)
        self.startup_timeout = startup_timeout
        self.ports = {name: _free_port() for name in self.services}
        self._data_dir: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @property
    def elasticsearch_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the Elasticsearch API."""
        return f"http://127.0.0.1:{self.ports['elasticsearch']}"

    @property
    def kafka_bootstrap(self) -> str:
        """``127.0.0.1:<port>`` of the Kafka broker."""
        return f"127.0.0.1:{self.ports['kafka']}"

    @property
    def pid(self) -> int | None:
        """Process id of the running server (None when stopped): benchmarks read its CPU time."""
        return None if self._process is None else self._process.pid

    def start(self) -> NoidaServer:
        """Start the process and wait until every service listens."""
        self._data_dir = tempfile.mkdtemp(prefix="noida-")
        self._log = Path(self._data_dir) / "server.log"
        command = [str(_binary()), "start", "--data-dir", f"{self._data_dir}/data"]
        command += ["--host", "127.0.0.1", "--only", ",".join(self.services)]
        for name, port in self.ports.items():
            command += [f"--{name}-port", str(port)]
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "NO_COLOR": "1"},
            )
        deadline = time.monotonic() + self.startup_timeout
        for name, port in self.ports.items():
            while not self._listening(port):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    output = self._log.read_text(errors="replace")[-2000:]
                    self.stop()
                    raise RuntimeError(f"noida-db did not start {name} on port {port}:\n{output}")
                time.sleep(0.05)
        return self

    @staticmethod
    def _listening(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the process and delete its data."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    def __enter__(self) -> NoidaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
