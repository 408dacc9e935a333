"""The JSON API: /api/ask, /api/feedback, /api/reports, /api/health, /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from qa_service.answering.answer import QuestionError
from qa_service.services import Services
from qa_service.web.body import json_body
from qa_service.web.contract import FeedbackCreated, Health, PassageLink, ReportList, ReportPage, dump
from qa_service.web.errors import InvalidField, NotFound
from qa_service.web.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")


def services() -> Services:
    """Return the app's wired parts (settings, live index, thesaurus, ranking)."""
    svc: Services = current_app.extensions["qa"]
    return svc


@bp.post("/ask")
def ask_view() -> Response:
    """Answer a question with cited findings."""
    svc = services()
    req = json_body(svc.limits, "AskRequest")
    index = svc.live()
    if req.reports is not None:
        missing = sorted(set(req.reports) - set(index.reports))
        if missing:
            raise InvalidField(f"unknown report id(s): {', '.join(missing)}",
                               errors=[issues_for("reports", "unknown_report", "no report has this id")])
    # History items are questions, or {question, shown}: the passages already shown are not repeated.
    questions = [h if isinstance(h, str) else h.question for h in req.history]
    shown = frozenset(p for h in req.history if not isinstance(h, str) for p in h.shown)
    try:
        answer = svc.ask(req.question, limit=req.limit, history=questions, reports=req.reports, index=index,
                         shown=shown)
    except QuestionError as exc:
        # The schema's pattern and Python disagree on a few characters: "\x1c" is not whitespace to
        # the validator but is to str.strip(), so a question of them alone reaches here.
        raise InvalidField(f"question: {exc}", errors=[issues_for("question", "blank", str(exc))]) from exc
    answer.answer_id = svc.store.log_answer(answer.question, answer.found,
                                            [f.citation.passage_id for f in answer.findings],
                                            answer.index_version, answer.took_ms)
    return jsonify(dump(answer))


@bp.post("/feedback")
def feedback_view() -> tuple[Response, int]:
    """Store a rating of one answer: 201 with the record's id."""
    svc = services()
    req = json_body(svc.limits, "FeedbackRequest")
    stored = svc.store.add_feedback(request.remote_addr or "-", req.answer_id, req.helpful, req.comment)
    return jsonify(dump(FeedbackCreated(stored, req.answer_id))), 201


def issues_for(field: str, rule: str, message: str) -> dict[str, str]:
    """Return one broken rule in the shape of a 422's `errors` list."""
    return {"field": field, "rule": rule, "message": message}


@bp.get("/reports")
def reports_view() -> Response:
    """List every report with its metadata and passage count."""
    index = services().live()
    return jsonify(dump(ReportList(index.version, list(index.reports.values()))))


@bp.get("/reports/<report_id>")
def report_view(report_id: str) -> Response:
    """Return one report's metadata and passages."""
    index = services().live()
    detail = index.report(report_id)
    if detail is None:
        raise NotFound(f"no report with id {report_id!r}")
    passages = [PassageLink(**vars(p), anchor=p.id, url=f"/reports/{report_id}#{p.id}") for p in detail.passages]
    return jsonify(dump(ReportPage(**vars(detail.meta), index_version=index.version, passages=passages)))


@bp.get("/health")
def health_view() -> Response:
    """Say whether an index is loaded, which version, and how big."""
    index = services().live()
    manifest = index.manifest
    return jsonify(dump(Health("ok", index.version, manifest.built_at, manifest.reports, manifest.passages,
                               database=services().store.state())))


@bp.get("/openapi.json")
def openapi_view() -> Response:
    """Return the OpenAPI 3.1 description of this API, with this server's limits."""
    return jsonify(openapi_document(services().limits))

