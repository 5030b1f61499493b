"""``kb import`` and ``kb export``: thin wrappers over the import pipeline and the exporter."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from kb.cli.common import fail
from kb.errors import DomainError
from kb.importers import FORMATS, STATUSES, FileProblem, detect_format, import_file
from kb.importers.mapping import DEFAULT as DEFAULT_MAP, FieldMap, MapProblem
from kb.importers.export import EXPORT_FORMATS, export, published_stories
from kb.policy import SYSTEM
from kb.services import users

REPORT_LINES = 50


def _print_report(report, report_path: str | None) -> None:
    problems = report.problems
    for row in problems[:REPORT_LINES]:
        details = "; ".join(filter(None, [row.reason, *row.warnings]))
        title = f" (“{row.title[:60]}”)" if row.title else ""
        click.echo(f"  {row.where}{title}: {row.outcome}: {details}")
    if len(problems) > REPORT_LINES:
        click.echo(f"  ... and {len(problems) - REPORT_LINES} more (see the full report with --report FILE)")
    for warning in report.file_warnings:
        click.echo(f"Warning: {warning}")
    if report_path:
        Path(report_path).write_text(report.to_csv(), encoding="utf-8")
        click.echo(f"Report written to {report_path}.")
    rate = ""
    if report.seconds:
        rate = f" in {report.seconds:.1f} s ({len(report.rows) / report.seconds:.0f} records/s)"
    click.echo(f"{report.summary()}{rate}.")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
              help="The file's format (default: from its name and contents).")
@click.option("--status", type=click.Choice(list(STATUSES)), default="submitted", show_default=True,
              help="What the new stories become: drafts, awaiting review, or published.")
@click.option("--as", "as_email", default=None, metavar="EMAIL",
              help="Import as this user (their stories, their permissions); default: the system.")
@click.option("--dry-run", is_flag=True, help="Check every record and report, but save nothing.")
@click.option("--private", "include_private", is_flag=True, help="Include bookmarks marked private.")
@click.option("--report", "report_path", default=None, metavar="FILE", help="Write the full report as CSV.")
@click.option("--map", "map_path", default=None, metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="A JSON field mapping (tag prefixes and words that are other fields) to use over the "
                   "defaults; see docs/import-formats.md.")
@with_appcontext
def import_command(file: Path, fmt, status, as_email, dry_run, include_private, report_path, map_path):
    """Import stories from FILE: kb JSON Lines, CSV, bookmark HTML or Pinboard JSON.

    Records already in kb (same source id, or same source URL) are skipped, so
    running an import twice adds nothing. Bad records are reported with their
    line and never stop the good ones.
    """
    from tqdm import tqdm

    actor = SYSTEM
    if as_email:
        actor = users.get_user_by_email(as_email)
        if actor is None:
            fail(f"There is no account with the email address {as_email}.")
    field_map = DEFAULT_MAP
    if map_path:
        try:
            field_map = FieldMap.from_file(Path(map_path).read_bytes())
        except MapProblem as exc:
            fail(f"{map_path}: {exc}")
    data = file.read_bytes()
    started = time.perf_counter()
    bar = tqdm(unit="record", desc="Importing", disable=None, file=sys.stderr)
    try:
        report = import_file(
            actor, data, fmt or detect_format(file.name, data), status=status, dry_run=dry_run,
            include_private=include_private, app=current_app, progress=bar.update,
            on_rows=lambda n: setattr(bar, "total", n) or bar.refresh(), field_map=field_map,
        )
    except FileProblem as exc:
        fail(str(exc))
    except DomainError as exc:
        fail(exc.message)
    finally:
        bar.close()
    report.seconds = time.perf_counter() - started
    _print_report(report, report_path)


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_FORMATS)), default="jsonl", show_default=True)
@click.option("--query", "q", default="", help="Export only the stories this search finds.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="Write to this file (default: standard output).")
@with_appcontext
def export_command(fmt: str, q: str, output):
    """Export published stories as kb JSON Lines or CSV (the formats kb import reads)."""
    counted = []

    def stories():
        for story in published_stories(q):
            counted.append(story.id)
            yield story

    for piece in export(fmt, stories()):
        output.write(piece)
    click.echo(f"Exported {len(counted)} stories.", err=True)
