"""Administration under /admin/: users, roles, deactivating accounts, who may
register (admins only)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from kb import policy
from kb.errors import Invalid
from kb.models import ROLES
from kb.services import accounts, users
from kb.web.forms import RegistrationDomainsForm, first_errors
from kb.web.hooks import actor, require_sign_in

bp = Blueprint("admin", __name__, url_prefix="/admin")


bp.before_request(require_sign_in)


@bp.get("/")
def index():
    """The admin home is the user list."""
    return redirect(url_for("admin.user_list"))


@bp.get("/users")
def user_list():
    """Every account, filterable by email or name and role.

    :raise 403: unless the user is an admin.
    """
    text, role = request.args.get("q", ""), request.args.get("role", "")
    return render_template("admin/users.html", users=users.list_users(actor(), text, role), q=text, role=role,
                           roles=ROLES)


def user_page(user, errors: dict | None = None):
    return render_template("admin/user.html", user=user, roles=ROLES, errors=errors or {}), 422 if errors else 200


def user_changed(user, message: str):
    """Flash ``message`` and go back to the account's page (303)."""
    flash(message, "success")
    return redirect(url_for("admin.user_detail", user_id=user.id), 303)


def set_active(user_id: int, active: bool):
    """Let the account sign in or stop it."""
    user = users.set_active(actor(), users.get_user(actor(), user_id), active)
    return user_changed(user, f"{user.email} can sign in again." if active else f"{user.email} can no longer sign in.")


@bp.get("/users/<int:user_id>")
def user_detail(user_id: int):
    """One account: its role and whether it can sign in.

    :raise 403: unless the user is an admin. :raise 404: if there is no such account.
    """
    return user_page(users.get_user(actor(), user_id))


@bp.post("/users/<int:user_id>/role")
def change_role(user_id: int):
    """Give the account another role.

    :raise 403: for one's own account.
    """
    user = users.get_user(actor(), user_id)
    try:
        users.change_role(actor(), user, request.form.get("role", ""))
    except Invalid as exc:
        return user_page(user, exc.errors)
    return user_changed(user, f"{user.email} is now {'an' if user.role == 'admin' else 'a'} {user.role}.")


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int):
    """Stop the account signing in (its published stories stay).

    :raise 403: for one's own account.
    """
    return set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id: int):
    """Let the account sign in again.

    :raise 403: for one's own account.
    """
    return set_active(user_id, True)


@bp.route("/registration", methods=["GET", "POST"])
def registration():
    """The email domains allowed to register as contributors (empty: anyone).

    :raise 403: unless the user is an admin. Answers 422 naming any pattern that is not a domain.
    """
    policy.require(policy.can_manage_registration(actor()), "Only admins can choose who may register.")
    form = RegistrationDomainsForm(data={"domains": ", ".join(accounts.allowed_domains())})
    if form.validate_on_submit():
        try:
            patterns = accounts.set_allowed_domains(actor(), form.domains.data)
        except Invalid as exc:
            form.domains.errors = [*form.domains.errors, exc.errors["domains"]]
        else:
            flash("Anyone can now register." if not patterns else
                  f"Only addresses ending in {', '.join(p.removeprefix('*') for p in patterns)} can now register.",
                  "success")
            return redirect(url_for("admin.registration"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/registration.html", form=form, errors=first_errors(form)), status
