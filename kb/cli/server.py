"""``kb serve``: the app under gunicorn."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True, envvar="PORT")
@click.option("--workers", default=None, type=int, help="Worker processes (default: 2 x cores + 1).")
@with_appcontext
def serve(host: str, port: int, workers: int | None):
    """Serve the app with gunicorn, several worker processes (sync the index first)."""
    from kb import mail
    from kb.server import serve as run_server

    click.echo(mail.describe(current_app.config))
    run_server(current_app._get_current_object(), host, port, workers)
