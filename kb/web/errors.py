"""One place that turns errors into pages (or, under /api/, the one JSON error shape)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from kb import database
from kb.errors import DomainError

log = logging.getLogger(__name__)

TITLES = {
    400: "There is a problem with the request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "This page cannot be used in that way",
    409: "That conflicts with a change someone else made",
    413: "The file is too large",
    422: "There is a problem with what was sent",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is not available at the moment",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str = "", errors: dict | None = None, title: str = ""):
    """The page, or JSON ``{"ok": false, "status", "error", "errors"}``, for an error."""
    title = title or TITLES.get(status, "Something went wrong")
    if wants_json():
        body = {"ok": False, "status": status, "error": message or title}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    template = "errors/404.html" if status == 404 else "errors/500.html" if status == 500 else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def handle_domain_error(exc: DomainError):
    database.rollback()
    body, status = error_response(exc.status, exc.message, exc.errors, exc.title)
    return body, status, exc.headers


def handle_http_error(exc: HTTPException):
    if exc.code and exc.code < 400:
        return exc
    description = "" if exc.code in (404, 500) else (exc.description or "")
    body, status = error_response(exc.code or 500, description)
    # Keep what the error says to clients, such as Allow on 405 and Retry-After on 429.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return body, status, headers


def handle_unexpected(exc: Exception):
    log.exception("Unhandled error on %s", request.path)
    try:
        database.rollback()
    except Exception:  # the database itself may be what failed
        log.exception("Rollback failed")
    return error_response(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
