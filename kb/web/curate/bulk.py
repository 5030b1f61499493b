"""Bulk changes: choose a change for the selected stories (or every result
of a search), confirm it on one list of the stories with a tick each, apply
it and go back to the search. Filing from kb's suggestions is one of the
changes."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from kb import policy, search
from kb.errors import Invalid
from kb.services import filing, review, taxonomy
from kb.web.curate.common import bp, errors_of, form_page
from kb.web.hooks import actor
from kb.web.params import query_text

SEARCH_PARAMETERS = ("q", "qt", *search.FILTERS)


def selected_ids(source) -> list[int]:
    """Story ids chosen one by one (``story``), or every result of the search
    described by the search parameters when ``all`` is set."""
    ids = [int(v) for v in source.getlist("story") if str(v).isdigit()]
    if source.get("all") and not ids:
        filters = {name: source.getlist(name) for name in SEARCH_PARAMETERS[2:]}
        ids = review.search_result_ids(actor(), query_text(source), filters, source.getlist("status"))
    return ids


def bulk_hidden(source) -> list[tuple[str, str]]:
    """The selection as (name, value) pairs, to carry from one step to the next."""
    names = SEARCH_PARAMETERS + ("status", "all", "story")
    return [(name, value) for name in names for value in source.getlist(name) if value]


def search_return(source) -> str:
    """The search the selection came from: where a bulk change goes back to."""
    args = {name: source.getlist(name) for name in SEARCH_PARAMETERS + ("status",) if source.getlist(name)}
    return url_for("search.results", **args)


def bulk_form_page(source, ids, errors=None, values=None):
    return form_page("curate/bulk.html", errors, count=len(ids), hidden=bulk_hidden(source),
                     operations=review.BULK_OPERATIONS, areas=taxonomy.all_action_areas(), values=values or {},
                     default_confidence=round(filing.BULK_CONFIDENCE * 100))


@bp.get("/bulk")
def bulk():
    """Choose a change for the selected stories (or every result of a search).

    :raise 403: unless the user may curate in bulk.
    """
    policy.require(policy.can_bulk_curate(actor()), "Only curators can change stories in bulk.")
    return bulk_form_page(request.args, selected_ids(request.args), values=request.args.to_dict())


def _confidence(form) -> float:
    """The lowest confidence asked for, in percent on the form."""
    text = form.get("confidence", "").strip().rstrip("%")
    try:
        value = float(text) / 100
    except ValueError:
        value = -1
    if not 0 <= value <= 1:
        raise Invalid("Enter a confidence between 0 and 100.", {"confidence": "Enter a confidence between 0 and 100."})
    return value


@bp.post("/bulk")
def bulk_confirm():
    """List the stories the change would touch, each with a tick to leave it
    out, with the search that chose them, and ask to confirm."""
    form = request.form
    ids = selected_ids(form)
    operation = form.get("operation", "")
    hidden = [(name, value) for name, value in bulk_hidden(form) if name not in ("story", "all")]
    try:
        if operation == "file_suggested":
            confidence = _confidence(form)
            area = taxonomy.get_action_area(form.get("value_area", "")) if form.get("value_area") else None
            if area is None:
                raise Invalid("Choose an action area.", {"value_area": "Choose an action area."})
            found = filing.bulk_candidates(actor(), area.slug, confidence, ids)
            items = [(c.story_id, c.title, f"{c.percent}% confident: {c.reason}" if c.reason else f"{c.percent}% confident")
                     for c in found]
            description = f"File under “{area.name}” the stories kb suggests at {round(confidence * 100)}% or more"
            hidden += [("operation", operation), ("value", area.slug), ("confidence", form.get("confidence", ""))]
            note = f"{len(ids) - len(found)} of the {len(ids)} selected are not suggested for it at that confidence, or are already filed there, or it was declined."
        else:
            plan = review.plan_bulk_change(actor(), ids, operation, _bulk_value(form), form.get("reason", ""))
            items = [(story_id, title, "") for story_id, title in review.story_titles(actor(), plan.changing)]
            description = plan.description
            hidden += [("operation", plan.operation), ("value", plan.value), ("reason", plan.reason)]
            verb = "have" if plan.operation.startswith("add") else "lack"
            note = f"{plan.selected - len(items)} of the {plan.selected} selected already {verb} it."
    except Invalid as exc:
        errors = errors_of(exc, "operation")
        if operation.endswith("area") and "value" in errors:
            errors["value_area"] = errors.pop("value")  # the area is chosen in its own field
        return bulk_form_page(form, ids, errors, dict(form))
    return render_template("curate/bulk_confirm.html", description=description, items=items, selected=len(ids),
                           note=note if len(items) != len(ids) else "", hidden=hidden, back=search_return(form),
                           query=query_text(form), filters=[(n, v) for n, v in hidden if n in SEARCH_PARAMETERS[2:]])


def _bulk_value(form) -> str:
    return form.get("value_area", "") if form.get("operation", "").endswith("area") else form.get("value", "")


@bp.post("/bulk/apply")
def bulk_apply():
    """Make the confirmed change to the ticked stories (each gets a revision;
    the batch is one audit event and one index sync), then go back to the search."""
    form = request.form
    ids = [int(v) for v in form.getlist("pick") if v.isdigit()]
    ids += [int(v) for v in form.get("ids", "").split(",") if v.strip().isdigit()]
    operation, value = form.get("operation", ""), form.get("value", "")
    if operation == "file_suggested":
        found = filing.bulk_candidates(actor(), value, _confidence(form), ids) if ids else []
        plan = filing.file_in_bulk(actor(), value, {c.story_id: c.reason for c in found}) if found else None
    else:
        plan = review.apply_bulk_change(actor(), ids, operation, value, form.get("reason", ""))
    count = len(plan.changing) if plan else 0
    if count:
        flash(f"{plan.description}: changed {count} {'story' if count == 1 else 'stories'}.", "success")
    else:
        flash("No stories were ticked, so nothing changed.", "success")
    return redirect(search_return(form), 303)
