"""A real `kb serve` (gunicorn) on a free port of 127.0.0.1, for tests of what
users run: request limits, workers, the pages gunicorn itself would answer."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

KB = str(Path(sys.executable).with_name("kb"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def kb_server(instance: Path, *, seed: bool = True, workers: int = 2, env: dict | None = None):
    """Initialise (and seed) an instance in ``instance``, serve it, yield its base URL."""
    environment = {**os.environ, "KB_INSTANCE_PATH": str(instance),
                   "KB_DATABASE_URL": f"sqlite:///{instance / 'kb.sqlite3'}", **(env or {})}
    environment.pop("KB_ENV", None)
    instance.mkdir(parents=True, exist_ok=True)
    subprocess.run([KB, "init"], env=environment, check=True, capture_output=True, timeout=300)
    if seed:
        subprocess.run([KB, "seed"], env=environment, check=True, capture_output=True, timeout=300)
    subprocess.run([KB, "index", "rebuild"], env=environment, check=True, capture_output=True, timeout=600)
    port = free_port()
    log = (instance / "serve.log").open("wb")
    server = subprocess.Popen([KB, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                              env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, instance / "serve.log")
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _wait_until_up(base: str, server, log: Path, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.poll() is not None:
            raise RuntimeError(f"kb serve stopped:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            urllib.request.urlopen(base + "/", timeout=5).close()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"kb serve did not answer in {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def get(url: str, timeout: float = 60) -> tuple[int, str]:
    """Status and body of a GET (error statuses included, never raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def raw_request(base: str, request: bytes, timeout: float = 60) -> bytes:
    """Send bytes as they are and read the whole answer (for requests urllib would not send)."""
    host, port = base.rsplit("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
