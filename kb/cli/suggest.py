"""``kb suggest``: a thin wrapper over the filing suggestions."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from kb import database
from kb.policy import SYSTEM


@click.group("suggest")
def suggest_group():
    """kb's suggested action areas and tags for every story."""


@suggest_group.command("refresh")
@with_appcontext
def suggest_refresh():
    """Retrain on the curators' filings and declines, and recompute every story's suggestions."""
    from sqlalchemy import func, select
    from tqdm import tqdm

    from kb.extensions import db
    from kb.models import Story
    from kb.services import suggestions

    total = db.session.scalar(select(func.count()).select_from(Story)) or 0
    with tqdm(total=total, unit="story", desc="Suggesting", disable=None) as bar:
        count = suggestions.refresh(SYSTEM, progress=bar.update)
    database.commit(current_app)
    click.echo(f"Refreshed the suggestions of {count} stories.")
