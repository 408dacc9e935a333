"""qa_service: ask questions of published reports and get cited findings."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

__version__ = "0.1.0"

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def create_app(config: Mapping[str, object] | None = None):  # type: ignore[no-untyped-def]
    """Create the Flask app: settings from QA_* variables, then `config`; nothing opened yet."""
    from flask import Flask, g, request

    from qa_service import config as settings
    from qa_service.answering import thesaurus
    from qa_service.search.retrieval import IndexHolder
    from qa_service.web import admin, api
    from qa_service.web import pages as web
    from qa_service.web.errors import register_error_handlers

    app = Flask(__name__)
    app.config.from_mapping(settings.from_env())
    if config:
        app.config.from_mapping(config)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_BODY_BYTES"])
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # The holder opens the index on first use, per worker process, and follows new versions.
    app.extensions["qa_index"] = IndexHolder(Path(str(app.config["INDEX_DIR"])))
    # A broken thesaurus file should stop the service at start, not fail every question later.
    app.extensions["qa_thesaurus"] = thesaurus.load(str(app.config["THESAURUS"] or ""))
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(web.bp)
    register_error_handlers(app)
    access = logging.getLogger("qa_service.access")

    @app.before_request
    def start_timer() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        g.started = time.perf_counter()

    @app.after_request
    def finish(response):  # type: ignore[no-untyped-def]
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access.info("%s %s %s %.1fms id=%s", request.method, request.path, response.status_code, ms,
                    g.get("request_id", "-"))
        return response

    return app
