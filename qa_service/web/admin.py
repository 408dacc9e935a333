"""Admin endpoints behind a bearer token: rebuilding the index while the service answers."""

from __future__ import annotations

import hmac
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request

from qa_service.ingest.content import ContentError
from qa_service.search.builder import build_index
from qa_service.search.versions import BuildLockedError, IndexProblem
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
def reindex():  # type: ignore[no-untyped-def]
    """Build a new index version from the content folder; the old one answers until it is ready."""
    full = request.args.get("full", "").lower() in ("1", "true", "yes")
    try:
        summary = build_index(Path(str(current_app.config["CONTENT_DIR"])),
                              Path(str(current_app.config["INDEX_DIR"])), full=full)
    except BuildLockedError as exc:
        raise APIError(str(exc), 409, "Build already running", "build-running") from None
    except ContentError as exc:
        raise APIError(str(exc), 422, "Build failed: bad content file", "build-failed") from None
    except IndexProblem as exc:
        raise APIError(str(exc), 503, "Build failed: index not writable", "build-failed") from None
    return jsonify({"version": summary.version, "reports": summary.reports, "passages": summary.passages,
                    "seconds": round(summary.seconds, 3), "analysed": summary.analysed,
                    "reused": summary.reused, "removed": summary.removed, "summary": summary.line()})
