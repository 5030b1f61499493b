"""What every request and response must hold up to: values the database cannot
take are refused with 400/404 before any view runs, and every response carries
the security headers (a Content-Security-Policy without inline script)."""
from __future__ import annotations

import secrets

from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter

# Every id column is a 32-bit INTEGER; a larger number in a path can name nothing.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in a route: a non-negative number that fits an id column, or 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def refuse_unusable_values() -> None:
    """400 for a NUL character in the path, the query or a form field: no
    database column can hold it (PostgreSQL refuses it outright)."""
    values = [request.path, *_pairs(request.args)]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += _pairs(request.form)
    if any("\x00" in value for value in values):
        abort(400, "The address or form holds a character that cannot be used (NUL).")


def _pairs(multidict) -> list[str]:
    return [text for key, value in multidict.items(multi=True) for text in (key, value)]


def csp_nonce() -> str:
    """This response's nonce for the GOV.UK page template's one inline line."""
    return request.environ.setdefault("kb.csp_nonce", secrets.token_urlsafe(16))


def content_security_policy(nonce: str | None) -> str:
    script = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join([
        "default-src 'self'",
        f"script-src {script}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(request.environ.get("kb.csp_nonce")))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config.get("ENV_NAME") == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    """Before any blueprint is registered (the converter applies to their routes)."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_unusable_values)
    app.after_request(security_headers)
    app.context_processor(lambda: {"cspNonce": csp_nonce()})
