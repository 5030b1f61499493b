"""Accounts: register, sign in and out, the account page, changing the password.

Sign-in attempts that fail are counted per account and per address (in
Flask-Limiter's storage); past either limit, sign-in is refused with a clear
message until the window ends, even with the right password.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from limits import parse

from kb import policy
from kb.errors import Invalid
from kb.extensions import limiter
from kb.services import users
from kb.web.forms import AccountForm, ChangePasswordForm, RegisterForm, SignInForm, first_errors
from kb.web.hooks import actor, login_required

bp = Blueprint("auth", __name__, url_prefix="/account")

SIGN_IN_FAILED = "Enter a correct email address and password."
TOO_MANY = "You have tried to sign in too many times. Wait 15 minutes, then try again."


# Where to go next -------------------------------------------------------------

def safe_next(target: str | None, default: str = "/my/stories") -> str:
    """``target`` if it is a path on this site, else ``default``: never another site."""
    target = (target or "").strip()
    if not target.startswith("/") or target.startswith(("//", "/\\")) or any(c in target for c in "\\\r\n\t"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# Rate limiting -------------------------------------------------------------------

def _limits(email: str) -> list[tuple]:
    config = current_app.config
    return [
        (parse(config["SIGN_IN_LIMIT"]), "sign-in-account", users.normalise_email(email)),
        (parse(config["SIGN_IN_ADDRESS_LIMIT"]), "sign-in-address", request.remote_addr or "unknown"),
    ]


def _limiting() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED")) and limiter.enabled and limiter.initialized


def sign_in_blocked(email: str) -> bool:
    """True if this account or this address has failed to sign in too often lately."""
    if not _limiting():
        return False
    return any(not limiter.limiter.test(limit, scope, key) for limit, scope, key in _limits(email))


def count_failure(email: str) -> None:
    if _limiting():
        for limit, scope, key in _limits(email):
            limiter.limiter.hit(limit, scope, key)


def attempt_sign_in(email: str, password: str, remember: bool = False) -> str | None:
    """Sign the person in; None if that worked, else the message to show them."""
    if sign_in_blocked(email):
        return TOO_MANY
    user = users.authenticate(email, password)
    if user is None:
        count_failure(email)
        return SIGN_IN_FAILED
    login_user(user, remember=remember)
    return None


# Views -------------------------------------------------------------------------

@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in, then go back to where the reader was going (on this site only).

    Answers 422 for a wrong email or password, 429 after too many failures.
    """
    next_url = safe_next(request.values.get("next"))
    if policy.is_signed_in(actor()) and request.method == "GET":
        return redirect(next_url, 303)
    form = SignInForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            message = attempt_sign_in(form.email.data, form.password.data, form.remember.data)
            if message is None:
                return redirect(next_url, 303)
            form.email.errors = [message]
            status = 429 if message == TOO_MANY else 422
        else:
            status = 422
    return render_template("account/sign_in.html", form=form, next_url=next_url,
                           errors=first_errors(form)), status


@bp.post("/sign-out")
def sign_out():
    """Sign out and go to the home page."""
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("public.home"), 303)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create a contributor account and sign in with it.

    Answers 422 with every problem at its field (an email already used, a short or
    common password).
    """
    next_url = safe_next(request.values.get("next"))
    if policy.is_signed_in(actor()):
        return redirect(next_url, 303)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(actor(), form.email.data, form.password.data,
                                     display_name=form.display_name.data)
        except Invalid as exc:
            for name, message in exc.errors.items():
                if name in form:
                    form[name].errors = [*form[name].errors, message]
        else:
            login_user(user)
            flash("Your account has been created. You can now submit a story.", "success")
            return redirect(next_url, 303)
    status = 422 if form.is_submitted() else 200
    return render_template("account/register.html", form=form, next_url=next_url,
                           errors=first_errors(form)), status


@bp.route("", methods=["GET", "POST"])
@login_required
def account():
    """The signed-in person's account: their name, email, role; change the name."""
    user = actor()
    form = AccountForm(data={"display_name": user.display_name})
    if form.validate_on_submit():
        try:
            users.update_account(user, form.display_name.data)
        except Invalid as exc:
            form.display_name.errors = [exc.errors.get("display_name", exc.message)]
        else:
            flash("Your name has been changed.", "success")
            return redirect(url_for("auth.account"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("account/account.html", form=form, user=user, errors=first_errors(form)), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change the password; every other session of this account ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = users.change_password(actor(), form.current_password.data, form.new_password.data)
        except Invalid as exc:
            for name, message in exc.errors.items():
                form[name].errors = [*form[name].errors, message]
        else:
            # The session token changed: sign this session in again with it.
            login_user(user)
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("auth.account"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("account/password.html", form=form, errors=first_errors(form)), status
