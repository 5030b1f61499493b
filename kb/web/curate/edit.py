"""Editing every field of any story, including what only curators set."""
from __future__ import annotations

from flask import current_app, render_template, request
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovTextArea,
    GovTextInput,
)
from wtforms.fields import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from kb.errors import Invalid
from kb.models import Organisation, Person
from kb.services import saving, taxonomy
from kb.web.curate.common import bp, done, story_for_curation

from kb.web.story_form import LEVEL_CHOICES, StoryForm
from kb.web.hooks import actor
from kb.web.uploads import keep_uploads, offer_removal


class CuratorStoryForm(StoryForm):
    """The contributors' story form plus what only curators set: tags from the
    vocabulary, action areas with a one-line reason each, featured, and the
    reason for the change."""

    DOMAIN_FIELDS = StoryForm.DOMAIN_FIELDS + ("tags", "featured", "evidence_level", "contact_hidden")

    tags = TextAreaField("Tags", filters=[lambda v: v.strip() if isinstance(v, str) else v], widget=GovTextArea(),
                         description="One tag a line. A name, old name or alias of a tag is kept as that tag; "
                                     "other names become new tags.")
    action_areas = SelectMultipleField("Action areas", choices=[], widget=GovCheckboxesInput())
    featured = BooleanField("Feature this story on the home page", widget=GovCheckboxInput())
    evidence_level = SelectField("Evidence level", choices=LEVEL_CHOICES, default="0", widget=GovRadioInput(),
                                 validate_choice=False)
    contact_hidden = BooleanField("Hide the contact from readers", widget=GovCheckboxInput())
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
        fields["contact_hidden"] = bool(self.contact_hidden.data)
        return fields

    @classmethod
    def story_data(cls, story) -> dict:
        return {
            **StoryForm.story_data(story),
            "tags": "\n".join(t.name for t in story.tags),
            "featured": story.featured,
            "evidence_level": str(story.evidence_level or 0),
            "contact_hidden": story.contact_hidden,
            "action_areas": [link.action_area.slug for link in story.area_links],
        }


def edit_form(story) -> CuratorStoryForm:
    areas = taxonomy.all_action_areas()
    if request.method == "GET":
        form = CuratorStoryForm.for_story(story, areas, formdata=None)
    else:
        form = CuratorStoryForm().set_choices(areas)
    return offer_removal(form, story)


def edit_page(story, form, reasons: dict, status: int = 200, focus: str = ""):
    form.pad()
    return render_template("curate/edit.html", story=story, form=form, reasons=reasons, focus=focus,
                           areas=taxonomy.all_action_areas(), errors=form.error_list(),
                           organisation_names=taxonomy.known_names(Organisation),
                           person_names=taxonomy.known_names(Person)), status


def save_edit(story, form, uploads, reasons: dict) -> bool:
    """Save the form as one change; False (messages on the form) if Invalid."""
    data = form.to_fields()
    data["action_areas"] = [{"slug": slug, "reason": reasons.get(slug, "")} for slug in form.action_areas.data or []]
    try:
        saving.save_story(actor(), story, data, uploads=uploads, app=current_app, remove=form.remove_attachments.data or [],
                          reason=form.reason.data or "", curating=True)
    except Invalid as exc:
        form.add_errors(exc.errors or {"title": exc.message})
        return False
    return True


@bp.route("/stories/<int:story_id>/edit", methods=["GET", "POST"])
def edit(story_id: int):
    """Edit every field of any story, including tags, action areas with
    reasons and featured; 422 with the form as sent on any error.

    :raise 403: unless the user is a curator. :raise 404: if there is no such story.
    """
    item = story_for_curation(story_id)
    form = edit_form(item)
    if request.method == "GET":
        return edit_page(item, form, {link.action_area.slug: link.reason for link in item.area_links})
    reasons = {area.slug: request.form.get(f"reason-{area.slug}", "") for area in taxonomy.all_action_areas()}
    action = request.form.get("action", "save")
    # Before "add another": the documents chosen so far stay on the page it shows.
    uploads, problems = keep_uploads(form)
    if action in ("add_organisations", "add_people", "add_links", "add_adoptions"):
        field = form[action[4:]]
        field.append_entry()
        return edit_page(item, form, reasons, focus=field.entries[-1].id)
    valid = form.validate()
    form.attachments.errors = [*form.attachments.errors, *problems]
    if valid and not problems and save_edit(item, form, uploads, reasons):
        return done(f"Saved “{item.title}”.", "curate.story", story_id=item.id)
    return edit_page(item, form, reasons, 422)
