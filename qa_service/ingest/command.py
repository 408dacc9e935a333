"""The `qa-service import` command: a thin click wrapper around `importer.import_paths`."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from pathlib import Path

import click
from tqdm import tqdm

from qa_service.config import setting_default


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--content", "content_dir", type=click.Path(file_okay=False, path_type=Path), envvar="QA_CONTENT_DIR",
              default=lambda: setting_default("CONTENT_DIR"), show_default="content/ or $QA_CONTENT_DIR",
              help="Folder the report Markdown files are written to.")
@click.option("--id", "report_id", help="Report id (one file only) [default: the file name as a slug].")
@click.option("--title", help="Title, instead of the document's own.")
@click.option("--publisher", help="Publisher, instead of the document's author or publisher.")
@click.option("--published", callback=_date, help="Publication date, YYYY-MM-DD.")
@click.option("--source-url", help="Where the document was published.")
@click.option("--force", is_flag=True, help="Import again even when the file is unchanged.")
def import_command(paths: tuple[Path, ...], content_dir: Path, report_id: str | None, title: str | None,
                   publisher: str | None, published: dt.date | None, source_url: str | None,
                   force: bool) -> None:
    """Import PDF, Word, HTML, Markdown or text files (or folders of them) as reports."""
    # Imported here, not at the top: `qa-service serve` loads this module, and the PDF and HTML
    # libraries (and the ssl they pull in) have no place in a serving worker.
    from qa_service.ingest.importer import Options, Outcome, import_paths, summary

    if report_id and (len(paths) > 1 or paths[0].is_dir()):
        raise click.UsageError("--id names one report: give one file with it")
    opts = Options(content_dir, report_id, title, publisher, published, source_url, force)

    def progress(files: list[Path]) -> Iterable[Path]:
        # delay: a short batch finishes before a bar would appear and prints only its lines.
        return tqdm(files, desc="Importing", unit="file", delay=1.0, file=sys.stderr, leave=False)

    def report(outcome: Outcome) -> None:
        tqdm.write(outcome.line(), file=sys.stdout)

    outcomes = import_paths(paths, opts, progress, report)
    click.echo(summary(outcomes))
    if any(o.status == "failed" for o in outcomes):
        sys.exit(1)
