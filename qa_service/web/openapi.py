"""The OpenAPI 3.1 document: paths and statuses here, every schema from the contract module."""

from __future__ import annotations

from functools import cache
from typing import Any

from qa_service import __version__
from qa_service.config import Limits
from qa_service.web.contract import ADMIN_LIST_DEFAULT, ADMIN_LIST_MAX, component_schemas

_STR = {"type": "string"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


ERRORS = {
    "400": _problem("Malformed JSON: not UTF-8, not JSON, or nested too deeply."),
    "404": _problem("No such resource."),
    "405": _problem("Method not allowed on this path."),
    "413": _problem("Request body larger than the limit (QA_MAX_BODY_BYTES)."),
    "415": _problem("Body is not application/json in UTF-8."),
    "422": _problem("A field breaks the documented rules; `errors` names each field and rule."),
    "500": _problem("Unexpected failure; the detail quotes a request id."),
    "503": _problem("No index has been built yet."),
}
_DATABASE_DOWN = _problem("The question log and feedback database is unavailable (answering goes on).")
_ADMIN = {"401": _problem("Missing or wrong bearer token."),
          "404": _problem("Admin endpoints are off (no QA_ADMIN_TOKEN set)."),
          "429": _problem("Too many wrong admin tokens from this client; see Retry-After.")}


def _admin_list(summary: str, operation: str, schema: str, found: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [{
        "name": "limit", "in": "query", "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": ADMIN_LIST_MAX, "default": ADMIN_LIST_DEFAULT}}]
    if found:
        parameters.append({"name": "found", "in": "query", "required": False,
                           "schema": {"type": "string", "enum": ["true", "false"]},
                           "description": "Only questions the reports answered (true) or did not (false)."})
    return {"get": {
        "summary": summary, "operationId": operation, "security": [{"bearer": []}], "parameters": parameters,
        "responses": {"200": _ok(schema, summary + "."), **_ADMIN,
                      "422": _problem("A query parameter breaks its rule."), "503": _DATABASE_DOWN,
                      **_errors("405", "500")},
    }}

def _errors(*codes: str) -> dict[str, Any]:
    return {code: ERRORS[code] for code in codes}


@cache
def openapi_document(limits: Limits) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for these limits: every endpoint, body and error."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "qa_service", "version": __version__,
                 "description": "Ask questions of published reports and get cited findings."},
        "paths": {
            "/api/ask": {"post": {
                "summary": "Answer a question with cited findings",
                "operationId": "ask",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("AskRequest")}}},
                "responses": {"200": _ok("Answer", "Findings, or found=false when the reports do not answer."),
                              **_errors("400", "405", "413", "415", "422", "500", "503")},
            }},
            "/api/feedback": {"post": {
                "summary": "Rate an answer: helpful or not, with an optional comment",
                "operationId": "feedback",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("FeedbackRequest")}}},
                "responses": {
                    "201": _ok("FeedbackCreated", "Stored."),
                    "404": _problem("No answer has this answer_id."),
                    "429": {**_problem("Too much feedback from this client (QA_FEEDBACK_RATE)."),
                            "headers": {"Retry-After": {"description": "Seconds until more is accepted.",
                                                        "schema": {"type": "integer"}}}},
                    "503": _DATABASE_DOWN,
                    **_errors("400", "405", "413", "415", "422", "500"),
                },
            }},
            "/api/admin/questions": _admin_list("Logged questions, identical ones grouped, most asked first",
                                                "adminQuestions", "QuestionList", found=True),
            "/api/admin/feedback": _admin_list("Feedback on answers, newest first", "adminFeedback",
                                               "FeedbackList", found=False),
            "/api/reports": {"get": {
                "summary": "List reports", "operationId": "listReports",
                "responses": {"200": _ok("ReportList", "Every report."), **_errors("405", "500", "503")},
            }},
            "/api/reports/{report_id}": {"get": {
                "summary": "One report with its passages", "operationId": "getReport",
                "parameters": [{"name": "report_id", "in": "path", "required": True, "schema": _STR}],
                "responses": {"200": _ok("Report", "The report."), **_errors("404", "405", "500", "503")},
            }},
            "/api/health": {"get": {
                "summary": "Whether an index is loaded", "operationId": "health",
                "responses": {"200": _ok("Health", "An index is loaded."), **_errors("405", "500", "503")},
            }},
            "/api/admin/reindex": {"post": {
                "summary": "Rebuild the index from the content folder (admin)",
                "operationId": "reindex",
                "security": [{"bearer": []}],
                "parameters": [{"name": "full", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
                                "description": "Re-analyse every report, not only changed ones."}],
                "responses": {
                    "202": {**_ok("JobAccepted", "The job is queued; follow it at `url` (also the Location "
                                                 "header). A bad content file or a failed build shows in the job."),
                            "headers": {"Location": {"description": "The job's URL.", "schema": _STR}}},
                    **_ADMIN,
                    "409": _problem("A reindex job is already queued or running; the detail and the Location "
                                    "header give its URL."),
                    "503": _problem("The index folder cannot be written. Nothing changed."),
                    **_errors("405", "500"),
                },
            }},
            "/api/admin/jobs/{job_id}": {"get": {
                "summary": "A reindex job's state, progress, and build summary or error (admin)",
                "operationId": "getJob",
                "security": [{"bearer": []}],
                "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": _STR}],
                "responses": {
                    "200": _ok("Job", "The job: queued, running, done (with the build summary) or failed "
                                      "(with the error: 409 another build held the index, 422 a bad content "
                                      "file, 503 the index folder could not be written, 500 interrupted)."),
                    **_ADMIN,
                    "404": _problem("No such job, or admin endpoints are off."),
                    **_errors("405", "500"),
                },
            }},
            "/api/openapi.json": {"get": {
                "summary": "This document", "operationId": "openapi",
                "responses": {"200": {"description": "The OpenAPI document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
        },
        "components": {"schemas": component_schemas(limits),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
