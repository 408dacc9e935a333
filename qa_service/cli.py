"""The `qa-service` command: thin click wrappers around the build, ask and serve functions."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import click
from pydantic import ValidationError
from tqdm import tqdm

from qa_service.answering import thesaurus
from qa_service.answering.answer import Answer, QuestionError, page_text
from qa_service.config import setting_default
from qa_service.ingest.content import ContentError
from qa_service.search.format import IndexProblem, current_version
from qa_service.services import Services, services_from_env
from qa_service.web.contract import DEFAULT_LIMIT, ask_request_model, issues

# The index builder is imported inside the commands that build: `qa-service serve` forks its
# workers from this process, and a serving worker must never hold index-writing code.

content_option = click.option(
    "--content", "content_dir", type=click.Path(path_type=Path), envvar="QA_CONTENT_DIR",
    default=lambda: setting_default("CONTENT_DIR"), show_default="content/ or $QA_CONTENT_DIR",
    help="Folder of report Markdown files.")
index_option = click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), envvar="QA_INDEX_DIR",
    default=lambda: setting_default("INDEX_DIR"), show_default="index/ or $QA_INDEX_DIR",
    help="Folder holding the built index.")


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
@click.version_option(package_name="qa_service")
def main() -> None:
    """Ask questions of published reports and get cited findings."""


@main.group("index")
def index_group() -> None:
    """Build and inspect the search index."""


def _progress(items: Iterable) -> Iterable:
    # delay: small builds finish before a bar would appear, so they print only the summary.
    return tqdm(items, desc="Indexing", unit="report", delay=1.0, file=sys.stderr, leave=False)


@index_group.command("build")
@content_option
@index_option
@click.option("--full", is_flag=True, help="Re-analyse every report, not only the changed ones.")
@click.option("--job", "job_id", default=None, hidden=True,
              help="Run as the admin reindex job with this id (started by the service).")
def index_build(content_dir: Path, index_dir: Path, full: bool, job_id: str | None) -> None:
    """Build a new index version from the content folder and switch to it."""
    from qa_service.search.builder import build_index

    if job_id is not None:
        _run_job(content_dir, index_dir, full, job_id)
        return
    try:
        summary = build_index(content_dir, index_dir, progress=_progress, full=full)
    except (ContentError, IndexProblem) as exc:
        raise _fail(exc) from None
    click.echo(summary.line())


def _run_job(content_dir: Path, index_dir: Path, full: bool, job_id: str) -> None:
    """Run an admin reindex job: the build, with its progress and outcome in the job file."""
    from qa_service.search.builder import build_index
    from qa_service.search.jobs import JobRunner
    from qa_service.web.contract import build_result
    from qa_service.web.errors import job_error

    try:
        runner = JobRunner(index_dir, job_id)
    except IndexProblem as exc:
        raise _fail(exc) from None

    def build(progress: Callable[[Iterable], Iterable]) -> dict:
        return build_result(build_index(content_dir, index_dir, progress=progress, full=full))

    if not runner.run(build, lambda exc: job_error(exc, content_dir)):
        raise _fail(RuntimeError(f"job {job_id} failed: {runner.job['error']['detail']}"))
    click.echo(runner.job["summary"]["summary"])


@index_group.command("status")
@content_option
@index_option
def index_status_command(content_dir: Path, index_dir: Path) -> None:
    """Show the live version, its counts, and content changed since it was built."""
    from qa_service.search.status import index_status

    try:
        status = index_status(content_dir, index_dir)
    except (ContentError, IndexProblem) as exc:
        raise _fail(exc) from None
    click.echo("\n".join(status.lines()))


@index_group.command("rollback")
@index_option
def index_rollback(index_dir: Path) -> None:
    """Make the previous version live again (running servers follow within one request)."""
    from qa_service.search.versions import rollback

    try:
        was, now = rollback(index_dir)
    except IndexProblem as exc:
        raise _fail(exc) from None
    click.echo(f"Rolled back from {was} to {now}")


def format_answer(answer: Answer) -> str:
    """Return an answer as readable text for the terminal."""
    lines = [f"Did you mean: {answer.did_you_mean}"] if answer.did_you_mean else []
    if answer.expanded_terms:
        lines.append("Also searched for: " + ", ".join(answer.expanded_terms))
    if not answer.found:
        topics = f"\nTopics these reports do cover: {'; '.join(answer.suggestions)}" if answer.suggestions else ""
        return "\n".join(lines + [answer.answer]) + topics
    lines += [answer.answer, ""]
    for n, f in enumerate(answer.findings, start=1):
        c = f.citation
        number = c.section_paragraph or c.paragraph
        where = f"{c.report} — {c.section}, paragraph {number}" if c.section else f"{c.report}, paragraph {number}"
        page = page_text(c)
        lines += [f"[{n}] {f.text}", f"    {where}" + (f", {page}" if page else ""), f"    {c.url}"]
        if c.original_url:
            lines.append(f"    original: {c.original_url}")
    return "\n".join(lines)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes [default: one per core].")
@click.option("--timeout", type=click.IntRange(5, 3600), default=30, show_default=True,
              help="Seconds a request may take before its worker is restarted (reindex jobs run apart).")
@click.option("--read-timeout", type=click.IntRange(1, 300), default=lambda: int(setting_default("READ_TIMEOUT")),
              show_default="5 or $QA_READ_TIMEOUT", help="Seconds a client has for its headers, and again for its body.")
@click.option("--max-requests", type=click.IntRange(0, None), default=lambda: int(setting_default("MAX_REQUESTS")),
              show_default="10000 or $QA_MAX_REQUESTS", help="Requests before a worker is replaced (±10%); 0 = never.")
@content_option
@index_option
def serve_command(host: str, port: int, workers: int | None, timeout: int, read_timeout: int, max_requests: int,
                  content_dir: Path, index_dir: Path) -> None:
    """Serve the chat page and the JSON API with gunicorn."""
    from qa_service.server import default_workers, serve

    if current_version(index_dir) is None:
        click.echo(f"Warning: no index in {index_dir} yet; answers fail until `qa-service index build` runs.",
                   err=True)
    serve(host, port, workers or default_workers(),
          {"INDEX_DIR": str(index_dir), "CONTENT_DIR": str(content_dir)}, timeout=timeout,
          read_timeout=read_timeout, max_requests=max_requests)


@main.command("eval")
@click.argument("questions", type=click.Path(path_type=Path, dir_okay=False))
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def eval_command(questions: Path, index_dir: Path, as_json: bool) -> None:
    """Score the service on a JSON Lines gold set (see README: "Check it on your own questions")."""
    from qa_service.answering.evaluate import GoldError, evaluate, format_metrics, read_gold

    try:
        gold = read_gold(questions)
        services = _services(index_dir)
        metrics = evaluate(services.ask, gold, limit=services.limits.findings).metrics()
    except (GoldError, IndexProblem) as exc:
        raise _fail(exc) from None
    click.echo(json.dumps(metrics) if as_json else format_metrics(metrics))


def _services(index_dir: Path) -> Services:
    """Return the app's wired parts for the environment, as the server would build them."""
    try:
        return services_from_env(INDEX_DIR=str(index_dir))
    except (thesaurus.ThesaurusError, ValueError) as exc:
        raise _fail(exc) from None


@main.command("ask")
@click.argument("question")
@index_option
@click.option("--limit", type=int, default=DEFAULT_LIMIT, show_default=True,
              help="Most findings to show (1 to QA_MAX_LIMIT, as the API allows).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer object as JSON.")
def ask_command(question: str, index_dir: Path, limit: int, as_json: bool) -> None:
    """Ask QUESTION and print the cited findings."""
    services = _services(index_dir)
    # The API's own request model checks the question and limit, with the same settings.
    try:
        ask_request_model(services.limits).model_validate({"question": question, "limit": limit})
    except ValidationError as exc:
        for issue in issues(exc):
            if issue.field == "limit":  # a wrong option is misuse (exit 2)
                raise click.BadParameter(issue.message, param_hint="'--limit'") from None
            if question.strip():  # an empty question is reported by ask() itself, below
                raise click.ClickException(f"{issue.field}: {issue.message}") from None
    try:
        answer = services.ask(question, limit=limit)
    except (QuestionError, IndexProblem) as exc:
        raise _fail(exc) from None
    click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if as_json else format_answer(answer))


from qa_service.ingest.command import import_command  # noqa: E402 - the ingest layer's own command

main.add_command(import_command)

from qa_service.store.command import feedback_group  # noqa: E402 - the store's own command

main.add_command(feedback_group)
