"""The ``kb`` command: thin wrappers over services, one commit per command."""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from kb import database
from kb.policy import SYSTEM
from kb.services import seed as seed_service
from kb.services import users
from kb.services.errors import DomainError


def _create_app():
    from kb import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """kb: a knowledge base of public-sector innovation stories."""


def fail(message: str) -> None:
    database.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@main.command()
@with_appcontext
def init():
    """Create the database, or upgrade it to the newest schema keeping its data,
    with the four action areas."""
    before, after = database.upgrade()
    if before == after:
        click.echo(f"Database is up to date (schema {after}).")
    else:
        click.echo(f"Database upgraded from schema {before or 'none'} to {after}.")
    # The four action areas are part of the domain, not sample data: every instance has them.
    seed_service.load_action_areas(SYSTEM)
    database.commit(current_app)


@main.command()
@with_appcontext
def seed():
    """Load the action areas and the seed stories (a second run changes nothing)."""
    added, present = seed_service.load_seed(SYSTEM)
    database.commit(current_app)
    click.echo(f"Seed stories: {added} added, {present} already present.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True, envvar="PORT")
@click.option("--workers", default=None, type=int, help="Worker processes (default: 2 x cores + 1).")
@with_appcontext
def serve(host: str, port: int, workers: int | None):
    """Serve the app with gunicorn, several worker processes."""
    from kb import mail
    from kb.server import serve as run_server

    click.echo(mail.describe(current_app.config))

    run_server(host, port, workers)


@main.group("users")
def users_group():
    """Manage accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["contributor", "curator", "admin"]), default="contributor", show_default=True)
@click.option("--name", "display_name", default="", help="Display name (default: the part of the email before @).")
@with_appcontext
def users_create(email: str, role: str, display_name: str):
    """Create an account; the password comes from KB_PASSWORD or a prompt."""
    password = os.environ.get("KB_PASSWORD") or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(SYSTEM, email, password, display_name=display_name, role=role)
    except DomainError as exc:
        fail("; ".join(exc.errors.values()) or exc.message)
    database.commit(current_app)
    click.echo(f"Created {user.role} {user.email}.")


@main.group("index")
def index_group():
    """Keep the search index in step with the database."""


@index_group.command("sync")
@with_appcontext
def index_sync():
    """Apply the changes the index has not seen yet."""
    from kb import search

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
    from sqlalchemy import func, select
    from tqdm import tqdm

    from kb import search
    from kb.extensions import db
    from kb.models import Story

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
    """List every difference between the index and the database; exit 1 if there is any."""
    from kb import search

    drift = search.verify(current_app)
    for line in drift.lines():
        click.echo(line)
    if not drift.clean:
        click.echo(f"The search index has drifted: {len(drift.lines())} problem(s).", err=True)
        sys.exit(1)
    click.echo("The search index matches the database.")


def init_app(app) -> None:
    """Nothing to register: the commands live on the ``kb`` group."""


from kb.importers.commands import export_command, import_command  # noqa: E402

main.add_command(import_command)
main.add_command(export_command)

from kb.mail_commands import alerts_group, mail_group  # noqa: E402

main.add_command(mail_group)
main.add_command(alerts_group)

from kb.suggest_commands import suggest_group  # noqa: E402

main.add_command(suggest_group)
