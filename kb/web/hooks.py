"""Request lifecycle: who is signed in, one commit per request, search sync after it."""
from __future__ import annotations

from datetime import date
from functools import wraps

from flask import Flask, current_app, flash, redirect, request, url_for
from flask_login import current_user

from kb import database, policy
from kb.dates import PartialDate
from kb.extensions import login_manager
from kb.markdown import render_markdown
from kb.models.story import LINK_RELS
from kb.services import users


def init_app(app: Flask) -> None:
    login_manager.user_loader(users.load_user)
    app.after_request(commit_request)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals["policy"] = policy
    # A global, not only a context variable, so that imported macros see who is signed in.
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["link_rels"] = LINK_RELS
    app.jinja_env.globals["page_url"] = page_url
    app.context_processor(lambda: {"current_path": request.full_path.rstrip("?")})


def commit_request(response):
    """Commit what the request changed if it succeeded, roll back otherwise, then
    bring the search index up to date so that the writer sees their own change."""
    if response.status_code >= 400:
        database.rollback()
    else:
        database.commit(current_app, index_wait=float(current_app.config["INDEX_REQUEST_WAIT"]))
    return response


def long_date(value) -> str:
    """5 April 2011 (or April 2011, or 2011, for a date known to a month or a
    year), as GOV.UK writes dates."""
    if isinstance(value, PartialDate):
        return value.long()
    if not isinstance(value, date):
        return ""
    return f"{value.day} {value:%B %Y}"


def actor():
    """The user acting in this request (anonymous if nobody is signed in)."""
    return current_user._get_current_object()


def require_sign_in():
    """The one sign-in gate: an anonymous visitor is sent to sign in (303 after
    a POST), coming back to this page (with its query on a GET) afterwards;
    ``None`` for a signed-in user. Use as a blueprint's ``before_request``."""
    if policy.is_signed_in(actor()):
        return None
    back = request.full_path.rstrip("?") if request.method == "GET" else request.path
    flash("Sign in to continue.", "info")
    return redirect(url_for("auth.sign_in", next=back), 303 if request.method == "POST" else 302)


def login_required(view):
    """The gate of ``require_sign_in`` on one view."""
    @wraps(view)
    def gated(*args, **kwargs):
        return require_sign_in() or view(*args, **kwargs)

    return gated


def page_url(number: int) -> str:
    """This page's address with another page number, keeping every other parameter."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(number)]
    return url_for(request.endpoint, **request.view_args, **args)
