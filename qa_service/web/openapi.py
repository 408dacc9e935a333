"""The OpenAPI 3.1 document for the JSON API, kept beside the code it describes."""

from __future__ import annotations

from functools import cache

from qa_service import __version__

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _ok(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


ERRORS = {
    "400": _problem("Malformed JSON."),
    "404": _problem("No such resource."),
    "405": _problem("Method not allowed on this path."),
    "413": _problem("Request body larger than the limit (64 KiB by default)."),
    "415": _problem("Body is not application/json."),
    "422": _problem("A field breaks the documented rules."),
    "500": _problem("Unexpected failure; the detail quotes a request id."),
    "503": _problem("No index has been built yet."),
}

SCHEMAS: dict[str, dict] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {"type": _STR, "title": _STR, "status": {"type": "integer"}, "detail": _STR,
                       "request_id": _STR},
    },
    "AskRequest": {
        "type": "object",
        "required": ["question"],
        "additionalProperties": False,
        "properties": {
            "question": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": r"\S",
                         "description": "A question in plain language."},
            "limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5,
                      "description": "Most findings to return."},
            "history": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 1000},
                        "description": "The conversation's earlier questions, oldest first."},
            "reports": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "string", "maxLength": 100},
                        "description": "Only search these report ids."},
        },
    },
    "Citation": {
        "type": "object",
        "required": ["report", "report_id", "section", "paragraph", "passage_id", "url", "source_url"],
        "properties": {
            "report": {"type": "string", "description": "Report title."},
            "report_id": _STR,
            "section": {"type": "string", "description": "Heading path, joined with ' › '."},
            "paragraph": {"type": "integer", "description": "Ordinal of the passage in its report."},
            "passage_id": _STR,
            "url": {"type": "string", "description": "/reports/<report_id>#<anchor>"},
            "source_url": _NULLABLE_STR,
        },
    },
    "Finding": {
        "type": "object",
        "required": ["text", "passage", "score", "citation"],
        "properties": {
            "text": {"type": "string", "description": "The clause or sentence that answers, verbatim."},
            "passage": {"type": "string", "description": "The whole passage, verbatim."},
            "score": {"type": "number"},
            "citation": _ref("Citation"),
        },
    },
    "Answer": {
        "type": "object",
        "required": ["question", "answer", "found", "findings", "index_version", "took_ms", "suggestions",
                     "expanded_terms", "did_you_mean"],
        "properties": {
            "question": _STR,
            "answer": {"type": "string", "description": "Findings strung together with markers [1], [2]."},
            "found": {"type": "boolean", "description": "False when the reports do not answer the question."},
            "findings": {"type": "array", "items": _ref("Finding")},
            "index_version": _STR,
            "took_ms": {"type": "number"},
            "expanded_terms": {"type": "array", "items": _STR,
                               "description": "Synonyms from the thesaurus that were searched too."},
            "did_you_mean": {"type": ["string", "null"],
                             "description": "The question with misspellings corrected, when that was used."},
            "suggestions": {"type": "array", "items": _STR,
                            "description": "When nothing answers: topics the reports do cover, nearest first."},
        },
    },
    "ReportSummary": {
        "type": "object",
        "required": ["id", "title", "publisher", "published", "passage_count"],
        "properties": {
            "id": _STR, "title": _STR, "short_title": _NULLABLE_STR, "publisher": _STR,
            "publisher_short": _NULLABLE_STR, "published": {"type": ["string", "null"], "format": "date"},
            "source_url": _NULLABLE_STR, "source_note": _NULLABLE_STR,
            "subjects": {"type": "array", "items": _STR}, "summary": _NULLABLE_STR, "sha256": _STR,
            "example_questions": {"type": "array", "items": _STR},
            "passage_count": {"type": "integer"},
        },
    },
    "ReportList": {
        "type": "object",
        "required": ["index_version", "reports"],
        "properties": {"index_version": _STR, "reports": {"type": "array", "items": _ref("ReportSummary")}},
    },
    "Passage": {
        "type": "object",
        "required": ["id", "anchor", "ordinal", "kind", "section", "text", "url"],
        "properties": {
            "id": _STR, "anchor": _STR, "ordinal": {"type": "integer"},
            "kind": {"type": "string", "enum": ["fact", "paragraph", "list_item", "table_row", "quote"]},
            "section": _STR, "text": _STR, "url": _STR,
        },
    },
    "Report": {
        "allOf": [_ref("ReportSummary"), {
            "type": "object",
            "required": ["index_version", "passages"],
            "properties": {"index_version": _STR, "passages": {"type": "array", "items": _ref("Passage")}},
        }],
    },
    "BuildSummary": {
        "type": "object",
        "required": ["version", "reports", "passages", "seconds", "analysed", "reused", "removed", "summary"],
        "properties": {"version": _STR, "reports": {"type": "integer"}, "passages": {"type": "integer"},
                       "seconds": {"type": "number"}, "analysed": {"type": "integer"},
                       "reused": {"type": "integer"}, "removed": {"type": "integer"}, "summary": _STR},
    },
    "Health": {
        "type": "object",
        "required": ["status", "index_version", "built_at", "reports", "passages"],
        "properties": {"status": {"const": "ok"}, "index_version": _STR, "built_at": _STR,
                       "reports": {"type": "integer"}, "passages": {"type": "integer"}},
    },
}


def _errors(*codes: str) -> dict:
    return {code: ERRORS[code] for code in codes}


@cache
def openapi_document() -> dict:
    """Return the OpenAPI 3.1 document describing every endpoint, body and error."""
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
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
