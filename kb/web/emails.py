"""Which emails a person gets (/account/email) and one-click unsubscribing
from a link in an email, without signing in."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from kb.extensions import csrf
from kb.services import mail, preferences
from kb.web.forms import EmailPreferencesForm, first_errors
from kb.web.hooks import actor, login_required

bp = Blueprint("emails", __name__, url_prefix="/account/email")


@bp.route("", methods=["GET", "POST"], endpoint="preferences")
@login_required
def preferences_page():
    """Turn each kind of email on or off."""
    user = actor()
    kinds = preferences.kinds_for(user)
    form = EmailPreferencesForm.for_kinds(kinds, [k.name for k in kinds if preferences.wants(user, k.name)])
    if form.validate_on_submit():
        preferences.set_preferences(user, form.kinds.data)
        flash("Your email preferences have been saved.", "success")
        return redirect(url_for("emails.preferences"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("account/email_preferences.html", form=form, user=user,
                           errors=first_errors(form)), status


@bp.post("/resume")
@login_required
def resume():
    """The person says their address takes mail again after it bounced."""
    preferences.resume_mail(actor())
    flash("We will send emails to your address again.", "success")
    return redirect(url_for("emails.preferences"), 303)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; mail programs POST here (RFC 8058)
def unsubscribe(token: str):
    """GET: what the link stops, with one button. POST (the button, or a mail
    program's one-click unsubscribe): stop it. No sign-in needed.

    :raise 404: (a page saying so) for a token that is not ours.
    """
    payload = mail.read_unsubscribe_token(token)
    if payload is None:
        return render_template("account/unsubscribe.html", stopped=None, invalid=True), 404
    if request.method == "GET":
        return render_template("account/unsubscribe.html", token=token, invalid=False, stopped=None)
    stopped = preferences.unsubscribe(payload)
    if stopped is None:
        return render_template("account/unsubscribe.html", stopped=None, invalid=True), 404
    return render_template("account/unsubscribe.html", stopped=stopped, invalid=False)
