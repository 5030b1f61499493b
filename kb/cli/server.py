"""``kb serve``: the app under gunicorn."""
from __future__ import annotations

import click
from flask.cli import ScriptInfo


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True, envvar="PORT")
@click.option("--workers", default=None, type=int, help="Worker processes (default: 2 x cores + 1).")
def serve(host: str, port: int, workers: int | None):
    """Serve the app with gunicorn, several worker processes (sync the index first)."""
    from kb import mail
    from kb.server import serve as run_server

    # No app context here: one pushed now would be inherited by every worker,
    # and each request would reuse it (its ``g`` and database session included).
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    click.echo(mail.describe(app.config))
    run_server(app, host, port, workers)
