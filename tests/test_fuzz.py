"""Generated request bodies: whatever is sent, the API answers 2xx or a well-formed 4xx problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_service import create_app
from tests.conftest import schema_validator

JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50)
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=10), inner, max_size=4), max_leaves=12)
# Bodies shaped like real asks, with each field drawn from plausible and implausible values.
ASK_BODY = st.fixed_dictionaries({}, optional={
    "question": st.text(max_size=1200) | JSON_VALUE,
    "limit": st.integers(-5, 30) | JSON_VALUE,
    "history": st.lists(st.text(max_size=60), max_size=12) | JSON_VALUE,
    "reports": st.lists(st.sampled_from(["ages-of-concern", "ages-of-concern-related", "nope"]), max_size=3) | JSON_VALUE,
}) | JSON_VALUE
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, bundled_index: Path):
    return create_app({"INDEX_DIR": str(bundled_index)}).test_client()


def check(response) -> None:
    assert response.status_code < 500, response.data
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        schema_validator("Problem").validate(response.get_json(force=True))
    elif response.status_code < 300:
        assert response.mimetype == "application/json"
    else:  # Werkzeug normalises "/api/reports/" and doubled slashes with a redirect
        assert response.status_code == 308 and "/api/reports" in response.headers["Location"]


@FUZZ
@given(body=ASK_BODY)
def test_fuzz_ask_json_bodies(client, body) -> None:
    response = client.post("/api/ask", data=json.dumps(body), content_type="application/json")
    check(response)
    if response.status_code == 200:
        schema_validator("Answer").validate(response.get_json())


@FUZZ
@given(raw=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=latin-1"]))
def test_fuzz_ask_raw_bytes(client, raw: bytes, content_type: str) -> None:
    check(client.post("/api/ask", data=raw, content_type=content_type))


@FUZZ
@given(report_id=st.text(max_size=40), method=st.sampled_from(["get", "post", "put", "delete", "patch"]))
def test_fuzz_report_paths_and_methods(client, report_id: str, method: str) -> None:
    from urllib.parse import quote

    check(getattr(client, method)("/api/reports/" + quote(report_id, safe="")))


@FUZZ
@given(path=st.sampled_from(["/api/health", "/api/reports", "/api/openapi.json", "/api/ask"]),
       method=st.sampled_from(["get", "post", "put", "delete", "patch", "head", "options"]),
       body=JSON_VALUE)
def test_fuzz_other_endpoints(client, path: str, method: str, body) -> None:
    response = getattr(client, method)(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code < 500
