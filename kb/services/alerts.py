"""Saved searches and their email alerts.

A saved search keeps the search's parameters and how often its owner wants
to hear of new stories. ``send_alerts`` (``kb alerts send``, from cron) tells
each owner, at most once per story and saved search, of stories first
published since the search was saved: the deliveries are recorded with the
queued message in one transaction per saved search, so a run killed half-way
resumes where it stopped and a second run sends nothing new.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from kb import policy, search
from kb.extensions import db
from kb.models import FREQUENCIES, AlertDelivery, SavedSearch, Story, User
from kb.models.base import utcnow
from kb.services import mail, preferences
from kb.errors import Invalid, NotFound

FREQUENCY_LABELS = {"immediately": "As soon as they are published", "daily": "Once a day",
                    "weekly": "Once a week", "none": "No emails"}
# A run a few minutes early still counts as a day (or a week) later.
PERIODS = {"immediately": timedelta(0), "daily": timedelta(days=1, minutes=-10),
           "weekly": timedelta(days=7, minutes=-10)}
MAX_SAVED = 100
MAX_STORIES_LISTED = 25


# The searches -------------------------------------------------------------------

def clean_params(q: str = "", filters: dict | None = None, sort: str = "relevance") -> dict:
    """A search as it is kept: the words, the known filters and the order."""
    return {"q": " ".join((q or "").split())[:500], "filters": search.clean_filters(filters or {}),
            "sort": sort if sort in search.SORTS else "relevance"}


def describe(params: dict) -> str:
    """A short name for a search, such as ``digital inclusion, area: networks``."""
    parts = [params.get("q", "")] if params.get("q") else []
    for name, values in (params.get("filters") or {}).items():
        parts.append(f"{name}: {', '.join(values)}")
    return "; ".join(parts)[:200] or "All stories"


def query_args(params: dict) -> dict:
    """The search's parameters as /search takes them."""
    args = {name: values for name, values in (params.get("filters") or {}).items()}
    if params.get("q"):
        args["q"] = params["q"]
    if params.get("sort") == "newest":
        args["sort"] = "newest"
    return args


def _check(name: str, frequency: str) -> str:
    errors = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = "Enter a name for the search"
    elif len(name) > 200:
        errors["name"] = "The name must be 200 characters or fewer"
    if frequency not in FREQUENCIES:
        errors["frequency"] = "Choose how often to get emails"
    if errors:
        raise Invalid("There is a problem with the saved search.", errors)
    return name


def save_search(actor, params: dict, name: str, frequency: str = "weekly") -> SavedSearch:
    """Keep a search for the signed-in person.

    :raise Forbidden: if nobody is signed in. :raise Invalid: for no name, an unknown frequency or too many.
    """
    policy.require(policy.can_save_search(actor), "Sign in to save a search.")
    name = _check(name, frequency)
    count = db.session.query(SavedSearch).filter(SavedSearch.user_id == actor.id).count()
    if count >= MAX_SAVED:
        message = f"You can keep up to {MAX_SAVED} searches: delete one first"
        raise Invalid(message, {"name": message})
    saved = SavedSearch(user_id=actor.id, name=name, params=clean_params(**params), frequency=frequency,
                        since=utcnow())
    db.session.add(saved)
    db.session.flush()
    return saved


def own_searches(actor) -> list[SavedSearch]:
    if not policy.can_save_search(actor):
        return []
    return list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == actor.id)
                                   .order_by(SavedSearch.name, SavedSearch.id)))


def get_own_search(actor, saved_id: int) -> SavedSearch:
    """:raise NotFound: unless the search is the actor's own."""
    saved = db.session.get(SavedSearch, saved_id)
    if saved is None or not policy.can_manage_saved_search(actor, saved):
        raise NotFound("You have no saved search at this address.")
    return saved


def update_search(actor, saved: SavedSearch, name: str, frequency: str) -> SavedSearch:
    """Rename a saved search or change how often it emails. :raise Invalid: see ``save_search``."""
    policy.require(policy.can_manage_saved_search(actor, saved))
    saved.name = _check(name, frequency)
    saved.frequency = frequency
    return saved


def delete_search(actor, saved: SavedSearch) -> None:
    policy.require(policy.can_manage_saved_search(actor, saved))
    db.session.delete(saved)


def stop_alerts(saved: SavedSearch) -> None:
    """No more emails for this search (an unsubscribe link); the search stays saved."""
    saved.frequency = "none"


# Sending alerts -----------------------------------------------------------------

@dataclass
class AlertRun:
    """What ``send_alerts`` did (or, with dry_run, would do)."""

    checked: int = 0
    sent: list[tuple[str, str, int]] = field(default_factory=list)  # (email, search name, stories)
    mail: dict = field(default_factory=dict)


def is_due(saved: SavedSearch, now: datetime) -> bool:
    if saved.frequency not in PERIODS:
        return False
    last = mail.aware(saved.last_alerted_at)
    return last is None or now - last >= PERIODS[saved.frequency]


def can_receive(user: User, kind: str) -> bool:
    """The person is active, mail to them has not bounced and they want this kind."""
    return user.active and user.email_bounced_at is None and preferences.wants(user, kind)


def new_stories(saved: SavedSearch) -> list[Story]:
    """Published stories the search finds that were first published since it was
    saved and not yet sent to its owner, newest first."""
    delivered = select(AlertDelivery.story_id).where(AlertDelivery.saved_search_id == saved.id)
    candidates = {s.id: s for s in db.session.scalars(
        select(Story).where(Story.is_published, Story.first_published_at >= saved.since,
                            Story.id.not_in(delivered)))}
    if not candidates:
        return []
    params = saved.params or {}
    found = search.all_story_ids(current_app, params.get("q", ""), params.get("filters"), "newest")
    stories = [candidates[i] for i in found if i in candidates]
    stories.sort(key=lambda s: mail.aware(s.first_published_at), reverse=True)
    return stories


def _queue_alert(saved: SavedSearch, stories: list[Story]) -> None:
    count = len(stories)
    subject = f"{count} new {'story' if count == 1 else 'stories'} for your search “{saved.name}”"
    mail.queue_for(
        saved.user, "alerts", subject, "alert", unsubscribe=True, saved_search_id=saved.id,
        search_name=saved.name, count=count,
        stories=[{"title": s.title, "summary": s.summary, "url": mail.external_url("public.story", slug=s.slug)}
                 for s in stories[:MAX_STORIES_LISTED]],
        more=max(0, count - MAX_STORIES_LISTED),
        search_url=mail.external_url("search.results", **query_args(saved.params or {})),
        manage_url=mail.external_url("saved_searches.index"),
        frequency=FREQUENCY_LABELS[saved.frequency].lower(),
    )
    for story in stories:
        db.session.add(AlertDelivery(saved_search_id=saved.id, story_id=story.id))
    saved.last_alerted_at = utcnow()


def send_alerts(commit, *, dry_run: bool = False, now: datetime | None = None) -> AlertRun:
    """Queue one alert per due saved search that has new stories; ``commit`` ends
    each saved search's unit of work (so a killed run keeps what it finished).

    With ``dry_run`` nothing is recorded or sent: the run says what it would send.
    """
    now = now or utcnow()
    run = AlertRun()
    ids = list(db.session.scalars(select(SavedSearch.id).where(SavedSearch.frequency != "none")
                                  .order_by(SavedSearch.id)))
    for saved_id in ids:
        saved = db.session.get(SavedSearch, saved_id)
        if saved is None or not is_due(saved, now) or not can_receive(saved.user, "alerts"):
            continue
        run.checked += 1
        stories = new_stories(saved)
        if not stories:
            continue
        run.sent.append((saved.user.email, saved.name, len(stories)))
        if dry_run:
            continue
        _queue_alert(saved, stories)
        commit()
    if dry_run:
        db.session.rollback()
    return run
