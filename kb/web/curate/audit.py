"""The audit log of curators' and admins' actions."""
from __future__ import annotations

from datetime import date

from flask import render_template, request

from kb.services import review
from kb.web.curate.common import bp, page_number
from kb.web.hooks import actor


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


@bp.get("/audit")
def audit():
    """Every curator and admin action, filterable by actor, action and date.

    :raise 403: unless the user may read the audit log.
    """
    filters = review.AuditFilters(request.args.get("actor", type=int), request.args.get("action", ""),
                                  _date("from"), _date("to"))
    bad_dates = {name: "Enter a date like 2024-03-31." for name in ("from", "to")
                 if request.args.get(name, "").strip() and _date(name) is None}
    users, actions = review.audit_choices(actor())
    page = review.audit_log(actor(), filters, page_number())
    return render_template("curate/audit.html", page=page, filters=filters, users=users, actions=actions,
                           errors=bad_dates, args=request.args)
