"""qa_service: ask questions of published reports and get cited findings."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask, Response

__version__ = "0.1.0"

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def printable(text: str) -> str:
    """Return text safe for one log line: control and unprintable characters escaped."""
    # A "%0a" in a path would otherwise write a forged line into the access log.
    return text if text.isprintable() else "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text)


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Create the Flask app: settings from QA_* variables, then `config`; nothing opened yet."""
    from flask import Flask, g, request

    from qa_service import config as settings
    from qa_service.services import build_services
    from qa_service.web import admin, admin_page, api, pages
    from qa_service.web.errors import register_error_handlers

    app = Flask(__name__)
    app.config.from_mapping(settings.from_env())
    if config:
        app.config.from_mapping(config)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_BODY_BYTES"])
    # Host headers outside QA_TRUSTED_HOSTS are refused (400); empty trusts any (behind a proxy).
    hosts = app.config.get("TRUSTED_HOSTS") or ""
    if isinstance(hosts, str):
        hosts = [h.strip() for h in hosts.split(",") if h.strip()]
    app.config["TRUSTED_HOSTS"] = list(hosts) or None
    # Routing never redirects ("/api/reports/" is "/api/reports"): a redirect's Location would
    # otherwise be built from the Host the client sent.
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider has it
    # One place hands out the settings, limits, live index (opened on first use, per worker,
    # following new versions), thesaurus and ranking. A broken thesaurus stops the app here.
    app.config.setdefault("INSTANCE_PATH", app.instance_path)
    app.extensions["qa"] = build_services(app.config)
    # The database is created or migrated now; if it is down the app still answers (and says so).
    app.extensions["qa"].store.start()
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(pages.bp)
    admin_page.init_app(app)
    register_error_handlers(app)
    access = logging.getLogger("qa_service.access")

    @app.before_request
    def start_timer() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)  # a view may set a stricter one
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access.info("%s %s %s %.1fms id=%s", printable(request.method), printable(request.path),
                    response.status_code, ms,
                    g.get("request_id", "-"))
        return response

    return app
