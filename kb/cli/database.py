"""``kb init`` and ``kb seed``: the schema, the action areas, the seed stories."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from kb import database
from kb.policy import SYSTEM
from kb.services import seed as seed_service


@click.command()
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


@click.command()
@with_appcontext
def seed():
    """Load the action areas and the seed stories (a second run changes nothing)."""
    added, present = seed_service.load_seed(SYSTEM)
    database.commit(current_app)
    click.echo(f"Seed stories: {added} added, {present} already present.")
