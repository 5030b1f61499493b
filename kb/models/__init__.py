"""SQLAlchemy models. No Flask request, no search engine here."""
from kb.models.audit import AuditEvent, IndexChange, Revision
from kb.models.job import JOB_STATES, ImportJob
from kb.models.mail import FREQUENCIES, AlertDelivery, OutboxMessage, SavedSearch, SearchText, SiteSetting
from kb.models.story import (
    EVIDENCE_LEVELS,
    GOVERNMENT_LEVELS,
    KINDS,
    SECTIONS,
    STAGES,
    STATUSES,
    Adoption,
    Attachment,
    Link,
    Story,
    StoryActionArea,
    StoryTag,
)
from kb.models.suggestion import AreaSuggestion, SuggestionDecline, SuggestionModel, TagSuggestion
from kb.models.taxonomy import ActionArea, Organisation, Person, Tag, TagAlias
from kb.models.user import ROLES, ApiToken, Attempt, User

__all__ = [
    "EVIDENCE_LEVELS", "GOVERNMENT_LEVELS", "KINDS", "SECTIONS", "STAGES", "STATUSES", "ROLES",
    "ActionArea", "Adoption", "ImportJob", "JOB_STATES", "AreaSuggestion", "SuggestionDecline", "SuggestionModel", "TagSuggestion", "AlertDelivery", "ApiToken", "FREQUENCIES", "OutboxMessage", "SavedSearch", "SearchText", "SiteSetting", "Attachment", "AuditEvent", "IndexChange", "Link",
    "Organisation", "Person", "Revision", "Story", "StoryActionArea", "StoryTag",
    "Tag", "TagAlias", "User", "Attempt",
]
