"""Curators' pages under /curate/: the review queue, reviewing and curating a
story, revisions, the tag vocabulary, bulk changes and the audit log.

Every page asks a service, and every service asks policy.py; anonymous
visitors are sent to sign in first.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovCheckboxInput, GovTextArea, GovTextInput
from wtforms.fields import BooleanField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from kb import policy
from kb.models import KINDS, STATUSES
from kb.services import attachments, review, revisions, stories, tags, taxonomy
from kb.services.errors import Conflict, DomainError, Invalid, NotFound
from kb.web.forms import StoryForm
from kb.web.hooks import actor

bp = Blueprint("curate", __name__, url_prefix="/curate")

SIGN_IN = "/account/sign-in"
SEARCH_PARAMETERS = ("q", "area", "kind", "tag", "org", "year", "stage")


@bp.before_request
def require_sign_in():
    """Anonymous visitors sign in first; policy decides the rest."""
    if not policy.is_signed_in(actor()):
        return redirect(f"{SIGN_IN}?{_next_param()}", 303 if request.method == "POST" else 302)
    return None


def _next_param() -> str:
    from urllib.parse import urlencode

    return urlencode({"next": request.full_path.rstrip("?") if request.method == "GET" else request.path})


def form_page(template: str, errors: dict | None = None, status: int = 200, **context):
    """A page with a form; 422 with an error summary when ``errors`` are given."""
    return render_template(template, errors=errors or {}, **context), (422 if errors else status)


def errors_of(exc: DomainError, default_field: str) -> dict:
    return exc.errors or {default_field: exc.message}


def page_number() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def done(message: str, endpoint: str, **values):
    """Flash ``message`` and redirect (303) to ``endpoint``."""
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


# The queue -------------------------------------------------------------------

@bp.get("/")
def queue():
    """Submitted stories, oldest first, filterable by kind and submitter.

    :raise 403: unless the user is a curator.
    """
    kind = request.args.get("kind", "")
    submitter = request.args.get("submitter", type=int)
    result = review.review_queue(actor(), kind if kind in KINDS else "", submitter)
    return render_template("curate/queue.html", queue=result, kinds=KINDS, kind=kind, submitter=submitter)


@bp.get("/stories")
def all_stories():
    """Every story of any status, found by title.

    :raise 403: unless the user is a curator.
    """
    text, status = request.args.get("q", ""), request.args.get("status", "")
    page = review.find_stories(actor(), text, status, page_number())
    return render_template("curate/stories.html", page=page, q=text, status=status, statuses=STATUSES)


# One story -------------------------------------------------------------------

def _story(story_id: int):
    return review.get_story_for_curation(actor(), story_id)


def review_page(story, errors: dict | None = None, values: dict | None = None):
    seen, changes = review.changes_since_seen(actor(), story)
    return form_page("curate/review.html", errors, story=story, seen=seen, changes=changes,
                     values=values or {}, areas=taxonomy.all_action_areas(),
                     edit_available="curate.edit" in current_app.view_functions)


@bp.get("/stories/<int:story_id>")
def story(story_id: int):
    """The story as readers will see it, what changed since a curator last saw
    it, and the review and curation actions.

    :raise 403: unless the user is a curator. :raise 404: if there is no such story.
    """
    return review_page(_story(story_id))


@bp.post("/stories/<int:story_id>/publish")
def publish(story_id: int):
    """Publish the story; it is searchable at once.

    :raise 403: if it may not be published now.
    """
    item = _story(story_id)
    try:
        stories.publish_story(actor(), item, request.form.get("note", ""))
    except Invalid as exc:
        return review_page(item, errors_of(exc, "publish"))
    return done(f"Published “{item.title}”.", "curate.story", story_id=item.id)


@bp.post("/stories/<int:story_id>/request-changes")
def request_changes(story_id: int):
    """Send the story back to its contributor with a note (required).

    :raise 403: if it cannot be reviewed now.
    """
    item = _story(story_id)
    note = request.form.get("note", "")
    try:
        stories.request_changes(actor(), item, note)
    except Invalid as exc:
        return review_page(item, errors_of(exc, "note"), {"note": note})
    return done(f"Asked for changes to “{item.title}”.", "curate.queue")


@bp.post("/stories/<int:story_id>/reject")
def reject(story_id: int):
    """Reject the story with a reason (required).

    :raise 403: if it cannot be reviewed now.
    """
    item = _story(story_id)
    reason = request.form.get("reason", "")
    try:
        stories.reject_story(actor(), item, reason)
    except Invalid as exc:
        return review_page(item, errors_of(exc, "reason"), {"reason": reason})
    return done(f"Rejected “{item.title}”.", "curate.queue")


@bp.post("/stories/<int:story_id>/unpublish")
def unpublish(story_id: int):
    """Take a published story down, with a reason (required).

    :raise 403: if it is not published.
    """
    item = _story(story_id)
    reason = request.form.get("unpublish_reason", "")
    try:
        stories.unpublish_story(actor(), item, reason)
    except Invalid as exc:
        return review_page(item, {"unpublish_reason": exc.message}, {"unpublish_reason": reason})
    return done(f"Unpublished “{item.title}”.", "curate.story", story_id=item.id)


@bp.post("/stories/<int:story_id>/feature")
def feature(story_id: int):
    """Feature the story on the home page (``featured=1``) or stop featuring it."""
    item = _story(story_id)
    featured = request.form.get("featured") == "1"
    stories.set_featured(actor(), item, featured)
    return done(f"“{item.title}” is {'now' if featured else 'no longer'} featured.", "curate.story", story_id=item.id)


# Tags and action areas of one story --------------------------------------------

def classify_values(story) -> dict:
    return {
        "tags": "\n".join(t.name for t in story.tags),
        "action_areas": {link.action_area.slug: link.reason for link in story.area_links},
        "reason": "",
    }


def classify_from_form(form) -> dict:
    chosen = form.getlist("action_areas")
    return {
        "tags": form.get("tags", ""),
        "action_areas": {slug: form.get(f"reason-{slug}", "") for slug in chosen},
        "reason": form.get("reason", ""),
    }


def classify_page(story, values: dict, errors: dict | None = None):
    return form_page("curate/classify.html", errors, story=story, values=values,
                     areas=taxonomy.all_action_areas())


@bp.route("/stories/<int:story_id>/classify", methods=["GET", "POST"])
def classify(story_id: int):
    """Set the story's tags (from the vocabulary; curators may add new ones)
    and action areas, each with an optional one-line reason.

    :raise 403: unless the user is a curator.
    """
    item = _story(story_id)
    if request.method == "GET":
        return classify_page(item, classify_values(item))
    values = classify_from_form(request.form)
    data = {
        "tags": values["tags"],
        "action_areas": [{"slug": s, "reason": r} for s, r in values["action_areas"].items()],
    }
    try:
        review.curate_story(actor(), item, data, values["reason"] or "Tags and action areas")
    except Invalid as exc:
        return classify_page(item, values, errors_of(exc, "tags"))
    return done("Saved the tags and action areas.", "curate.story", story_id=item.id)


@bp.post("/stories/<int:story_id>/suggestions")
def suggestion(story_id: int):
    """Accept (``decision=accept``) or dismiss a contributor's suggested tag."""
    item = _story(story_id)
    name = request.form.get("tag", "")
    if request.form.get("decision") == "accept":
        review.accept_suggested_tag(actor(), item, name)
        return done(f"Added the tag “{name}”.", "curate.story", story_id=item.id)
    review.dismiss_suggested_tag(actor(), item, name)
    return done(f"Dismissed the suggested tag “{name}”.", "curate.story", story_id=item.id)


# Editing every field ---------------------------------------------------------

class CuratorStoryForm(StoryForm):
    """The contributors' story form plus what only curators set: tags from the
    vocabulary, action areas with a one-line reason each, featured, and the
    reason for the change."""

    DOMAIN_FIELDS = StoryForm.DOMAIN_FIELDS + ("tags", "featured")

    tags = TextAreaField("Tags", filters=[lambda v: v.strip() if isinstance(v, str) else v], widget=GovTextArea(),
                         description="One tag a line. A name, old name or alias of a tag is kept as that tag; "
                                     "other names become new tags.")
    action_areas = SelectMultipleField("Action areas", choices=[], widget=GovCheckboxesInput())
    featured = BooleanField("Feature this story on the home page", widget=GovCheckboxInput())
    reason = StringField("Reason for the change (optional, kept in the revision)", widget=GovTextInput(),
                         validators=[Length(max=300, message="The reason must be 300 characters or fewer")])

    def set_choices(self, action_areas) -> "CuratorStoryForm":
        super().set_choices(action_areas)
        self.action_areas.choices = [SelectChoice(area.slug, area.name) for area in action_areas]
        return self

    def to_fields(self) -> dict:
        fields = super().to_fields()
        fields["tags"] = [line for line in (self.tags.data or "").splitlines() if line.strip()]
        fields["featured"] = bool(self.featured.data)
        return fields

    @classmethod
    def story_data(cls, story) -> dict:
        return {
            **StoryForm.story_data(story),
            "tags": "\n".join(t.name for t in story.tags),
            "featured": story.featured,
            "action_areas": [link.action_area.slug for link in story.area_links],
        }


def edit_form(story) -> CuratorStoryForm:
    areas = taxonomy.all_action_areas()
    if request.method == "GET":
        form = CuratorStoryForm.for_story(story, areas, formdata=None)
    else:
        form = CuratorStoryForm().set_choices(areas)
    form.remove_attachments.choices = [SelectChoice(str(a.id), f"Remove {a.filename}") for a in story.attachments]
    return form


def edit_page(story, form, reasons: dict, status: int = 200, focus: str = ""):
    from kb.models import Organisation, Person
    from kb.web.contribute import known_names

    form.pad()
    return render_template("curate/edit.html", story=story, form=form, reasons=reasons, focus=focus,
                           areas=taxonomy.all_action_areas(), errors=form.error_list(),
                           organisation_names=known_names(Organisation), person_names=known_names(Person)), status


def save_edit(story, form, uploads, reasons: dict) -> bool:
    """Save the form through the services; False (messages on the form) if Invalid."""
    data = form.to_fields()
    data["action_areas"] = [{"slug": slug, "reason": reasons.get(slug, "")} for slug in form.action_areas.data or []]
    try:
        review.curate_story(actor(), story, data, form.reason.data or "")
        attachments.remove_attachments(actor(), story, form.remove_attachments.data or [])
        attachments.add_attachments(actor(), story, uploads)
    except Invalid as exc:
        form.add_errors(exc.errors or {"title": exc.message})
        return False
    return True


def chosen_uploads(form) -> list:
    """The documents chosen on this form, stored by content hash; a refused
    file becomes an error at the field (and must be chosen again)."""
    uploads = []
    for item in request.files.getlist("attachments"):
        if not (item and item.filename):
            continue
        try:
            uploads.append(attachments.store_upload(item.filename, item.stream.read(attachments.max_upload_bytes() + 1)))
        except Invalid as exc:
            form.attachments.errors = [*form.attachments.errors, *exc.errors.values()]
    return uploads


@bp.route("/stories/<int:story_id>/edit", methods=["GET", "POST"])
def edit(story_id: int):
    """Edit every field of any story, including tags, action areas with
    reasons and featured; 422 with the form as sent on any error.

    :raise 403: unless the user is a curator. :raise 404: if there is no such story.
    """
    item = _story(story_id)
    form = edit_form(item)
    if request.method == "GET":
        return edit_page(item, form, {link.action_area.slug: link.reason for link in item.area_links})
    reasons = {area.slug: request.form.get(f"reason-{area.slug}", "") for area in taxonomy.all_action_areas()}
    action = request.form.get("action", "save")
    if action in ("add_organisations", "add_people", "add_links"):
        field = form[action[4:]]
        field.append_entry()
        return edit_page(item, form, reasons, focus=field.entries[-1].id)
    uploads = chosen_uploads(form)
    if form.validate() and not form.attachments.errors and save_edit(item, form, uploads, reasons):
        return done(f"Saved “{item.title}”.", "curate.story", story_id=item.id)
    return edit_page(item, form, reasons, 422)


# Revisions -------------------------------------------------------------------

@bp.get("/stories/<int:story_id>/revisions")
def history(story_id: int):
    """Every revision: who, when, what changed and why.

    :raise 403: unless the user is a curator.
    """
    item = _story(story_id)
    return render_template("curate/revisions.html", story=item, history=revisions.history(actor(), item))


@bp.get("/stories/<int:story_id>/revisions/compare")
def compare(story_id: int):
    """The field-level difference between revisions ``from`` and ``to``.

    :raise 404: if either revision does not exist.
    """
    item = _story(story_id)
    older, newer = request.args.get("from", type=int), request.args.get("to", type=int)
    if older is None or newer is None:
        raise NotFound("Choose two revisions to compare.")
    changes = revisions.compare(actor(), item, older, newer)
    return render_template("curate/compare.html", story=item, older=older, newer=newer, changes=changes,
                           numbers=[r.number for r in revisions.list_revisions(actor(), item)])


@bp.get("/stories/<int:story_id>/revisions/<int:number>")
def revision(story_id: int, number: int):
    """One revision as it was, with the option to restore it.

    :raise 404: if there is no such revision.
    """
    item = _story(story_id)
    found = revisions.get_revision(actor(), item, number)
    changes = revisions.diff_snapshots(found.snapshot, revisions.snapshot(item))
    return render_template("curate/revision.html", story=item, revision=found, changes=changes,
                           labels=revisions.FIELD_LABELS)


@bp.post("/stories/<int:story_id>/revisions/<int:number>/restore")
def restore(story_id: int, number: int):
    """Restore revision ``number`` as a new revision.

    :raise 404: if there is no such revision.
    """
    item = _story(story_id)
    try:
        revisions.restore_revision(actor(), item, number)
    except Invalid as exc:
        flash(f"Revision {number} cannot be restored: {'; '.join(exc.errors.values()) or exc.message}")
        return redirect(url_for("curate.revision", story_id=item.id, number=number), 303)
    return done(f"Restored revision {number}.", "curate.history", story_id=item.id)


# Tag vocabulary ----------------------------------------------------------------

def tags_page(errors: dict | None = None, values: dict | None = None):
    text = request.args.get("q", "")
    return form_page("curate/tags.html", errors, tags=tags.list_tags(actor(), text), q=text, values=values or {})


@bp.get("/tags")
def tag_list():
    """Every tag with its usage count, filterable by name.

    :raise 403: unless the user is a curator.
    """
    return tags_page()


@bp.post("/tags")
def tag_create():
    """Create a tag.

    :raise 403: unless the user may create tags.
    """
    name, description = request.form.get("name", ""), request.form.get("description", "")
    try:
        tag = tags.create_tag(actor(), name, description)
    except (Invalid, Conflict) as exc:
        return tags_page(errors_of(exc, "name"), {"name": name, "description": description})
    return done(f"Created the tag “{tag.name}”.", "curate.tag_detail", tag_id=tag.id)


@bp.get("/tags/duplicates")
def tag_duplicates():
    """Tags that differ only in case, spacing, punctuation or plural, with a merge for each.

    :raise 403: unless the user is a curator.
    """
    return render_template("curate/duplicates.html", groups=tags.near_duplicates(actor()))


def tag_page(tag, errors: dict | None = None, values: dict | None = None):
    others = [u.tag for u in tags.list_tags(actor()) if u.tag.id != tag.id]
    return form_page("curate/tag.html", errors, tag=tag, usage=tags.usage_count(tag), others=others,
                     values=values or {})


@bp.get("/tags/<int:tag_id>")
def tag_detail(tag_id: int):
    """One tag: rename, describe, aliases, merge, delete.

    :raise 404: if there is no such tag.
    """
    return tag_page(tags.get_tag(actor(), tag_id))


def tag_action(tag_id: int, action, field: str, success: str, endpoint: str = "curate.tag_detail"):
    """Run ``action(tag)``; redisplay the tag page with errors (422) if it fails."""
    tag = tags.get_tag(actor(), tag_id)
    try:
        result = action(tag)
    except (Invalid, Conflict) as exc:
        return tag_page(tag, errors_of(exc, field), dict(request.form))
    target = result.id if endpoint == "curate.tag_detail" else None
    return done(success.format(tag=tag, result=result), endpoint, **({"tag_id": target} if target else {}))


@bp.post("/tags/<int:tag_id>/rename")
def tag_rename(tag_id: int):
    """Rename the tag; its old address redirects to the new one."""
    return tag_action(tag_id, lambda tag: tags.rename_tag(actor(), tag, request.form.get("name", "")),
                      "name", "Renamed the tag to “{result.name}”.")


@bp.post("/tags/<int:tag_id>/description")
def tag_describe(tag_id: int):
    """Change the description shown on the tag's page."""
    return tag_action(tag_id, lambda tag: tags.set_description(actor(), tag, request.form.get("description", "")),
                      "description", "Saved the description.")


@bp.post("/tags/<int:tag_id>/aliases")
def tag_add_alias(tag_id: int):
    """Add a synonym that resolves to this tag (in search too)."""
    def add(tag):
        tags.add_alias(actor(), tag, request.form.get("alias", ""))
        return tag

    return tag_action(tag_id, add, "alias", "Added the alias.")


@bp.post("/tags/<int:tag_id>/aliases/<int:alias_id>/delete")
def tag_remove_alias(tag_id: int, alias_id: int):
    """Remove one alias.

    :raise 404: if the tag has no such alias.
    """
    tag = tags.get_tag(actor(), tag_id)
    tags.remove_alias(actor(), tag, alias_id)
    return done("Removed the alias.", "curate.tag_detail", tag_id=tag.id)


def merge_target(form):
    """The tag chosen to merge into, by id (a select) or by name."""
    target_id = form.get("target", type=int)
    if target_id:
        return tags.get_tag(actor(), target_id)
    target = taxonomy.find_tag(form.get("target_name", "") or "x" * 200)
    if target is None:
        raise Invalid("Choose a tag to merge into.", {"target": "Choose a tag to merge into."})
    return target


@bp.post("/tags/<int:tag_id>/merge")
def tag_merge(tag_id: int):
    """Merge this tag into another: its stories carry the other, its name
    becomes an alias, its address redirects."""
    def merge(tag):
        return tags.merge_tags(actor(), tag, merge_target(request.form))

    return tag_action(tag_id, merge, "target", "Merged “{tag.name}” into “{result.name}”.")


@bp.post("/tags/<int:tag_id>/delete")
def tag_delete(tag_id: int):
    """Delete a tag that no story carries.

    :raise 409: if it is in use.
    """
    def delete(tag):
        tags.delete_tag(actor(), tag)
        return tag

    return tag_action(tag_id, delete, "delete", "Deleted the tag “{tag.name}”.", endpoint="curate.tag_list")


# Bulk curation -----------------------------------------------------------------

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


# Audit log ---------------------------------------------------------------------

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
