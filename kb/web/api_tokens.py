"""Personal API tokens on the account pages: list, create (the token is shown
once), revoke."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from kb.errors import Invalid
from kb.services import tokens
from kb.web.hooks import actor, require_sign_in

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")

bp.before_request(require_sign_in)


def _page(errors: dict | None = None, name: str = ""):
    user = actor()
    return render_template("account_tokens/tokens.html", tokens=tokens.list_tokens(user, user), errors=errors or {},
                           name=name), (422 if errors else 200)


@bp.get("/")
def token_list():
    """The user's live tokens and a form to create one."""
    return _page()


@bp.post("/")
def token_create():
    """Create a token and show it, once.

    The page with the token is the answer to the POST itself (not a redirect), so
    the secret is never put in the session cookie; it is marked no-store.
    Answers 422 with the form for a missing or too long name.
    """
    name = request.form.get("name", "")
    try:
        token, plaintext = tokens.create_token(actor(), name)
    except Invalid as exc:
        return _page(exc.errors or {"name": exc.message}, name)
    response = render_template("account_tokens/created.html", token=token, plaintext=plaintext)
    return response, 201, {"Cache-Control": "no-store"}


@bp.post("/<int:token_id>/revoke")
def token_revoke(token_id: int):
    """Revoke a token; it stops working at once. :raise 404: if it is not the user's live token."""
    token = tokens.revoke_token(actor(), token_id)
    flash(f"The token “{token.name}” was revoked.", "success")
    return redirect(url_for("api_tokens.token_list"), 303)
