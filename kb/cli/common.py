"""What every ``kb`` command shares."""
from __future__ import annotations

import sys

import click

from kb import database


def fail(message: str) -> None:
    """Roll back, print ``message`` as an error and exit with status 1."""
    database.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)
