"""Bulk changes: choose a change for the selected stories (or every result
of a search), confirm it, apply it."""
from __future__ import annotations

from flask import render_template, request

from kb import policy
from kb.errors import Invalid
from kb.services import review, taxonomy
from kb.web.curate.common import bp, done, errors_of, form_page
from kb.web.hooks import actor

SEARCH_PARAMETERS = ("q", "area", "kind", "tag", "org", "year", "stage")


def selected_ids(source) -> list[int]:
    """Story ids chosen one by one (``story``), or every result of the search
    described by the search parameters when ``all`` is set."""
    ids = [int(v) for v in source.getlist("story") if str(v).isdigit()]
    if source.get("all") and not ids:
        filters = {name: source.getlist(name) for name in SEARCH_PARAMETERS if name != "q"}
        ids = review.search_result_ids(actor(), source.get("q", ""), filters, source.getlist("status"))
    return ids


def bulk_hidden(source) -> list[tuple[str, str]]:
    """The selection as (name, value) pairs, to carry from one step to the next."""
    names = SEARCH_PARAMETERS + ("status", "all", "story")
    return [(name, value) for name in names for value in source.getlist(name) if value]


@bp.get("/bulk")
def bulk():
    """Choose a change for the selected stories (or every result of a search).

    :raise 403: unless the user may curate in bulk.
    """
    policy.require(policy.can_bulk_curate(actor()), "Only curators can change stories in bulk.")
    ids = selected_ids(request.args)
    return form_page("curate/bulk.html", None, count=len(ids), hidden=bulk_hidden(request.args),
                     operations=review.BULK_OPERATIONS, areas=taxonomy.all_action_areas(), values={})


@bp.post("/bulk")
def bulk_confirm():
    """Say how many stories the change would touch and ask to confirm it."""
    form = request.form
    ids = selected_ids(form)
    try:
        plan = review.plan_bulk_change(actor(), ids, form.get("operation", ""), _bulk_value(form), form.get("reason", ""))
    except Invalid as exc:
        return form_page("curate/bulk.html", errors_of(exc, "operation"), count=len(ids), hidden=bulk_hidden(form),
                         operations=review.BULK_OPERATIONS, areas=taxonomy.all_action_areas(), values=dict(form))
    return render_template("curate/bulk_confirm.html", plan=plan)


def _bulk_value(form) -> str:
    return form.get("value_area", "") if form.get("operation", "").endswith("area") else form.get("value", "")


@bp.post("/bulk/apply")
def bulk_apply():
    """Make the confirmed change; each story gets a revision and is reindexed."""
    form = request.form
    ids = [int(v) for v in form.get("ids", "").split(",") if v.strip().isdigit()]
    plan = review.apply_bulk_change(actor(), ids, form.get("operation", ""), form.get("value", ""), form.get("reason", ""))
    count = len(plan.changing)
    return done(f"{plan.description}: changed {count} {'story' if count == 1 else 'stories'}.", "curate.audit")
