"""The tag vocabulary: list, create, near-duplicates, and one tag's rename,
description, aliases, merge and delete."""
from __future__ import annotations

from flask import render_template, request

from kb.errors import Conflict, Invalid
from kb.services import tags, taxonomy
from kb.web.curate.common import bp, done, errors_of, form_page
from kb.web.hooks import actor


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
    return form_page("curate/tag.html", errors, tag=tag, usage=tags.usage_count(tag), values=values or {})


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


MERGE_CHOICES = 50


@bp.get("/tags/<int:tag_id>/merge")
def tag_merge_choose(tag_id: int):
    """Find the tag to merge into by name (``q``), then, with ``target``, see
    what the merge will change and confirm it.

    :raise 404: if there is no such tag (or target).
    """
    tag = tags.get_tag(actor(), tag_id)
    text = request.args.get("q", "")[:100]
    target_id = request.args.get("target", type=int)
    if target_id:
        try:
            plan = tags.plan_merge(actor(), tag, tags.get_tag(actor(), target_id))
        except Invalid as exc:
            return merge_choices(tag, text, {"q": next(iter(exc.errors.values()), exc.message)})
        return render_template("curate/tag_merge_confirm.html", plan=plan)
    return merge_choices(tag, text)


def merge_choices(tag, text: str, errors: dict | None = None):
    found = [u for u in tags.list_tags(actor(), text) if u.tag.id != tag.id] if text.strip() else []
    return form_page("curate/tag_merge.html", errors, tag=tag, q=text, found=found[:MERGE_CHOICES],
                     more=max(0, len(found) - MERGE_CHOICES))


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
