"""Saved searches with email alerts (/my/searches). The readers' page on
following a search, /search/follow, is in ``search`` and offers them."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from kb import search
from kb.services import alerts
from kb.errors import Invalid
from kb.web.forms import SavedSearchForm, first_errors
from kb.web.hooks import actor, login_required
from kb.web.params import query_text

bp = Blueprint("saved_searches", __name__)


def params_from_request() -> dict:
    """The search in this request's query string, as a saved search keeps it."""
    args = request.args
    return alerts.clean_params(query_text(args), {name: args.getlist(name) for name in search.FILTERS},
                               args.get("sort", "relevance"))


@bp.get("/my/searches")
@login_required
def index():
    """The signed-in person's saved searches, with how often each emails."""
    return render_template("saved_searches/index.html", searches=alerts.own_searches(actor()),
                           labels=alerts.FREQUENCY_LABELS, describe=alerts.describe, query_args=alerts.query_args)


@bp.route("/my/searches/new", methods=["GET", "POST"])
@login_required
def new():
    """Save the search in the query string, with a name and how often to email.

    Answers 422 with the form for a missing name or frequency.
    """
    params = params_from_request()
    form = SavedSearchForm(data={"name": alerts.describe(params)})
    if form.validate_on_submit():
        try:
            saved = alerts.save_search(actor(), params, form.name.data, form.frequency.data)
        except Invalid as exc:
            _field_errors(form, exc)
        else:
            flash(f"Your search “{saved.name}” has been saved. "
                  + ("You will not get emails about it." if saved.frequency == "none" else
                     f"We will email you {alerts.FREQUENCY_LABELS[saved.frequency].lower()} "
                     "when new stories match it."), "success")
            return redirect(url_for("saved_searches.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("saved_searches/form.html", form=form, params=params, saved=None,
                           description=alerts.describe(params), errors=first_errors(form)), status


@bp.route("/my/searches/<int:saved_id>/edit", methods=["GET", "POST"])
@login_required
def edit(saved_id: int):
    """Rename a saved search or change how often it emails.

    :raise 404: unless it is the person's own saved search.
    """
    saved = alerts.get_own_search(actor(), saved_id)
    form = SavedSearchForm(data={"name": saved.name, "frequency": saved.frequency})
    if form.validate_on_submit():
        try:
            alerts.update_search(actor(), saved, form.name.data, form.frequency.data)
        except Invalid as exc:
            _field_errors(form, exc)
        else:
            flash(f"Your saved search “{saved.name}” has been changed.", "success")
            return redirect(url_for("saved_searches.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("saved_searches/form.html", form=form, params=saved.params, saved=saved,
                           description=alerts.describe(saved.params), errors=first_errors(form)), status


@bp.post("/my/searches/<int:saved_id>/delete")
@login_required
def delete(saved_id: int):
    """Delete a saved search (no more emails about it).

    :raise 404: unless it is the person's own saved search.
    """
    saved = alerts.get_own_search(actor(), saved_id)
    name = saved.name
    alerts.delete_search(actor(), saved)
    flash(f"Your saved search “{name}” has been deleted.", "success")
    return redirect(url_for("saved_searches.index"), 303)


def _field_errors(form, exc: Invalid) -> None:
    for name, message in exc.errors.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]



