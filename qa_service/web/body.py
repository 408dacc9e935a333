"""Reading a JSON request body totally: every malformed input becomes a 4xx problem, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import request
from pydantic import BaseModel, ValidationError

from qa_service.config import Limits
from qa_service.web.contract import FeedbackRequest, ask_request_model, issues
from qa_service.web.errors import APIError, InvalidField

MODELS: dict[str, Callable[[Limits], type[BaseModel]]] = {
    "AskRequest": ask_request_model, "FeedbackRequest": lambda _limits: FeedbackRequest}


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON allows repeated keys and json.loads keeps the last; which one a client meant is a guess.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _surrogate_path(value: Any, path: str = "") -> str | None:
    """Return the dotted path of the first string holding an unpaired surrogate, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "(body)"
        return None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _surrogate_path(key) is not None:
                return f"{path}.(key)" if path else "(key)"
            items.append((key, item))
    elif isinstance(value, list):
        items = [(str(i), item) for i, item in enumerate(value)]
    for key, item in items:
        found = _surrogate_path(item, f"{path}.{key}" if path else key)
        if found is not None:
            return found
    return None


def raw_json(limits: Limits) -> Any:
    """Return the request's JSON body, refusing anything but a bounded, well-formed UTF-8 object."""
    if request.mimetype != "application/json":
        raise APIError(f"send the body as application/json, not {request.mimetype or 'nothing'}",
                       415, "Unsupported media type", "unsupported-media-type")
    charset = request.mimetype_params.get("charset", "utf-8").lower().replace("_", "-")
    if charset not in ("utf-8", "utf8"):
        raise APIError("send the body as UTF-8 (charset=utf-8)", 415, "Unsupported media type",
                       "unsupported-media-type")
    # Read one byte past the limit ourselves: a chunked body has no Content-Length to check.
    raw = request.stream.read(limits.body_bytes + 1)
    if len(raw) > limits.body_bytes:
        raise APIError(f"The request body is larger than {limits.body_bytes} bytes.", 413,
                       "Request entity too large", "request-entity-too-large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise APIError("the body is not valid UTF-8", 400, "Malformed JSON", "malformed-json") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey:
        raise InvalidField("a key appears twice in one object",
                           errors=[{"field": "(key)", "rule": "duplicate_key",
                                    "message": "each key may appear once per object"}]) from None
    except RecursionError:
        raise APIError("the body is nested too deeply", 400, "Malformed JSON", "malformed-json") from None
    except ValueError as exc:
        message = getattr(exc, "msg", "not JSON")
        raise APIError(f"the body is not valid JSON: {message}", 400, "Malformed JSON", "malformed-json") from None
    where = _surrogate_path(value)
    if where is not None:
        raise InvalidField("text holds an unpaired surrogate (not a character)",
                           errors=[{"field": where, "rule": "unpaired_surrogate",
                                    "message": "text must be valid Unicode"}])
    return value


def json_body(limits: Limits, model: str) -> Any:
    """Return the request body validated against a contract model; a broken rule is a 422."""
    value = raw_json(limits)
    schema: type[BaseModel] = MODELS[model](limits)
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        found = issues(exc)
        first = found[0]
        raise InvalidField(f"{first.field}: {first.message}",
                           errors=[{"field": i.field, "rule": i.rule, "message": i.message} for i in found]) from None
