"""Errors that carry their HTTP status, and the one place that turns any error into a response."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from qa_service.search.versions import NoIndexError

log = logging.getLogger("qa_service")
PROBLEM_TYPE = "https://qa-service.invalid/problems/"


class APIError(Exception):
    """A request the service will not answer, with its HTTP status and a precise detail."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, status: int | None = None, title: str | None = None,
                 slug: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.status = status or self.status
        self.title = title or self.title
        self.slug = slug or self.slug


class InvalidField(APIError):
    """A well-formed JSON body whose values break the documented rules."""

    status, title, slug = 422, "Invalid request", "invalid-request"


class NotFound(APIError):
    """A resource that does not exist."""

    status, title, slug = 404, "Not found", "not-found"


def problem(status: int, title: str, detail: str, slug: str) -> Response:
    """Return an RFC 9457 problem+json response."""
    body = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail}
    if getattr(g, "request_id", None):
        body["request_id"] = g.request_id
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def _html_error(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, detail=detail), status


def register_error_handlers(app: Flask) -> None:
    """Map every exception to a problem body on /api/ paths and an HTML page elsewhere."""

    @app.errorhandler(APIError)
    def api_error(exc: APIError):  # type: ignore[no-untyped-def]
        if _wants_json():
            response = problem(exc.status, exc.title, exc.detail, exc.slug)
        else:
            response = app.make_response(_html_error(exc.status, exc.title, exc.detail))
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(NoIndexError)
    def no_index(exc: NoIndexError):  # type: ignore[no-untyped-def]
        log.warning("no index: %s", exc)
        detail = "No index has been built yet; an administrator must run `qa-service index build`."
        if _wants_json():
            return problem(503, "Service unavailable", detail, "no-index")
        return _html_error(503, "Service unavailable", detail)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        title = exc.name
        detail = exc.description or title
        if status == 413:
            detail = f"The request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes."
        if status == 405:
            detail = f"{request.method} is not allowed on {request.path}; allowed: {', '.join(exc.valid_methods or [])}."
        if _wants_json():
            response = problem(status, title, detail, title.lower().replace(" ", "-"))
        else:
            response = app.make_response(_html_error(status, title, detail))
        if status == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unexpected error in request %s", getattr(g, "request_id", "-"))
        detail = f"The service failed to answer; quote request id {getattr(g, 'request_id', '-')} when reporting it."
        if _wants_json():
            return problem(500, "Internal server error", detail, "internal")
        return _html_error(500, "Internal server error", detail)
