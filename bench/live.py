"""A real ``kb serve`` (gunicorn, several workers) on a free loopback port, for
the tests that need several worker processes and for ``bench/load.py``.

    from bench.live import LiveServer, make_instance
    env = make_instance(folder, database_url, stories)   # migrated, loaded, indexed
    with LiveServer(env, workers=4) as server:
        requests.get(server.url + "/search?q=open+data")
        server.restart()

The server binds 127.0.0.1 port 0 (any free port) and reports the port gunicorn
chose; its output goes to ``folder/serve.log``.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

KB = str(Path(sys.executable).parent / "kb")
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
_BOOTED = "Booting worker with pid"


def make_instance(folder, database_url: str | None = None, stories: list[dict] | None = None,
                  extra_env: dict | None = None) -> dict:
    """An instance folder with a migrated database holding ``stories`` (see
    ``bench.corpus``), and its search index built; returns the environment
    that points ``kb`` at it."""
    from kb import create_app, database, search

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KB_INSTANCE_PATH": str(folder), **(extra_env or {})}
    config = {"INSTANCE_PATH": str(folder)}
    if database_url:
        env["KB_DATABASE_URL"] = database_url
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    app = create_app(config)
    with app.app_context():
        database.upgrade()
        from kb.extensions import db

        db.session.remove()
    if stories:
        from bench.corpus import load_into

        load_into(app, stories)
    with app.app_context():
        from kb.extensions import db

        search.rebuild(app)
        db.session.remove()
        db.engine.dispose()
    search.forget_process_state()
    return env


class LiveServer:
    """``kb serve`` in a child process; ``url`` once started."""

    # Before it forks, kb serve trains the filing-suggestion model: about 40 s of
    # CPU with 2,276 filed stories, more on a busy machine.
    def __init__(self, env: dict, workers: int = 4, log_path=None, timeout: float = 300.0) -> None:
        self.env = env
        self.workers = workers
        self.timeout = timeout
        self.log_path = Path(log_path or Path(env["KB_INSTANCE_PATH"]) / "serve.log")
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> "LiveServer":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("a")
        start = log.tell()
        self.process = subprocess.Popen(
            [KB, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", str(self.workers)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kb serve exited with {self.process.returncode}:\n{self.output(start)[-3000:]}")
            text = self.output(start)
            port = _LISTENING.search(text)
            if port and text.count(_BOOTED) >= self.workers:
                self.url = f"http://127.0.0.1:{port.group(1)}"
                if self._answers():
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"kb serve did not start in {self.timeout:g} s:\n{self.output(start)[-3000:]}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/about", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def output(self, start: int = 0) -> str:
        with self.log_path.open(errors="replace") as handle:
            handle.seek(start)
            return handle.read()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def restart(self) -> "LiveServer":
        self.stop()
        return self.start()

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
