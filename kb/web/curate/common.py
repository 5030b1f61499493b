"""What every curators' page shares: the blueprint, its sign-in gate, and
the small helpers for pages with forms."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from kb.errors import DomainError
from kb.services import review
from kb.web.hooks import actor, require_sign_in

bp = Blueprint("curate", __name__, url_prefix="/curate")
bp.before_request(require_sign_in)


def form_page(template: str, errors: dict | None = None, status: int = 200, **context):
    """A page with a form; 422 with an error summary when ``errors`` are given."""
    return render_template(template, errors=errors or {}, **context), (422 if errors else status)


def errors_of(exc: DomainError, default_field: str) -> dict:
    return exc.errors or {default_field: exc.message}


def page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def done(message: str, endpoint: str, **values):
    """Flash ``message`` and redirect (303) to ``endpoint``."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


def story_for_curation(story_id: int):
    """The story with this id.

    :raise 403: unless the user is a curator. :raise 404: if there is no such story.
    """
    return review.get_story_for_curation(actor(), story_id)
