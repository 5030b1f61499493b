"""Production serving: gunicorn with several worker processes."""
from __future__ import annotations

import multiprocessing

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from kb import create_app

        return create_app()


def serve(host: str, port: int, workers: int | None = None) -> None:
    _Server(
        {
            "bind": f"{host}:{port}",
            "workers": workers or multiprocessing.cpu_count() * 2 + 1,
            "accesslog": "-",
            "timeout": 60,
        }
    ).run()
