"""Production serving: gunicorn with several worker processes.

Request limits: a search of ``MAX_QUERY_CHARS`` characters is up to 12 bytes
a character once UTF-8 and percent-encoded, longer than any request line
gunicorn accepts with a number (its ceiling is 8,190 bytes), so the request
line limit is 0, which gunicorn reads as "no limit": every search reaches the
app, which answers past its limit with a page that says so. A single header
may be as long as such an address (a client may send it back as Referer).
If gunicorn itself refuses a request (headers too large), the worker answers
with a kb page instead of gunicorn's bare one.

Nothing that holds open files may cross the fork: the master syncs the index
and reads what the first searches need as plain data (``search.start``:
meta columns, the commonest words' postings), compiles the page templates,
then closes its searchers and lets go of its database connections before
gunicorn forks; every worker closes any searcher and connection it inherited
again after the fork (``post_fork``), so no two processes share a file offset
or a connection, and the first searches after a restart find what they need.
"""
from __future__ import annotations

import contextvars
import multiprocessing
import sys

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.sync import SyncWorker

from kb.extensions import db
from kb.search.query import MAX_QUERY_CHARS

# Bytes of one percent-encoded character at most (4 bytes of UTF-8, 3 each), and room for the rest of the address.
REQUEST_LINE_LIMIT = 0
REQUEST_FIELD_LIMIT = MAX_QUERY_CHARS * 12 + 8192


class Worker(SyncWorker):
    """gunicorn's sync worker, answering requests it refuses with a kb page."""

    _pages: dict[int, bytes] = {}

    def handle_error(self, req, client, addr, exc):
        if isinstance(exc, (LimitRequestLine, LimitRequestHeaders)):
            status = 414 if isinstance(exc, LimitRequestLine) else 431
            self.log.warning("Request refused from %s: %s", (addr or ("",))[0], exc)
            try:
                util.write_nonblock(client, self._page(status))
                return
            except Exception:  # the page could not be made or sent: gunicorn's own answer
                self.log.exception("Could not send the kb page for %s", status)
        super().handle_error(req, client, addr, exc)

    def _page(self, status: int) -> bytes:
        if status not in self._pages:
            self._pages[status] = refusal_page(self.wsgi, status)
        return self._pages[status]


def refusal_page(app, status: int) -> bytes:
    """A whole HTTP response: a kb page explaining a request too large to read."""
    from flask import render_template

    reason = "URI Too Long" if status == 414 else "Request Header Fields Too Large"
    with app.test_request_context("/"):
        body = render_template(
            "errors/error.html", status=status, title="Your request was too long",
            message=(f"The address or the information your browser sent was too long for kb to read. "
                     f"A search can be up to {MAX_QUERY_CHARS:,} characters."),
        ).encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class _Server(BaseApplication):
    def __init__(self, app, options: dict):
        self.app = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.app


def release_connections(app) -> None:
    """Forget the pooled database connections of ``app`` without closing them
    (after a fork they belong to the parent)."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def _load_suggestions(app) -> None:
    """Load the stored filing-suggestion model once, before the fork, so that
    every worker inherits it (plain arrays, no open file) instead of reading
    it in its first story save. Nothing is trained here: ``kb suggest
    refresh`` trains and stores the model. A failure is logged; the workers
    then load it as they need it."""
    import logging

    from kb.services import suggestions

    try:
        with app.app_context():
            suggestions.current_model()
            db.session.remove()
    except Exception:
        logging.getLogger(__name__).exception("Could not load the suggestion model before serving")


def _compile_templates(app) -> None:
    """Compile every page template once, before the fork, so that no worker
    compiles them inside its first requests (compiled templates are code, no file)."""
    for name in app.jinja_env.list_templates(extensions=("html",)):
        app.jinja_env.get_template(name)


def serve(app, host: str, port: int, workers: int | None = None) -> None:
    """Sync the index, then serve ``app`` with gunicorn (port 0: any free port,
    logged as "Listening at")."""
    from kb import search

    warmed = search.start(app)
    if warmed:
        print("kb serve: search read {documents} documents and {words} words' postings before serving, "
              "in {seconds} s".format(**warmed), file=sys.stderr, flush=True)
    _compile_templates(app)
    _load_suggestions(app)
    release_connections(app)

    def post_fork(server, worker) -> None:
        search.after_fork()
        release_connections(app)

    server = _Server(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers or multiprocessing.cpu_count() * 2 + 1,
            "worker_class": "kb.server.Worker",
            "accesslog": "-",
            "timeout": 60,
            "limit_request_line": REQUEST_LINE_LIMIT,
            "limit_request_field_size": REQUEST_FIELD_LIMIT,
            "post_fork": post_fork,
            # gunicorn's control socket is one path per user (~/.gunicorn/gunicorn.ctl):
            # two servers would take it from each other, and kb has no use for it.
            "control_socket_disable": True,
        },
    )
    # In a context of its own: an app context current here would be inherited by
    # every worker, and each request would reuse it (its ``g`` and database session).
    contextvars.Context().run(server.run)
