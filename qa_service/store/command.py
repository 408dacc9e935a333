"""`qa-service feedback export`: rated answers → a gold set that `qa-service eval` scores."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from qa_service.store.store import StoreUnavailable


@click.group("feedback")
def feedback_group() -> None:
    """Use the feedback people gave on answers."""


@feedback_group.command("export")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only feedback given on or after this date (YYYY-MM-DD, UTC).")
def feedback_export(out: Path, since: datetime | None) -> None:
    """Write rated answers to OUT as a gold set for `qa-service eval` (unhelpful ones as # lines)."""
    from qa_service import create_app  # the app's own database, created or migrated as the service does

    store = create_app().extensions["qa"].store
    try:
        lines = store.gold_lines(since)
    except StoreUnavailable as exc:
        raise click.ClickException(f"{exc} ({store.where})") from None
    gold = sum(1 for line in lines if not line.startswith("#"))
    review = len(lines) - gold
    since_text = f" since {since.date().isoformat()}" if since else ""
    head = (f"# qa-service feedback export{since_text}: {gold} gold questions, {review} lines to review "
            "(lines starting with # are skipped by qa-service eval)")
    text = "\n".join([head, *lines]) + "\n"
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"Wrote {gold} gold questions and {review} lines for review to {out}")
