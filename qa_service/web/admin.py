"""Admin endpoints behind a bearer token: rebuilding the index, the question log and feedback."""

from __future__ import annotations

import hmac
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import ValidationError

from qa_service.search.jobs import read_job, start_job
from qa_service.web.contract import (
    AdminListQuery,
    FeedbackList,
    JobAccepted,
    QuestionList,
    dump,
    issues,
    job_status,
)
from qa_service.web.errors import APIError, InvalidField, NotFound

bp = Blueprint("admin", __name__, url_prefix="/api/admin")


@bp.before_request
def require_token() -> None:
    """Hide admin endpoints when no token is set; otherwise demand it, compared in constant time."""
    token = str(current_app.config.get("ADMIN_TOKEN") or "")
    if not token:
        raise NotFound(f"no endpoint at {request.path}")
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    accepted = scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
    # Wrong tokens are counted per client in the database, so the limit holds across workers and
    # servers: past it, 429 with Retry-After, even for the right token, until the minute ends.
    current_app.extensions["qa"].store.admin_attempt(request.remote_addr or "-", accepted)
    if not accepted:
        raise APIError("send the admin token as 'Authorization: Bearer <token>'", 401, "Unauthorized",
                       "unauthorized", headers={"WWW-Authenticate": 'Bearer realm="qa_service admin"'})


@bp.post("/reindex")
def reindex() -> Response:
    """Start a reindex job (202 at once); the old version answers until the new one is live."""
    # The build runs in a detached `qa-service index build --job` process: no worker timeout
    # applies, it outlives this request, and serving workers never load index-writing code.
    full = request.args.get("full", "").lower() in ("1", "true", "yes")
    settings = current_app.config
    job = start_job(Path(str(settings["INDEX_DIR"])), Path(str(settings["CONTENT_DIR"])), full=full)
    response = jsonify(dump(JobAccepted(job["job"], job["url"], "queued")))
    response.status_code = 202
    response.headers["Location"] = job["url"]
    return response


@bp.get("/jobs/<job_id>")
def job(job_id: str) -> Response:
    """Return a reindex job's state, progress, and build summary or error."""
    found = read_job(Path(str(current_app.config["INDEX_DIR"])), job_id)
    if found is None:
        raise NotFound(f"no reindex job {job_id!r}")
    return jsonify(dump(job_status(found)))


def _list_query() -> AdminListQuery:
    """Return ?limit= (1–1000, default 100) and ?found= (true/false), or raise a 422."""
    try:
        return AdminListQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        found = issues(exc)
        raise InvalidField(f"{found[0].field}: {found[0].message}",
                           errors=[{"field": i.field, "rule": i.rule, "message": i.message} for i in found]) from None


@bp.get("/questions")
def questions() -> Response:
    """List logged questions, identical ones grouped, most asked first (?found=false: unanswered)."""
    query = _list_query()
    store = current_app.extensions["qa"].store
    return jsonify(dump(QuestionList(store.questions(found=query.found, limit=query.limit))))


@bp.get("/feedback")
def feedback() -> Response:
    """List feedback on answers, newest first."""
    query = _list_query()
    if query.found is not None:
        raise InvalidField("found: not a filter of feedback",
                           errors=[{"field": "found", "rule": "extra_forbidden", "message": "not a filter of feedback"}])
    store = current_app.extensions["qa"].store
    return jsonify(dump(FeedbackList(store.feedback(limit=query.limit))))
