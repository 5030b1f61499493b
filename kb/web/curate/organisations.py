"""Curators set an organisation's home authority."""
from __future__ import annotations

from flask import request

from kb import policy, reference
from kb.errors import Invalid
from kb.models import Organisation
from kb.services import taxonomy
from kb.web.curate.common import bp, done, errors_of, form_page
from kb.web.hooks import actor


@bp.route("/organisations/<slug>", methods=["GET", "POST"])
def organisation(slug: str):
    """Set an organisation's home authority, the place of its stories that name none.

    :raise 403: unless the user is a curator. :raise 404: if there is no such organisation.
    """
    item = taxonomy.get_by_slug(Organisation, slug)
    policy.require(policy.can_edit_organisation(actor(), item), "Only curators can change organisations.")
    if request.method == "GET":
        found = reference.authority(item.home_authority_code)
        return form_page("curate/organisation.html", organisation=item,
                         values={"home_authority_code": found.name if found else ""})
    value = request.form.get("home_authority_code", "")
    try:
        taxonomy.set_home_authority(actor(), item, value)
    except Invalid as exc:
        return form_page("curate/organisation.html", errors_of(exc, "home_authority_code"), organisation=item,
                         values={"home_authority_code": value})
    return done(f"Saved the local authority of {item.name}.", "public.organisation", slug=item.slug)
