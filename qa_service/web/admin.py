"""Admin endpoints behind a bearer token: rebuilding the index while the service answers."""

from __future__ import annotations

import hmac
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request

from qa_service.web.contract import BuildResult, dump
from qa_service.web.errors import APIError, NotFound

bp = Blueprint("admin", __name__, url_prefix="/api/admin")


@bp.before_request
def require_token() -> None:
    """Hide admin endpoints when no token is set; otherwise demand it, compared in constant time."""
    token = str(current_app.config.get("ADMIN_TOKEN") or "")
    if not token:
        raise NotFound(f"no endpoint at {request.path}")
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise APIError("send the admin token as 'Authorization: Bearer <token>'", 401, "Unauthorized",
                       "unauthorized", headers={"WWW-Authenticate": 'Bearer realm="qa_service admin"'})


@bp.post("/reindex")
def reindex() -> Response:
    """Build a new index version from the content folder; the old one answers until it is ready."""
    # Only here is the index builder loaded: serving workers never import index-writing code.
    from qa_service.search.builder import build_index

    full = request.args.get("full", "").lower() in ("1", "true", "yes")
    settings = current_app.config
    summary = build_index(Path(str(settings["CONTENT_DIR"])), Path(str(settings["INDEX_DIR"])), full=full)
    return jsonify(dump(BuildResult(summary.version, summary.reports, summary.passages, round(summary.seconds, 3),
                                    summary.analysed, summary.reused, summary.removed, summary.line())))
