"""kb: a knowledge base of public-sector innovation stories."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from kb import config, database
from kb.extensions import csrf, db, limiter, login_manager

TEMPLATE_FOLDER = config.PROJECT_ROOT / "templates"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error handlers.

    ``test_config`` overrides every other setting; its ``INSTANCE_PATH`` key
    chooses the runtime folder.
    """
    test_config = dict(test_config or {})
    instance = Path(test_config.pop("INSTANCE_PATH", None) or config.instance_path())
    app = Flask(
        __name__,
        instance_path=str(instance),
        instance_relative_config=True,
        template_folder=str(TEMPLATE_FOLDER),
    )
    config.load(app, test_config)
    instance.mkdir(parents=True, exist_ok=True)
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(TEMPLATE_FOLDER)),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )

    db.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)

    from kb import web

    web.init_app(app)

    # Nothing here opens a file or a connection: the app is built before
    # gunicorn forks its workers (kb/server.py).
    return app
