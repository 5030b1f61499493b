"""Accounts: register and confirm the address, sign in and out, the account
page, changing a password and resetting a forgotten one.

Signing in, with its counting of failed attempts, is ``kb/web/signing_in.py``.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from kb import policy
from kb.errors import Invalid
from kb.services import accounts, attempts, users
from kb.web.forms import (
    AccountForm,
    ChangePasswordForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    RegisterForm,
    SignInForm,
    first_errors,
)
from kb.web.hooks import actor, login_required
from kb.web.signing_in import TOO_MANY, attempt_sign_in, client_address

bp = Blueprint("auth", __name__, url_prefix="/account")

TOO_MANY_REGISTRATIONS = "Too many accounts have been registered from your network lately. Try again in an hour."
TOO_MANY_RESETS = "You have asked for too many password reset links. Wait an hour, then try again."


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
    """Sign out, ending every copy of this person's session and remember-me
    cookies, and go to the home page."""
    if policy.is_signed_in(actor()):
        users.end_sessions(actor())
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("public.home"), 303)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create a contributor account and email a link to confirm the address.

    The page after registering is the same whether or not the address already
    had an account (its owner is told by email), so it reveals nobody's account.
    Answers 422 with every problem at its field (a malformed address, a domain
    that may not register, a short or common password), 429 after too many
    registrations from one address.
    """
    next_url = safe_next(request.values.get("next"))
    if policy.is_signed_in(actor()):
        return redirect(next_url, 303)
    form = RegisterForm()
    limit = ("register-address", client_address(), current_app.config["REGISTER_ADDRESS_LIMIT"])
    if form.is_submitted() and attempts.over_limit(*limit):
        form.email.errors = [TOO_MANY_REGISTRATIONS]
        return render_template("account/register.html", form=form, next_url=next_url,
                               errors=first_errors(form)), 429
    if form.is_submitted():
        attempts.count(*limit)
    if form.validate_on_submit():
        try:
            accounts.register(actor(), form.email.data, form.password.data, display_name=form.display_name.data)
        except Invalid as exc:
            for name, message in exc.errors.items():
                if name in form:
                    form[name].errors = [*form[name].errors, message]
        else:
            return render_template("account/check_email.html", email=users.normalise_email(form.email.data))
    status = 422 if form.is_submitted() else 200
    return render_template("account/register.html", form=form, next_url=next_url,
                           domains=accounts.allowed_domains(), errors=first_errors(form)), status


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    """Confirm the address a registration link was sent to.

    :raise 404: (a page saying so) for a link that is not ours or has expired.
    """
    try:
        user = accounts.confirm_email(token)
    except accounts.LinkProblem as exc:
        return render_template("account/link_problem.html", problem=str(exc), purpose="confirm"), 404
    flash("Your email address is confirmed. You can now send stories for review.", "success")
    if getattr(actor(), "id", None) == user.id:
        return redirect(url_for("contribute.my_stories"), 303)
    return redirect(url_for("auth.sign_in"), 303)


@bp.post("/confirm")
@login_required
def resend_confirmation():
    """Send the signed-in person a new link to confirm their address."""
    accounts.resend_confirmation(actor())
    flash(f"We have sent a new link to {actor().email}. It works for 14 days.", "success")
    return redirect(safe_next(request.form.get("next"), url_for("auth.account")), 303)


@bp.route("/password/reset", methods=["GET", "POST"])
def password_reset():
    """Ask for a link to reset a forgotten password.

    The answer is the same whether or not the address has an account; 429
    after too many requests for one address or from one network address.
    """
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        email = users.normalise_email(form.email.data)
        limits = [("password-reset-account", email, current_app.config["PASSWORD_RESET_LIMIT"]),
                  ("password-reset-address", client_address(), current_app.config["PASSWORD_RESET_ADDRESS_LIMIT"])]
        # Counted for every address typed, so being refused reveals no account either.
        if any(attempts.over_limit(*limit) for limit in limits):
            form.email.errors = [TOO_MANY_RESETS]
            return render_template("account/password_reset.html", form=form, errors=first_errors(form)), 429
        for limit in limits:
            attempts.count(*limit)
        accounts.request_password_reset(form.email.data)
        return render_template("account/password_reset_sent.html", email=users.normalise_email(form.email.data),
                               minutes=accounts.RESET_SECONDS // 60)
    status = 422 if form.is_submitted() else 200
    return render_template("account/password_reset.html", form=form, errors=first_errors(form)), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset_link(token: str):
    """Choose a new password through the emailed link; every session of the account ends.

    :raise 404: (a page saying so, with a way to ask for a new link) for a link
        that has expired, has been used or is not ours.
    """
    try:
        accounts.user_for_reset(token)
    except accounts.LinkProblem as exc:
        return render_template("account/link_problem.html", problem=str(exc), purpose="reset"), 404
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.new_password.data)
        except Invalid as exc:
            form.new_password.errors = [*form.new_password.errors, exc.errors.get("password", exc.message)]
        else:
            if policy.is_signed_in(actor()):
                logout_user()
            flash("Your password has been changed, and you have been signed out everywhere. "
                  "Sign in with your new password.", "success")
            return redirect(url_for("auth.sign_in"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("account/password_reset_link.html", form=form, token=token,
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
