"""A small, varied collection for page tests: more organisations and tags than
a facet shows, several sources, a curator, and a submission with a PDF and
revisions, all made through the services."""
from __future__ import annotations

from dataclasses import dataclass

from kb import database
from kb.policy import SYSTEM
from kb.services import attachments, review, stories, users

from pdfs import make_pdf

PASSWORD = "lilac tractor sunrise"
CURATOR_EMAIL = "pages-curator@example.org"
SOURCES = ("18f", "hcdconnect", "ips-explorer")


@dataclass
class Collection:
    submission_id: int
    submission_slug: str
    story_slug: str
    tag_id: int


def populate(app, n_stories: int = 36) -> Collection:
    """Published stories from 30 organisations and 3 sources, a curator, and a
    submission (with a PDF, Markdown body and a later edit) waiting for review."""
    users.create_user(SYSTEM, CURATOR_EMAIL, PASSWORD, display_name="Pat Curator", role="curator")
    contributor = users.create_user(SYSTEM, "pages-writer@example.org", PASSWORD, display_name="Writer",
                                    role="contributor")
    first = None
    for i in range(n_stories):
        story = stories.create_story(SYSTEM, {
            "title": f"Digital services in borough {i:02d}",
            "kind": "case_study",
            "summary": f"How borough {i:02d} redesigned a digital service with its residents.",
            "body": "## The problem\n\nForms were long.\n\n## What we did\n\nWe tested with residents.",
            "organisations": [f"Borough Council {i % 30:02d}"],
            "people": [f"Alex Person{i % 15:02d}"],
            "tags": ["digital", f"theme {i % 20:02d}"],
            "published_on": f"2024-{(i % 12) + 1:02d}-{(i % 27) + 1:02d}",
            "source": SOURCES[0] if i < n_stories - 6 else SOURCES[1 + i % 2],
            "source_id": str(i),
        })
        stories.submit_story(SYSTEM, story)
        stories.publish_story(SYSTEM, story)
        first = first or story
    submission = stories.create_story(contributor, {
        "title": "Repair cafes in Kirklees",
        "kind": "case_study",
        "summary": "Volunteers fixed toasters.",
        "body": "## The problem\n\nAbout 1 in 8 toasters were thrown away.\n\n## What we did\n\nWe opened cafes.",
        "organisations": ["Kirklees Council"],
    })
    stories.update_story(SYSTEM, submission, {"tags": ["digital", "repair"]}, reason="Tagged")
    upload = attachments.store_upload(app, "evaluation.pdf", make_pdf("Repair cafe evaluation"))
    attachments.add_attachment(contributor, submission, upload, app=app)
    stories.update_story(contributor, submission, {
        "body": "## The problem\n\nAbout 1 in 6 toasters were thrown away.\n\n## What we did\n\nWe opened cafes"
                " in two libraries.\nVolunteers came weekly.",
    }, reason="Edited")
    stories.submit_story(contributor, submission)
    database.commit(app)
    tag = next(t for t in first.tags if t.name == "digital")
    return Collection(submission.id, submission.slug, first.slug, tag.id)


def sign_in_curator(browser, live_server):
    """A page in a new context, signed in as the collection's curator."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/account/sign-in")
    page.get_by_label("Email address").fill(CURATOR_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
    return page


__all__ = ["Collection", "populate", "sign_in_curator", "review"]
