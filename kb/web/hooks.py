"""Request lifecycle: who is signed in, one commit per request, search sync after it."""
from __future__ import annotations

from datetime import date

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from kb import database, policy
from kb.extensions import login_manager
from kb.markdown import render_markdown
from kb.models.story import LINK_RELS
from kb.services import users


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(users.load_user)
    app.after_request(commit_request)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals["policy"] = policy
    app.jinja_env.globals["link_rels"] = LINK_RELS
    app.jinja_env.globals["page_url"] = page_url
    app.context_processor(lambda: {"current_path": request.full_path.rstrip("?")})


def commit_request(response):
    """Commit what the request changed if it succeeded, roll back otherwise, then
    bring the search index up to date so that the writer sees their own change."""
    if response.status_code >= 400:
        database.rollback()
    else:
        database.commit(current_app)
    return response


def long_date(value) -> str:
    """5 April 2011, as GOV.UK writes dates."""
    if not isinstance(value, date):
        return ""
    return f"{value.day} {value:%B %Y}"


def actor():
    """The user acting in this request (anonymous if nobody is signed in)."""
    return current_user._get_current_object()


def page_url(number: int) -> str:
    """This page's address with another page number, keeping every other parameter."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(number)]
    return url_for(request.endpoint, **request.view_args, **args)
