"""``kb index``: keep the search index in step with the database."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from kb import search
from kb.cli.common import fail
from kb.extensions import db
from kb.models import Story


@click.group("index")
def index_group():
    """Keep the search index in step with the database."""


@index_group.command("sync")
@with_appcontext
def index_sync():
    """Apply the changes the index has not seen yet."""
    try:
        applied = search.sync(current_app)
    except search.IndexBusy as exc:
        fail(str(exc))
    click.echo(f"Applied {applied} change(s) to the search index.")


@index_group.command("rebuild")
@click.option("--procs", type=int, default=None, help="Indexing processes (default: by corpus size).")
@with_appcontext
def index_rebuild(procs: int | None):
    """Rebuild the index from the database into a new folder, swapped in when complete."""
    from tqdm import tqdm

    total = db.session.scalar(select(func.count()).select_from(Story)) or 0
    with tqdm(total=total, unit="story", desc="Indexing", disable=None) as bar:
        try:
            count = search.rebuild(current_app, progress=bar.update, procs=procs)
        except search.IndexBusy as exc:
            fail(str(exc))
    applied = search.sync_quietly(current_app)
    click.echo(f"Rebuilt the search index: {count} stories; then applied {applied} later change(s).")


@index_group.command("verify")
@with_appcontext
def index_verify():
    """List every difference between the index and the database; exit 1 if there
    is any, 2 if the index cannot be read."""
    try:
        drift = search.verify(current_app)
    except Exception as exc:  # a damaged index raises anything from deep inside Whoosh
        click.echo(f"The search index cannot be read ({type(exc).__name__}: {exc}). "
                   "Run `kb index rebuild` to build it again from the database.", err=True)
        sys.exit(2)
    for line in drift.lines():
        click.echo(line)
    if not drift.clean:
        click.echo(f"The search index has drifted: {len(drift.lines())} problem(s).", err=True)
        sys.exit(1)
    click.echo("The search index matches the database.")
