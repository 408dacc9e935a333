"""Errors that carry their HTTP status, and the one place that turns any error into a response."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from qa_service.ingest.frontmatter import ContentError
from qa_service.search.format import BuildLockedError, IndexProblem, NoIndexError, NoReportsError
from qa_service.search.jobs import JobRunningError, job_url
from qa_service.store import RateLimited, StoreUnavailable, UnknownAnswer

log = logging.getLogger("qa_service")
PROBLEM_TYPE = "https://qa-service.invalid/problems/"


class APIError(Exception):
    """A request the service will not answer, with its HTTP status and a precise detail."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, status: int | None = None, title: str | None = None,
                 slug: str | None = None, headers: dict[str, str] | None = None,
                 errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.status = status or self.status
        self.title = title or self.title
        self.slug = slug or self.slug
        self.errors = errors


class InvalidField(APIError):
    """A well-formed JSON body whose values break the documented rules."""

    status, title, slug = 422, "Invalid request", "invalid-request"


class NotFound(APIError):
    """A resource that does not exist."""

    status, title, slug = 404, "Not found", "not-found"


def _clean(value: Any) -> Any:
    """Return a value whose strings can always be encoded (unpaired surrogates replaced)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def problem(status: int, title: str, detail: str, slug: str,
            errors: list[dict[str, str]] | None = None) -> Response:
    """Return an RFC 9457 problem+json response; it cannot fail, whatever the detail holds."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail,
                            "request_id": getattr(g, "request_id", None), "errors": errors}
    response = Response(json.dumps(_clean(body), ensure_ascii=False), status=status,
                        mimetype="application/problem+json")
    return response


def _content_error_detail(exc: ContentError, content_dir: Path | None = None) -> str:
    """Return a content error naming the file relative to the content folder, never an absolute path."""
    path = Path(exc.path)
    root = content_dir if content_dir is not None else Path(str(current_app.config["CONTENT_DIR"]))
    try:
        shown = str(path.resolve().relative_to(root.resolve()))
    except (ValueError, OSError):
        shown = path.name
    where = f"{shown}:{exc.line}" if exc.line else shown
    return f"{where}: {exc.message}"


def to_api_error(exc: Exception) -> APIError | None:
    """Map a domain exception to its HTTP status and a detail safe to show; None if not a known one."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, ContentError):
        return APIError(_content_error_detail(exc), 422, "Bad content file", "bad-content")
    if isinstance(exc, NoReportsError):
        return APIError("The content folder holds no reports (*.md files); nothing was built.", 422,
                        "No reports", "no-reports")
    if isinstance(exc, JobRunningError):
        url = job_url(exc.job["job"])
        return APIError(f"A reindex job is already {exc.job['state']}: {url}; try again when it ends.", 409,
                        "Build already running", "build-running", headers={"Location": url})
    if isinstance(exc, BuildLockedError):
        return APIError("Another build is running on this index; try again when it ends.", 409,
                        "Build already running", "build-running")
    if isinstance(exc, NoIndexError):
        return APIError("No index has been built yet; an administrator must run `qa-service index build`.",
                        503, "Service unavailable", "no-index")
    if isinstance(exc, UnknownAnswer):
        return NotFound("no answer has this answer_id (answers are kept for QA_LOG_DAYS days)")
    if isinstance(exc, RateLimited):
        return APIError(str(exc), 429, "Too many requests", "too-many-requests",
                        headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, StoreUnavailable):
        return APIError("The question log and feedback database is unavailable; answering goes on. "
                        "Try again shortly.", 503, "Database unavailable", "database-unavailable",
                        headers={"Retry-After": "5"})
    if isinstance(exc, IndexProblem):
        return APIError("The index folder could not be written; nothing changed. See the server log.",
                        503, "Index not writable", "index-not-writable")
    return None


def job_error(exc: BaseException, content_dir: Path) -> dict[str, object]:
    """Return why a reindex job failed, {status, title, detail}: the problem its request would have had."""
    if isinstance(exc, ContentError):
        known: APIError | None = APIError(_content_error_detail(exc, content_dir), 422, "Bad content file",
                                          "bad-content")
    else:
        known = to_api_error(exc) if isinstance(exc, Exception) else None
    if known is None:
        log.error("reindex job failed: %r", exc)
        known = APIError("The build failed unexpectedly; nothing changed. See the job's log in the index folder.",
                         500, "Build failed", "build-failed")
    return {"status": known.status, "title": known.title, "detail": known.detail}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def _respond(exc: APIError) -> Response:
    if _wants_json():
        response = problem(exc.status, exc.title, exc.detail, exc.slug, exc.errors)
    else:
        page = render_template("error.html", status=exc.status, title=exc.title, detail=exc.detail)
        response = Response(page, status=exc.status, mimetype="text/html")
    response.headers.update(exc.headers)
    return response


def _from_http(exc: HTTPException) -> APIError:
    if request.path.startswith("/api/admin") and not current_app.config.get("ADMIN_TOKEN"):
        # Admin off: 404 for every method and path under it, so nothing reveals which routes exist.
        return NotFound(f"no endpoint at {request.path}")
    status = exc.code or 500
    detail = exc.description or exc.name
    headers: dict[str, str] = {}
    if status == 413:
        detail = f"The request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes."
    if status == 405:
        allowed = ", ".join(getattr(exc, "valid_methods", None) or [])
        detail = f"{request.method} is not allowed on {request.path}; allowed: {allowed}."
        headers["Allow"] = allowed
    return APIError(detail, status, exc.name, exc.name.lower().replace(" ", "-"), headers)


def register_error_handlers(app: Flask) -> None:
    """Map every exception to a problem body on /api/ paths and an HTML page elsewhere."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _respond(_from_http(exc))

    @app.errorhandler(Exception)
    def any_error(exc: Exception) -> Response:
        known = to_api_error(exc)
        if known is not None:
            if known.status >= 500 or not isinstance(exc, APIError):
                log.warning("request %s: %s", getattr(g, "request_id", "-"), exc)
            return _respond(known)
        log.exception("unexpected error in request %s", getattr(g, "request_id", "-"))
        detail = f"The service failed to answer; quote request id {getattr(g, 'request_id', '-')} when reporting it."
        return _respond(APIError(detail, 500, "Internal server error", "internal"))
