"""Web layer: blueprints translate requests into service calls and results into pages."""
from __future__ import annotations

from flask import Flask

from kb.web import errors, hooks, public


def init_app(app: Flask) -> None:
    hooks.init_app(app)
    errors.init_app(app)
    app.register_blueprint(public.bp)
    from kb.web import auth, contribute

    app.register_blueprint(auth.bp)
    app.register_blueprint(contribute.bp)
    from kb.web import admin, curate

    app.register_blueprint(curate.bp)
    app.register_blueprint(admin.bp)
    from kb.web import search as search_pages

    app.register_blueprint(search_pages.bp)
    from kb.web import api, api_tokens, exports, imports

    app.register_blueprint(api.bp)
    app.register_blueprint(api_tokens.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(exports.bp)
