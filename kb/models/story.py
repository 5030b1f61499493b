from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.dates import PartialDate
from kb.extensions import db
from kb.models.base import Timestamps
from kb.models.taxonomy import ActionArea, Organisation, Person, Tag
from kb.models.user import User

KINDS = {
    "report": "Report",
    "camp_writeup": "Camp write-up",
    "talk": "Talk",
    "event": "Event",
    "blog_post": "Blog post",
    "case_study": "Case study",
    "reading_list": "Reading list",
    "link": "Link",
}
# The status whose stories readers see.
PUBLISHED = "published"
STATUSES = {
    "draft": "Draft",
    "submitted": "Submitted",
    "changes_requested": "Changes requested",
    PUBLISHED: "Published",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
}
# The sections of a case record, in reading order: field -> (heading, hint for the form).
SECTIONS = {
    "challenge": ("The challenge", "The problem: who had it, how big it was, why it mattered."),
    "approach": ("What was done", "The idea and how it was put into practice: who did what, and when."),
    "results": ("Results and evidence", "What changed, what was measured and found, and how sure you are."),
    "costs": ("Costs", "What it took: money, people and time, to set up and to keep going."),
    "lessons": ("Lessons", "What did not work, and what you would do differently."),
    "replication": ("How to copy it", "What another organisation needs to do it: steps, documents, people to ask."),
}
# Nesta's Standards of Evidence, 0 to 5: level -> (short label, what it means).
EVIDENCE_LEVELS = {
    0: ("Not yet assessed", "No one has yet judged the evidence for this story."),
    1: ("Level 1: described", "The story describes what was done and why it should work."),
    2: ("Level 2: data shows a change", "Data shows a change after it was done."),
    3: ("Level 3: shown to cause the change",
        "A comparison or control group shows the change was caused by it."),
    4: ("Level 4: independently confirmed", "One or more independent evaluations confirm it."),
    5: ("Level 5: replicated at scale",
        "It has been replicated at scale, with manuals or systems to keep it faithful to the original."),
}
STAGES = {
    "idea": "Idea",
    "development": "In development",
    "pilot": "Pilot",
    "implemented": "Implemented",
    "scaling": "Scaling",
    "mainstream": "Mainstream",
    "discontinued": "No longer in use",
}
# The level of government a story's work happened at.
GOVERNMENT_LEVELS = {
    "local": "Local",
    "regional": "Regional",
    "national": "National",
    "international": "Across countries",
}

# The longest text each field may hold, in characters, defined once: the
# columns below are declared with these, and the services' checks, the story
# forms, the API schema and the importers' shortening all read them from here.
# A Text column has no length in the database; its limit here is kb's own.
SECTION_LIMIT = 20_000
LIMITS = {
    "title": 300, "slug": 320, "summary": 1000, "body": 200_000, "place": 200, "sector": 200,
    **dict.fromkeys(SECTIONS, SECTION_LIMIT), "evidence_level_reason": 2000,
    "contact_name": 200, "contact_role": 200, "contact_organisation": 200, "contact_email": 320,
    "contact_url": 2000, "source": 50, "source_id": 300,
    # Parts of a story: a name (organisation, person, tag suggestion), a link, an
    # adoption's note, a curator's reason for filing it in an action area.
    "name": 200, "link_url": 2000, "link_title": 500, "adoption_note": 500, "area_reason": 300,
}
# The most items of a story's lists that one save accepts.
MAX_LINKS = 500
MAX_ADOPTIONS = 200

story_tags = Table(
    "story_tags",
    db.metadata,
    Column("story_id", ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)
StoryTag = story_tags

story_related = Table(
    "story_related",
    db.metadata,
    Column("story_id", ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("related_id", ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
)


class StoryOrganisation(db.Model):
    __tablename__ = "story_organisations"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class StoryPerson(db.Model):
    __tablename__ = "story_people"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    person: Mapped[Person] = relationship(lazy="joined")


class StoryActionArea(db.Model):
    """A story's place in one action area, with the curator's one-line reason."""

    __tablename__ = "story_action_areas"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    action_area_id: Mapped[int] = mapped_column(
        ForeignKey("action_areas.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(LIMITS["area_reason"]), default="")

    action_area: Mapped[ActionArea] = relationship(lazy="joined")


class Adoption(db.Model):
    """An organisation that took up the story's idea: when, with a note on how it
    was adapted, and the adopter's own story if kb has one."""

    __tablename__ = "adoptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    adopter_story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    note: Mapped[str] = mapped_column(String(LIMITS["adoption_note"]), default="")

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    story: Mapped["Story"] = relationship(foreign_keys=[story_id], back_populates="adoptions")
    adopter_story: Mapped["Story | None"] = relationship(foreign_keys=[adopter_story_id])


class Link(db.Model):
    """A URL the story points to: its source, a video, further reading. A
    reading list is a story made of links."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    url: Mapped[str] = mapped_column(String(LIMITS["link_url"]))
    title: Mapped[str] = mapped_column(String(LIMITS["link_title"]), default="")
    rel: Mapped[str] = mapped_column(String(20), default="related")
    tags: Mapped[list] = mapped_column(JSON, default=list)


LINK_RELS = {
    "source": "Source",
    "document": "Document",
    "video": "Video",
    "related": "Further reading",
}


class Attachment(db.Model):
    """A document kept under the instance folder by content hash."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The extracted text (up to megabytes) is read only to index it (``undefer``): pages list attachments.
    text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    # "ok", or "failed" when the text could not be extracted (encrypted, image-only, corrupt).
    text_status: Mapped[str] = mapped_column(String(20), default="ok")

    story: Mapped["Story"] = relationship(back_populates="attachments")


class Story(Timestamps, db.Model):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(LIMITS["title"]))
    slug: Mapped[str] = mapped_column(String(LIMITS["slug"]), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="", index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    # When the original appeared: the first day of its year or month when only
    # those are known, with the precision it was given to ("year", "month",
    # "day"; "" when there is no date). Read and set both as ``published``.
    published_on: Mapped[date | None] = mapped_column(Date)
    published_on_precision: Mapped[str] = mapped_column(String(5), default="")
    place: Mapped[str] = mapped_column(String(LIMITS["place"]), default="")
    sector: Mapped[str] = mapped_column(String(LIMITS["sector"]), default="")
    stage: Mapped[str] = mapped_column(String(20), default="")
    # The case record's sections (see SECTIONS), each optional Markdown.
    challenge: Mapped[str] = mapped_column(Text, default="")
    approach: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    costs: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    replication: Mapped[str] = mapped_column(Text, default="")
    # Set by curators; contributors propose a level with a reason.
    evidence_level: Mapped[int] = mapped_column(Integer, default=0, index=True)
    proposed_evidence_level: Mapped[int | None] = mapped_column(Integer)
    evidence_level_reason: Mapped[str] = mapped_column(Text, default="")
    # Whom to ask; shown only when the contributor confirms the contact agreed,
    # and not when a curator hid it.
    contact_name: Mapped[str] = mapped_column(String(LIMITS["contact_name"]), default="")
    contact_role: Mapped[str] = mapped_column(String(LIMITS["contact_role"]), default="")
    contact_organisation: Mapped[str] = mapped_column(String(LIMITS["contact_organisation"]), default="")
    contact_email: Mapped[str] = mapped_column(String(LIMITS["contact_email"]), default="")
    contact_url: Mapped[str] = mapped_column(String(LIMITS["contact_url"]), default="")
    contact_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where it happened, as data: ISO 3166-1 alpha-2, and in the UK an ONS GSS
    # code from kb/reference (region and nation come from there). ``place`` stays for display.
    country: Mapped[str] = mapped_column(String(2), default="", index=True)
    authority_code: Mapped[str] = mapped_column(String(9), default="", index=True)
    adapted_from_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The curator's latest note to the contributor (changes requested, rejection reason).
    review_note: Mapped[str] = mapped_column(Text, default="")
    # What the contributor suggested; curators decide.
    suggested_tags: Mapped[list] = mapped_column(JSON, default=list)
    suggested_areas: Mapped[list] = mapped_column(JSON, default=list)
    # The ways of working a story used (an import's ``method:`` tags), and its level of government.
    methods: Mapped[list] = mapped_column(JSON, default=list)
    government_level: Mapped[str] = mapped_column(String(20), default="", index=True)
    # Where an imported story came from, so that a second import skips it.
    source: Mapped[str] = mapped_column(String(LIMITS["source"]), default="", index=True)
    source_id: Mapped[str] = mapped_column(String(LIMITS["source_id"]), default="")
    # An import's flag for curators: this story has the same normalised title and
    # organisations (kb.likeness.title_key) as that one. Cleared by a merge or a dismissal.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    # A story merged into another: withdrawn, and its address leads to that one.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)
    first_published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    submitted_by: Mapped[User | None] = relationship()
    organisation_links: Mapped[list[StoryOrganisation]] = relationship(
        order_by=StoryOrganisation.position,
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )
    organisations: AssociationProxy[list[Organisation]] = association_proxy(
        "organisation_links", "organisation", creator=lambda o: StoryOrganisation(organisation=o)
    )
    person_links: Mapped[list[StoryPerson]] = relationship(
        order_by=StoryPerson.position,
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )
    people: AssociationProxy[list[Person]] = association_proxy(
        "person_links", "person", creator=lambda p: StoryPerson(person=p)
    )
    area_links: Mapped[list[StoryActionArea]] = relationship(
        cascade="all, delete-orphan", order_by=StoryActionArea.action_area_id
    )
    links: Mapped[list[Link]] = relationship(
        order_by=Link.position, collection_class=ordering_list("position"), cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="story",
        order_by=Attachment.position,
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )
    tags: Mapped[list[Tag]] = relationship(secondary=story_tags, order_by=Tag.name)
    adoptions: Mapped[list[Adoption]] = relationship(
        foreign_keys=[Adoption.story_id], back_populates="story", order_by=Adoption.position,
        collection_class=ordering_list("position"), cascade="all, delete-orphan",
    )
    adapted_from: Mapped["Story | None"] = relationship(remote_side=lambda: Story.id, foreign_keys=[adapted_from_id])
    duplicate_of: Mapped["Story | None"] = relationship(remote_side=lambda: Story.id, foreign_keys=[duplicate_of_id])
    merged_into: Mapped["Story | None"] = relationship(remote_side=lambda: Story.id, foreign_keys=[merged_into_id])
    related: Mapped[list["Story"]] = relationship(
        secondary=story_related,
        primaryjoin=lambda: Story.id == story_related.c.story_id,
        secondaryjoin=lambda: Story.id == story_related.c.related_id,
        order_by=lambda: Story.title,
    )

    @property
    def action_areas(self) -> list[ActionArea]:
        return sorted((link.action_area for link in self.area_links), key=lambda a: a.position)

    @property
    def published(self) -> PartialDate | None:
        """When the original appeared, to the precision it was given."""
        return PartialDate.of(self.published_on, self.published_on_precision)

    @published.setter
    def published(self, value: PartialDate | None) -> None:
        self.published_on = value.day if value else None
        self.published_on_precision = value.precision if value else ""

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def stage_label(self) -> str:
        return STAGES.get(self.stage, self.stage)

    @property
    def government_level_label(self) -> str:
        return GOVERNMENT_LEVELS.get(self.government_level, self.government_level)

    @property
    def evidence_level_label(self) -> str:
        return EVIDENCE_LEVELS.get(self.evidence_level or 0, EVIDENCE_LEVELS[0])[0]

    @property
    def sections(self) -> list[tuple[str, str, str]]:
        """(field, heading, text) of each section that has text, in reading order."""
        return [(name, heading, getattr(self, name)) for name, (heading, _) in SECTIONS.items()
                if getattr(self, name)]

    @property
    def has_contact(self) -> bool:
        return bool(self.contact_name and (self.contact_email or self.contact_url))

    @property
    def contact_shown(self) -> bool:
        """Whether readers see the contact: confirmed as agreed, not hidden by a curator."""
        return self.has_contact and self.contact_agreed and not self.contact_hidden

    @hybrid_property
    def is_published(self) -> bool:
        """Whether readers see it; in a query, ``where(Story.is_published)``."""
        return self.status == PUBLISHED

    def __repr__(self) -> str:
        return f"<Story {self.slug} {self.status}>"


# Stories newest first (``listing.newest_first``: date descending, undated last,
# then id) read straight off this index, not sorted whole for each page: at
# 5,000 stories the sort took 5-7 ms a page. SQLite puts NULL below every date,
# so its descending index already has the undated last, and it has no NULLS LAST.
Index("ix_stories_newest", Story.status, Story.published_on.desc().nulls_last(), Story.id.desc()).ddl_if(
    dialect="postgresql")
Index("ix_stories_newest_sqlite", Story.status, Story.published_on.desc(), Story.id.desc()).ddl_if(dialect="sqlite")
