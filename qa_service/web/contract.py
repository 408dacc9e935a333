"""The API contract, defined once: request models, response shapes, and their JSON Schemas.

Validation of /api/ask, the schemas in /api/openapi.json and the CLI's option ranges all come
from here, with the limits taken from the settings when the app (or the CLI) starts.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)

from qa_service.answering.answer import Answer
from qa_service.config import Limits
from qa_service.search.format import PassageRecord, ReportMeta
from qa_service.store.records import FeedbackRecord, QuestionGroup

MAX_REPORT_FILTER = 100   # report ids one question may be limited to
REPORT_ID_CHARS = 100
DEFAULT_LIMIT = 5
COMMENT_CHARS = 2000      # longest feedback comment
ADMIN_LIST_DEFAULT, ADMIN_LIST_MAX = 100, 1000
REQUESTS = ("AskRequest", "FeedbackRequest")  # request bodies: only their required fields are required
PASSAGE_ID_CHARS = 40


@dataclass(frozen=True)
class Issue:
    """One rule a request broke: the field (dotted path) and the rule's name."""

    field: str
    rule: str
    message: str


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem body; `errors` lists each broken rule of a 422."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[Issue] | None = None


@dataclass(frozen=True, kw_only=True)
class PassageLink(PassageRecord):
    """A passage as /api/reports/<id> returns it, with the link that opens it highlighted."""

    anchor: str
    url: str


@dataclass(frozen=True, kw_only=True)
class ReportPage(ReportMeta):
    """One report's metadata with every passage."""

    index_version: str
    passages: list[PassageLink]


@dataclass(frozen=True)
class ReportList:
    """Every report's metadata."""

    index_version: str
    reports: list[ReportMeta]


@dataclass(frozen=True)
class Health:
    """Whether an index is loaded, which version, and how big."""

    status: str
    index_version: str
    built_at: str
    reports: int
    passages: int
    database: str = "ok"


@dataclass(frozen=True)
class BuildResult:
    """What an admin rebuild did."""

    version: str
    reports: int
    passages: int
    seconds: float
    analysed: int
    reused: int
    removed: int
    summary: str


@dataclass(frozen=True)
class JobProgress:
    """How far a reindex job has got."""

    phase: Literal["queued", "planning", "analysing", "writing", "done"]
    reports_done: int
    reports_total: int | None


@dataclass(frozen=True)
class JobError:
    """Why a reindex job failed: the status and problem a synchronous request would have had."""

    status: int
    title: str
    detail: str


@dataclass(frozen=True)
class JobAccepted:
    """A reindex job just queued: where to follow it."""

    job: str
    url: str
    state: Literal["queued"]


@dataclass(frozen=True)
class Job:
    """A reindex job: its state, progress so far, and the build summary or the error."""

    job: str
    url: str
    state: Literal["queued", "running", "done", "failed"]
    full: bool
    created_at: str
    started_at: str | None
    finished_at: str | None
    progress: JobProgress
    summary: BuildResult | None
    error: JobError | None


def build_result(summary: Any) -> dict[str, Any]:
    """Return a builder's BuildSummary as the BuildSummary schema's JSON values."""
    return dump(BuildResult(summary.version, summary.reports, summary.passages, round(summary.seconds, 3),
                            summary.analysed, summary.reused, summary.removed, summary.line()))


def job_status(job: dict[str, Any]) -> Job:
    """Return a job file's contents as the Job response (unknown keys, such as the pid, left out)."""
    keep = {f.name for f in dataclasses.fields(Job)}
    return TypeAdapter(Job).validate_python({k: v for k, v in job.items() if k in keep})


# Field notes for the OpenAPI document; the fields themselves are the dataclasses above and in
# answering/answer.py and search/format.py.
DESCRIPTIONS = {
    ("Answer", "answer"): "The strongest findings strung together with markers [1], [2].",
    ("Answer", "found"): "False when the reports do not answer the question.",
    ("Answer", "expanded_terms"): "Synonyms from the thesaurus that were searched too.",
    ("Answer", "did_you_mean"): "The question with misspellings corrected, when that was used.",
    ("Answer", "suggestions"): "When nothing answers: topics the reports do cover, nearest first.",
    ("Answer", "took_ms"): "Milliseconds spent answering.",
    ("Finding", "text"): "The clause or sentence that answers, verbatim.",
    ("Finding", "passage"): "The whole passage, verbatim.",
    ("Citation", "report"): "Report title.",
    ("Citation", "section"): "Heading path, joined with ' › '.",
    ("Citation", "paragraph"): "Ordinal of the passage in its report.",
    ("Citation", "url"): "/reports/<report_id>#<anchor>: the passage highlighted in its report.",
    ("Problem", "errors"): "For 422: each field that broke a rule, and the rule.",
    ("Answer", "answer_id"): "Opaque id of this answer, for POST /api/feedback.",
    ("Health", "database"): "'ok', or 'unavailable' when the question log and feedback database cannot be "
                            "reached (answering goes on without it).",
    ("FeedbackCreated", "id"): "The stored feedback record's id.",
    ("QuestionGroup", "question"): "The question as most recently asked (null when questions are not logged).",
    ("QuestionGroup", "count"): "Times asked (case and spacing ignored).",
    ("QuestionGroup", "last_asked"): "When it was last asked (UTC, ISO 8601).",
    ("QuestionGroup", "found"): "Whether the reports answered it, the last time it was asked.",
    ("FeedbackRecord", "question"): "The question answered (null when questions are not logged).",
    ("FeedbackRecord", "created"): "When the feedback was given (UTC, ISO 8601).",
    ("FeedbackRecord", "passage_ids"): "The passage ids of the answer's findings, in order.",
    ("Issue", "field"): "Dotted path of the field, e.g. 'limit' or 'history.3'.",
    ("Issue", "rule"): "The rule's name, e.g. 'less_than_equal', 'int_type', 'extra_forbidden'.",
}


def _json_integer(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer, so the API does too; "5", true and 2.5 stay refused.
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**53 else value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


class _Strict(BaseModel):
    # Strict: "5" is not an integer and "yes" is not a boolean; unknown fields are refused.
    model_config = ConfigDict(strict=True, extra="forbid")


# At least one character that is not whitespace to any of the three regex dialects that read this
# pattern (the schema's ECMAScript, the validator's Rust, Python's str.strip() behind it): "\s"
# alone differs between them on the separators \x1c-\x1f and on NEL (\x85).
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"


@cache
def ask_request_model(limits: Limits) -> type[BaseModel]:
    """Return the /api/ask request model for these limits (built once per set of limits)."""
    question = Annotated[str, StringConstraints(min_length=1, max_length=limits.question_chars, pattern=NOT_BLANK)]
    earlier = Annotated[str, StringConstraints(max_length=limits.question_chars)]
    report_id = Annotated[str, StringConstraints(min_length=1, max_length=REPORT_ID_CHARS)]
    passage = Annotated[str, StringConstraints(min_length=1, max_length=PASSAGE_ID_CHARS)]
    turn = create_model(
        "HistoryTurn", __base__=_Strict,
        __doc__="An earlier question with the passage ids its answer showed, so follow-ups move on.",
        question=(earlier, Field(description="The earlier question.")),
        shown=(list[passage], Field(default_factory=list, max_length=limits.findings,
                                    description="Passage ids of the findings shown for it.")),
    )
    return create_model(
        "AskRequest", __base__=_Strict, __doc__="A question, and optionally the conversation so far.",
        question=(question, Field(description="A question in plain language.")),
        limit=(JsonInt, Field(DEFAULT_LIMIT, ge=1, le=limits.findings, description="Most findings to return.")),
        history=(list[earlier | turn], Field(  # type: ignore[valid-type]  # built at run time
            default_factory=list, max_length=limits.history,
            description="The conversation's earlier questions, oldest first: plain strings, or objects "
                        "that also name the passages already shown (\"Tell me more\" then moves on).")),
        reports=(list[report_id] | None, Field(None, min_length=1, max_length=MAX_REPORT_FILTER,
                                               description="Only search these report ids.")),
    )


class FeedbackRequest(_Strict):
    """A rating of one answer: helpful or not, and optionally why."""

    answer_id: str = Field(description="The answer_id of an /api/ask answer.")
    helpful: bool = Field(description="True for helpful, false for not helpful.")
    comment: Annotated[str, StringConstraints(max_length=COMMENT_CHARS)] | None = Field(
        None, description=f"Optional, at most {COMMENT_CHARS:,} characters.")


class AdminListQuery(BaseModel):
    """Query parameters of the admin lists (query strings are text, so "50" and "false" are read)."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(ADMIN_LIST_DEFAULT, ge=1, le=ADMIN_LIST_MAX)
    found: bool | None = None


@dataclass(frozen=True)
class FeedbackCreated:
    """Feedback stored."""

    id: int
    answer_id: str


@dataclass(frozen=True)
class QuestionList:
    """Logged questions, identical ones grouped, most asked first."""

    questions: list[QuestionGroup]


@dataclass(frozen=True)
class FeedbackList:
    """Feedback on answers, newest first."""

    feedback: list[FeedbackRecord]


def issues(exc: ValidationError) -> list[Issue]:
    """Return a validation error as the fields and rules it names (never echoing the input)."""
    return [Issue(".".join(str(part) for part in err["loc"]) or "(body)", err["type"], err["msg"])
            for err in exc.errors(include_input=False, include_url=False)]


@cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    # Building an adapter compiles the shape's schema (about 15 ms); do it once per shape.
    return TypeAdapter(shape)


def dump(value: Any) -> Any:
    """Return a response dataclass as JSON-ready values, exactly as its schema describes."""
    shape: Any = type(value)  # a class is hashable; typeshed's type[Any] does not say so
    return _adapter(shape).dump_python(value, mode="json")


def _schemas(limits: Limits) -> dict[str, Any]:
    """Return every request and response schema, keyed by name, with refs into components."""
    shapes: list[tuple[str, Any]] = [
        ("AskRequest", ask_request_model(limits)), ("Answer", Answer), ("ReportList", ReportList),
        ("Report", ReportPage), ("Health", Health), ("BuildSummary", BuildResult), ("Problem", Problem),
        ("FeedbackRequest", FeedbackRequest), ("FeedbackCreated", FeedbackCreated),
        ("QuestionList", QuestionList), ("FeedbackList", FeedbackList),
        ("JobAccepted", JobAccepted), ("Job", Job),
    ]
    mode: Literal["validation"] = "validation"
    inputs = [(name, mode, TypeAdapter(shape)) for name, shape in shapes]
    top, definitions = TypeAdapter.json_schemas(inputs, ref_template="#/components/schemas/{model}")
    schemas = dict(definitions.get("$defs", {}))
    for (name, _mode), schema in top.items():
        if "$ref" in schema:
            target = schema["$ref"].rsplit("/", 1)[1]
            if target != name:
                schemas[name] = schemas.pop(target)
        else:
            schemas[name] = schema
    for name, schema in schemas.items():
        for field, prop in schema.get("properties", {}).items():
            prop.pop("title", None)
            if (name, field) in DESCRIPTIONS:
                prop["description"] = DESCRIPTIONS[name, field]
        if name not in REQUESTS and "properties" in schema:
            # Responses always carry every field (null where there is no value).
            schema["required"] = list(schema["properties"])
    # The dataclass named ReportPage is documented as Report; point its references there too.
    return json.loads(json.dumps(schemas).replace("#/components/schemas/ReportPage\"",
                                                  "#/components/schemas/Report\"")
                      # BuildResult is documented as BuildSummary (Job.summary refers to it).
                      .replace("#/components/schemas/BuildResult\"", "#/components/schemas/BuildSummary\""))


@cache
def component_schemas(limits: Limits) -> dict[str, Any]:
    """Return the OpenAPI component schemas for these limits (computed once)."""
    return _schemas(limits)


def field_names(shape: type) -> list[str]:
    """Return a response dataclass's field names (for tests and docs)."""
    return [f.name for f in dataclasses.fields(shape)]
