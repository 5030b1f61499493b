"""The story form: it checks the shape of what was sent and translates it into
the services' dict of domain field names (and back, from a story, for editing).
Business rules (what a story needs before review, who may do what) stay in the
services; ``add_errors`` puts the services' per-field messages on the form.
Length limits come from ``LIMITS`` in kb/models/story.py.

``StoryForm`` is the base for everyone who edits a story: a curator's form
subclasses it, adds its own fields and lists them in ``DOMAIN_FIELDS``.
"""
from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import Form
from wtforms.fields import (
    BooleanField,
    FieldList,
    FormField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from kb import reference
from kb.models import EVIDENCE_LEVELS, KINDS, SECTIONS, STAGES
from kb.models.story import LIMITS, LINK_RELS, MAX_ADOPTIONS, MAX_LINKS
from kb.services.story_input import is_web_url
from kb.web.forms import BaseForm, GovDateField, choices, error_anchor, strip


def within(field: str, noun: str) -> Length:
    """The length check of a story's ``field`` (``LIMITS`` in kb/models/story.py)."""
    limit = LIMITS[field]
    return Length(max=limit, message=f"{noun} must be {limit:,} characters or fewer")


class LinkForm(Form):
    """One link of a story: a web address, the text to show, and what it is."""

    url = StringField("Web address", filters=[strip], widget=GovTextInput())
    title = StringField("Link text", filters=[strip], widget=GovTextInput(),
                        description="For example, the report's title. Leave empty to show the address.")
    rel = SelectField("What it is", choices=choices(LINK_RELS), default="related", widget=GovSelect())

    def validate_url(self, field):
        if field.data and not is_web_url(field.data):
            raise ValidationError("Enter a full web address, like https://www.example.org/report")
        if not field.data and self.title.data:
            raise ValidationError("Enter the web address for this link, or remove its text")

    @property
    def is_empty(self) -> bool:
        return not (self.url.data or self.title.data)


class AdoptionForm(Form):
    """One organisation that took the idea up."""

    organisation = StringField("Organisation", filters=[strip], widget=GovTextInput(),
                               validators=[within("name", "The organisation")])
    year = StringField("Year", filters=[strip], widget=GovTextInput(),
                       validators=[Regexp(r"^(\d{4})?$", message="Enter the year as four digits, like 2019")])
    story = StringField("Their own story in kb (optional)", filters=[strip], widget=GovTextInput(),
                        description="The address of the story, like /stories/their-story, or its last part.")
    note = StringField("How they adapted it (optional)", filters=[strip], widget=GovTextInput(),
                       description="For example, adapted for rural areas.",
                       validators=[within("adoption_note", "The note")])

    def validate_organisation(self, field):
        if not field.data and (self.year.data or self.story.data or self.note.data):
            raise ValidationError("Enter the organisation that took the idea up")

    @property
    def is_empty(self) -> bool:
        return not (self.organisation.data or self.year.data or self.story.data or self.note.data)


def story_slug(text: str | None) -> str:
    """A story's slug from its slug or any address of its page."""
    text = (text or "").strip().rstrip("/")
    if "/stories/" in text:
        text = text.split("/stories/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    return text


def section_field(name: str) -> TextAreaField:
    heading, hint = SECTIONS[name]
    return TextAreaField(heading, filters=[strip], widget=GovCharacterCount(), description=hint + " You can use Markdown.",
                         validators=[within(name, heading)])


LEVEL_CHOICES = [SelectChoice(str(level), label) for level, (label, _) in EVIDENCE_LEVELS.items()]


class NamesField(FieldList):
    """Any number of names (organisations, people), one text input each."""

    def __init__(self, label, **kwargs):
        super().__init__(StringField(filters=[strip], widget=GovTextInput(),
                                     validators=[within("name", "Names")]),
                         label, min_entries=1, max_entries=100, **kwargs)

    @property
    def names(self) -> list[str]:
        return [entry.data for entry in self.entries if entry.data]


# Story -------------------------------------------------------------------------

class StoryForm(BaseForm):
    """Every field a contributor fills in for a story, named as in the domain.

    Call ``set_choices(action_areas)`` before validating or rendering.
    """

    # Form field -> domain field, for every field this form edits; subclasses add theirs.
    DOMAIN_FIELDS = (
        "title", "kind", "summary", "body", "published_on", "organisations", "people", "place",
        "country", "authority_code", "sector", "stage", *SECTIONS, "proposed_evidence_level",
        "evidence_level_reason", "contact_name", "contact_role", "contact_organisation", "contact_email",
        "contact_url", "contact_agreed", "adapted_from", "adoptions", "links", "suggested_tags", "suggested_areas",
    )

    title = StringField("Title", filters=[strip], widget=GovTextInput(),
                        validators=[DataRequired("Enter a title"), within("title", "Title")])
    kind = SelectField("What kind of story is it?", choices=choices(KINDS, "Choose a kind"), default="",
                       widget=GovSelect())
    summary = TextAreaField("Summary", filters=[strip], widget=GovCharacterCount(),
                            description="One or two sentences: what was tried, where, and what happened.",
                            validators=[within("summary", "Summary")])
    body = TextAreaField("The story", filters=[strip], widget=GovTextArea(),
                         description="Tell the story in full. You can use Markdown: **bold**, [a link](https://…), "
                                     "# headings, - lists. Preview it before you submit.",
                         validators=[within("body", "The story")])
    published_on = GovDateField("When was it first published?", noun="Date first published")
    organisations = NamesField("Organisations")
    people = NamesField("People")
    place = StringField("Place", filters=[strip], widget=GovTextInput(),
                        description="For example, Barnsley or the North West.",
                        validators=[within("place", "Place")])
    sector = StringField("Sector", filters=[strip], widget=GovTextInput(),
                         description="For example, local government, health or policing.",
                         validators=[within("sector", "Sector")])
    stage = SelectField("How far has the idea got?", choices=choices(STAGES, "Not known"), default="",
                        widget=GovSelect())
    country = SelectField("Country", choices=choices(dict(reference.countries()), "Not known"), default="",
                          widget=GovSelect())
    authority_code = StringField("UK local authority", filters=[strip], widget=GovTextInput(),
                                 description="The council area it happened in, for example Barnsley. "
                                             "Start typing to pick one.")
    challenge = section_field("challenge")
    approach = section_field("approach")
    results = section_field("results")
    costs = section_field("costs")
    lessons = section_field("lessons")
    replication = section_field("replication")
    proposed_evidence_level = SelectField("How strong is the evidence?", choices=LEVEL_CHOICES, default="0",
                                          widget=GovRadioInput(), validate_choice=False)
    evidence_level_reason = TextAreaField("Why this level?", filters=[strip], widget=GovTextArea(),
                                          description="For example, name the evaluation or the comparison group.",
                                          validators=[within("evidence_level_reason", "The reason")])
    contact_name = StringField("Name", filters=[strip], widget=GovTextInput(),
                               validators=[within("contact_name", "The contact's name")])
    contact_role = StringField("Role", filters=[strip], widget=GovTextInput(),
                               validators=[within("contact_role", "The contact's role")])
    contact_organisation = StringField(
        "Organisation", filters=[strip], widget=GovTextInput(),
        validators=[within("contact_organisation", "The contact's organisation")])
    contact_email = StringField("Email address", filters=[strip], widget=GovTextInput())
    contact_url = StringField("Or a contact page", filters=[strip], widget=GovTextInput(),
                              description="Its full address, if they would rather not give an email address.")
    contact_agreed = BooleanField("The contact has agreed to be named here, so readers can ask them about it",
                                  widget=GovCheckboxInput())
    adapted_from = StringField("Adapted from another story in kb (optional)", filters=[strip], widget=GovTextInput(),
                               description="If this idea was copied from elsewhere: the address of that story, "
                                           "like /stories/their-story.")
    adoptions = FieldList(FormField(AdoptionForm), "Who took it up", min_entries=1,
                          max_entries=MAX_ADOPTIONS)
    links = FieldList(FormField(LinkForm), "Links", min_entries=1, max_entries=MAX_LINKS)
    attachments = MultipleFileField("Add documents", widget=GovFileInput(multiple=True),
                                    description="PDF or plain text files, each smaller than 20 MB.")
    # Files chosen earlier, kept while the form is shown again; values are signed tokens.
    pending_attachments = SelectMultipleField("Documents you have chosen", choices=[], validate_choice=False,
                                              widget=GovCheckboxesInput())
    remove_attachments = SelectMultipleField("Remove documents", choices=[], widget=GovCheckboxesInput())
    suggested_areas = SelectMultipleField("Which action areas does it speak to?", choices=[],
                                          widget=GovCheckboxesInput(),
                                          description="Suggest any that fit. Curators decide.")
    suggested_tags = StringField("Suggested tags", filters=[strip], widget=GovTextInput(),
                                 description="Separate tags with commas, for example: data, housing, agile.")

    def set_choices(self, action_areas) -> StoryForm:
        self.suggested_areas.choices = [SelectChoice(area.slug, area.name) for area in action_areas]
        return self

    # Translating ---------------------------------------------------------------

    def to_fields(self) -> dict:
        """The services' dict of domain field names, from the data as sent."""
        fields = {name: self[name].data for name in self.DOMAIN_FIELDS if name in self}
        for name in ("organisations", "people"):
            if name in fields:
                fields[name] = self[name].names
        if "links" in fields:
            fields["links"] = [
                {"url": entry.form.url.data, "title": entry.form.title.data, "rel": entry.form.rel.data}
                for entry in self.links.entries if not entry.form.is_empty
            ]
        if "suggested_tags" in fields:
            fields["suggested_tags"] = [tag.strip() for tag in (fields["suggested_tags"] or "").split(",")]
        if "suggested_areas" in fields:
            fields["suggested_areas"] = list(fields["suggested_areas"] or [])
        if "adapted_from" in fields:
            fields["adapted_from"] = story_slug(fields["adapted_from"])
        if "adoptions" in fields:
            fields["adoptions"] = [
                {"organisation": entry.form.organisation.data, "year": entry.form.year.data,
                 "story": story_slug(entry.form.story.data), "note": entry.form.note.data}
                for entry in self.adoptions.entries if not entry.form.is_empty
            ]
        if "contact_agreed" in fields:
            fields["contact_agreed"] = bool(fields["contact_agreed"])
        return fields

    @classmethod
    def story_data(cls, story) -> dict:
        """The form's data for an existing story, to edit it."""
        return {
            "title": story.title, "kind": story.kind, "summary": story.summary, "body": story.body,
            "published_on": story.published, "place": story.place, "sector": story.sector,
            "stage": story.stage, **{name: getattr(story, name) for name in SECTIONS},
            "country": story.country or "",
            "authority_code": reference.authorities()[story.authority_code].name
            if story.authority_code in reference.authorities() else story.authority_code,
            "proposed_evidence_level": str(story.proposed_evidence_level if story.proposed_evidence_level is not None
                                           else 0),
            "evidence_level_reason": story.evidence_level_reason,
            "contact_name": story.contact_name, "contact_role": story.contact_role,
            "contact_organisation": story.contact_organisation, "contact_email": story.contact_email,
            "contact_url": story.contact_url, "contact_agreed": story.contact_agreed,
            "adapted_from": story.adapted_from.slug if story.adapted_from else "",
            "adoptions": [{"organisation": a.organisation.name, "year": str(a.year or ""),
                           "story": a.adopter_story.slug if a.adopter_story else "", "note": a.note}
                          for a in story.adoptions],
            "organisations": [o.name for o in story.organisations],
            "people": [p.name for p in story.people],
            "links": [{"url": link.url, "title": link.title, "rel": link.rel} for link in story.links],
            "suggested_tags": ", ".join(story.suggested_tags or []),
            "suggested_areas": list(story.suggested_areas or []),
        }

    @classmethod
    def for_story(cls, story, action_areas, **kwargs) -> StoryForm:
        """The form filled in from ``story`` (GET), or from the request (POST)."""
        return cls(data=cls.story_data(story), **kwargs).set_choices(action_areas)

    # Errors --------------------------------------------------------------------

    def add_errors(self, errors: dict[str, str]) -> None:
        """Show the services' messages ({domain field: message}) at their fields."""
        self.list_errors = getattr(self, "list_errors", {})
        for name, message in errors.items():
            field = self._fields.get(name)
            if isinstance(field, FieldList):
                self.list_errors[name] = message
            elif field is not None:
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)

    def pad(self) -> None:
        """One empty row at the end of each list, to add another without scripts."""
        for name in ("organisations", "people", "links", "adoptions"):
            field = self[name]
            last = field.entries[-1] if field.entries else None
            filled = last is not None and (last.data if name in ("organisations", "people") else not last.form.is_empty)
            if (last is None or filled) and len(field.entries) < field.max_entries:
                field.append_entry()

    def error_list(self) -> list[dict]:
        """Every message, in page order, for the GOV.UK error summary: text and link."""
        items = [{"text": message, "href": "#main-content"} for message in self.form_errors]
        for field in self:
            if isinstance(field, FieldList):
                if getattr(self, "list_errors", {}).get(field.name):
                    items.append({"text": self.list_errors[field.name], "href": f"#{field.id}"})
                for entry in field.entries:
                    for sub in (entry.form if isinstance(entry, FormField) else [entry]):
                        if sub.errors:
                            items.append({"text": sub.errors[0], "href": f"#{sub.id}"})
            elif field.errors:
                items.append({"text": field.errors[0], "href": f"#{error_anchor(field)}"})
        return items

    def has_errors(self) -> bool:
        return bool(self.error_list())
