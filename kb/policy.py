"""Who may do what. The only place that decides; services call ``require``.

Every function takes the acting user first: a ``User``, Flask-Login's
anonymous user, or ``SYSTEM`` (the CLI, seeding and imports run by an
operator). They answer True or False and never touch the database.
"""
from __future__ import annotations

from kb.errors import Forbidden
from kb.models.story import PUBLISHED, STATUSES

EDITABLE_BY_CONTRIBUTOR = ("draft", "changes_requested")
SUBMITTABLE = ("draft", "changes_requested", "withdrawn")
WITHDRAWABLE = ("draft", "submitted", "changes_requested")
CURATOR_ROLES = ("curator", "admin")  # the accounts that curate; the operator curates too


class SystemActor:
    """The operator at the command line: may do everything, is recorded as no user."""

    id = None
    role = "system"
    display_name = "System"
    email = ""
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __repr__(self) -> str:
        return "<SYSTEM>"


SYSTEM = SystemActor()


def role_of(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not getattr(user, "is_active", False):
        return None
    return getattr(user, "role", None)


def is_signed_in(user) -> bool:
    return role_of(user) is not None


def is_curator(user) -> bool:
    return role_of(user) in (*CURATOR_ROLES, "system")


def is_admin(user) -> bool:
    return role_of(user) in ("admin", "system")


def is_confirmed(user) -> bool:
    """The person has confirmed their email address (staff and the operator count as confirmed)."""
    return is_curator(user) or (is_signed_in(user) and getattr(user, "email_confirmed_at", None) is not None)


def is_owner(user, story) -> bool:
    return is_signed_in(user) and user.id is not None and story.submitted_by_id == user.id


# Stories -----------------------------------------------------------------

def can_view_story(user, story) -> bool:
    return story.is_published or is_curator(user) or is_owner(user, story)


def visible_statuses(user, wanted=()) -> tuple[str, ...]:
    """The statuses whose stories ``user`` finds in search and lists: the
    ``wanted`` ones for a curator who asks for some, published otherwise."""
    chosen = tuple(status for status in wanted if status in STATUSES)
    return chosen if chosen and is_curator(user) else (PUBLISHED,)


def visible_related(user, story) -> list:
    """The related stories shown with ``story`` (page, API, export): published
    ones only, for everyone, since a link there is for readers to follow."""
    return [other for other in story.related if other.is_published]


def can_create_story(user) -> bool:
    return is_signed_in(user)


def can_edit_story(user, story) -> bool:
    if is_curator(user):
        return True
    return is_owner(user, story) and story.status in EDITABLE_BY_CONTRIBUTOR


def can_submit_story(user, story) -> bool:
    """Send for review: curators, or the owner once their email address is confirmed
    (until then they can write drafts)."""
    return ((is_owner(user, story) and is_confirmed(user)) or is_curator(user)) and story.status in SUBMITTABLE


def can_withdraw_story(user, story) -> bool:
    return is_owner(user, story) and story.status in WITHDRAWABLE


def can_request_changes(user, story) -> bool:
    """Send a story back to its contributor with a note."""
    return is_curator(user) and story.status in ("submitted", "draft", "withdrawn")


def can_reject_story(user, story) -> bool:
    return is_curator(user) and story.status in ("submitted", "changes_requested", "draft", "withdrawn")


def can_publish_story(user, story) -> bool:
    return is_curator(user) and not story.is_published


def can_unpublish_story(user, story) -> bool:
    return is_curator(user) and story.is_published


def can_curate_story(user, story=None) -> bool:
    """Set action areas, accepted tags, featured, related stories."""
    return is_curator(user)


def can_view_suggestions(user) -> bool:
    """See kb's filing suggestions (areas and tags) and their counts: never readers."""
    return is_curator(user)


def can_refresh_suggestions(user) -> bool:
    """Recompute every story's suggestions (the operator at the command line, or a curator)."""
    return is_curator(user)


def can_see_contact(user, story) -> bool:
    """Readers see a story's contact only when the contributor confirmed the contact
    agreed and no curator hid it; curators and the contributor always see it."""
    return bool(story.contact_shown) or (story.has_contact and (is_owner(user, story) or can_curate_story(user, story)))


def can_edit_organisation(user, organisation=None) -> bool:
    """Curators set an organisation's details (its home authority)."""
    return can_curate_story(user)


def can_view_revisions(user, story) -> bool:
    return is_curator(user) or is_owner(user, story)


def can_restore_revision(user, story) -> bool:
    return is_curator(user)


# Vocabulary, queue, audit, users -----------------------------------------

def can_view_queue(user) -> bool:
    return is_curator(user)


def can_manage_tags(user) -> bool:
    return is_curator(user)


def can_create_tag(user) -> bool:
    return is_curator(user)


def can_view_audit_log(user) -> bool:
    return is_curator(user)


def can_import(user) -> bool:
    return is_curator(user)


def can_view_import_job(user, job) -> bool:
    """See an import's progress and report: whoever started it while they may
    import, and every curator."""
    started_it = getattr(user, "id", None) is not None and getattr(user, "id", None) == job.user_id
    return (started_it and can_import(user)) or is_curator(user)


def can_resume_import_job(user, job) -> bool:
    """Run again an import that stopped: those who may see it, if they may import."""
    return can_view_import_job(user, job) and can_import(user)


def can_set_story_source(user, story=None) -> bool:
    """Set where a story came from (source, source id): imports do it; by hand, only curators."""
    return is_curator(user)


def can_merge_stories(user) -> bool:
    """See the stories an import flagged as near-duplicates, merge one into
    another, or dismiss the flag: curators."""
    return is_curator(user)


def can_publish_imported(user) -> bool:
    """Import stories straight into published (others' imports await review)."""
    return is_curator(user)


# API tokens --------------------------------------------------------------

def can_create_api_token(user) -> bool:
    return is_signed_in(user) and getattr(user, "id", None) is not None


def can_manage_api_token(user, token) -> bool:
    """See and revoke a token: its owner, or an admin."""
    return is_signed_in(user) and (getattr(user, "id", None) == token.user_id or is_admin(user))


def can_view_api_tokens(user, owner) -> bool:
    """List someone's tokens: the owner, or an admin."""
    return is_signed_in(user) and (getattr(user, "id", None) == owner.id or is_admin(user))


def can_manage_users(user) -> bool:
    return is_admin(user)


def can_create_user(user, role: str) -> bool:
    """Anyone may register as a contributor; other roles need an admin."""
    return role == "contributor" or can_manage_users(user)


def vouches_for_email(user) -> bool:
    """An account this person creates starts with its address confirmed (an admin or the operator)."""
    return is_admin(user)


def can_set_password(user, target) -> bool:
    """Set an account's password: its holder, or an admin."""
    return is_admin(user) or (is_signed_in(user) and getattr(user, "id", None) == target.id)


def can_manage_action_areas(user) -> bool:
    """Create or reword the action areas (the operator, seeding, or an admin)."""
    return is_admin(user)


def can_change_role(user, target) -> bool:
    return is_admin(user) and getattr(user, "id", None) != target.id


def can_manage_registration(user) -> bool:
    """Choose the email domains allowed to register."""
    return is_admin(user)


def can_save_search(user) -> bool:
    return is_signed_in(user) and getattr(user, "id", None) is not None


def can_manage_saved_search(user, saved) -> bool:
    """See, rename, change and delete a saved search: its owner only."""
    return can_save_search(user) and saved.user_id == user.id


def can_manage_own_account(user) -> bool:
    return is_signed_in(user)


def can_bulk_curate(user) -> bool:
    """Add or remove a tag or an action area on many stories at once."""
    return is_curator(user)


def can_deactivate_user(user, target) -> bool:
    """Deactivate or reactivate an account; nobody can lock themselves out."""
    return is_admin(user) and getattr(user, "id", None) != target.id


def require(allowed: bool, message: str = "You do not have permission to do that.") -> None:
    """Raise Forbidden unless ``allowed``."""
    if not allowed:
        raise Forbidden(message)
