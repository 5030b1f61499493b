"""Telling people by email what happened: a contributor when a curator asks
for changes, publishes or rejects their story; curators, if they choose, a
daily digest of new submissions. Each goes only to people who want that kind
(``preferences``) and whose address has not bounced."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kb import policy
from kb.extensions import db
from kb.models import Story, User
from kb.models.base import utcnow
from kb.services import mail
from kb.services.alerts import can_receive

SUBJECTS = {
    "changes_requested": "A curator has asked for changes to “{title}”",
    "published": "Your story “{title}” has been published",
    "rejected": "Your story “{title}” will not be published",
}
DIGEST_PERIOD = timedelta(days=1, minutes=-10)


def story_decided(actor, story: Story, kind: str, note: str = "") -> None:
    """Queue the email telling the story's contributor of a curator's decision
    (``changes_requested``, ``published`` or ``rejected``), with the note."""
    user = story.submitted_by
    if user is None or getattr(actor, "id", None) == user.id or not can_receive(user, kind):
        return
    mail.queue_for(
        user, kind, SUBJECTS[kind].format(title=story.title[:150]), f"story_{kind}", unsubscribe=True,
        title=story.title, note=note,
        story_url=mail.external_url("public.story", slug=story.slug),
        edit_url=mail.external_url("contribute.edit_story", slug=story.slug),
        my_stories_url=mail.external_url("contribute.my_stories"),
    )


def send_digests(commit, *, dry_run: bool = False, now: datetime | None = None) -> list[tuple[str, int]]:
    """Queue each curator who chose it a digest of the stories submitted since
    their last one (at most one a day; none when nothing was submitted).
    Returns (email, number of stories) per digest."""
    now = now or utcnow()
    sent = []
    curators = db.session.scalars(select(User).where(User.role.in_(policy.CURATOR_ROLES), User.active.is_(True))
                                  .order_by(User.id))
    for curator in list(curators):
        last = mail.aware(curator.digest_sent_at)
        if (last is not None and now - last < DIGEST_PERIOD) or not can_receive(curator, "digest"):
            continue
        since = last or now - timedelta(days=1)
        stories = list(db.session.scalars(select(Story).where(Story.status == "submitted", Story.submitted_at > since)
                                          .order_by(Story.submitted_at)))
        if not stories:
            continue
        sent.append((curator.email, len(stories)))
        if dry_run:
            continue
        count = len(stories)
        mail.queue_for(
            curator, "digest", f"{count} new {'story' if count == 1 else 'stories'} to review", "digest",
            unsubscribe=True, count=count,
            stories=[{"title": s.title, "summary": s.summary, "by": s.submitted_by.display_name if s.submitted_by else "",
                      "url": mail.external_url("curate.story", story_id=s.id)} for s in stories],
            queue_url=mail.external_url("curate.queue"),
        )
        curator.digest_sent_at = now
        commit()
    if dry_run:
        db.session.rollback()
    return sent
