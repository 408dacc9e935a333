"""Run the app under gunicorn: N worker processes, each opening the index once."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: Mapping[str, object], app_config: Mapping[str, object]) -> None:
        self.options = dict(options)
        self.app_config = dict(app_config)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from qa_service import create_app

        return create_app(self.app_config)


def default_workers() -> int:
    """Return one worker per core."""
    return max(1, os.cpu_count() or 1)


def serve(host: str, port: int, workers: int, app_config: Mapping[str, object], timeout: int = 30) -> None:
    """Serve until stopped; request lines come from the app's own access log."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s")
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": timeout,          # a request stuck longer than this is killed and retried
        "graceful_timeout": 10,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "accesslog": None,           # the app logs one line per request itself
        "errorlog": "-",
        "loglevel": "warning",
        "preload_app": False,        # each worker builds its app and opens the index lazily
    }
    _Gunicorn(options, app_config).run()
