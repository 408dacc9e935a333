"""The OpenAPI 3.1 document: paths and statuses here, every schema from the contract module."""

from __future__ import annotations

from functools import cache
from typing import Any

from qa_service import __version__
from qa_service.config import Limits
from qa_service.web.contract import component_schemas

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
                    "200": _ok("BuildSummary", "The new live version."),
                    "401": _problem("Missing or wrong bearer token."),
                    "404": _problem("Admin endpoints are off (no QA_ADMIN_TOKEN set)."),
                    "409": _problem("Another build is running."),
                    "422": _problem("A content file is bad; the detail names file and line. Nothing changed."),
                    "503": _problem("The index folder cannot be written. Nothing changed."),
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
