"""Web layer: blueprints translate requests into service calls and results into pages."""
from __future__ import annotations

from flask import Flask

from kb.web import (
    admin,
    api,
    api_tokens,
    auth,
    contribute,
    curate,
    emails,
    errors,
    exports,
    hooks,
    imports,
    public,
    saved_searches,
    search,
    security,
)

BLUEPRINTS = (public, search, auth, contribute, curate, admin, api, api_tokens, imports, exports, saved_searches,
              emails)


def init_app(app: Flask) -> None:
    security.init_app(app)
    hooks.init_app(app)
    errors.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
