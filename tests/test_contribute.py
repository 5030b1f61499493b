"""Contributors: drafts, preview, submit, withdraw, their list of stories with
statuses, attachments through the form, bad input, and nothing ever lost."""
from __future__ import annotations

import io
import re

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from kb import database
from kb.extensions import db
from kb.models import AuditEvent, Revision, Story
from kb.policy import SYSTEM
from kb.services import seed, stories
from pdfs import make_pdf


def story_form(**fields) -> dict:
    """A filled-in story form: complete enough to submit unless fields say otherwise."""
    data = {"title": "Street lights that dim themselves", "kind": "case_study",
            "summary": "A council cut its energy bill by dimming street lights at night.",
            "body": "## What happened\n\nThey tried it on **three** streets.", "action": "save"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def multipart(data: dict) -> dict:
    """The body of a multipart form, encoded in memory (Werkzeug's test client would
    spool a large one to a temporary file it never closes)."""
    values = MultiDict()
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                item = FileStorage(stream=item[0], filename=item[1])
            values.add(name, item)
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def post(client, url="/stories/new", **fields):
    return client.post(url, **multipart(story_form(**fields)))


def only_story() -> Story:
    return db.session.scalars(db.select(Story)).one()


@pytest.fixture
def contributor(app, make_user, sign_in):
    seed.load_action_areas(SYSTEM)
    database.commit(app)
    return sign_in(make_user("contributor"))


# The journey -------------------------------------------------------------------------

def test_a_draft_needs_only_a_title(app, client, contributor):
    response = post(client, kind="", summary="", body="")
    assert response.status_code == 303
    story = only_story()
    assert response.headers["Location"] == f"/my/stories/{story.slug}/edit"
    assert (story.status, story.submitted_by_id) == ("draft", contributor.id)


def test_a_draft_without_a_title_is_refused_with_the_error_summary_and_field_message(app, client, contributor):
    response = post(client, title="", summary="Kept summary")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="govuk-error-summary"' in page and 'href="#title"' in page
    assert 'id="title-error"' in page
    assert "Kept summary" in page
    assert db.session.scalars(db.select(Story)).first() is None


def test_every_field_is_saved_in_the_domains_names(app, client, contributor):
    response = post(
        client, published_on=["5", "4", "2011"], **{"organisations-0": "Barnsley Council", "organisations-1": "Bristol",
                                                    "people-0": "Ken Eastwood"},
        place="Barnsley", sector="Local government", stage="pilot", challenge="Dark streets.",
        approach="LED lamps.", results="Bills fell by 12%.", costs="£2m over two years.", lessons="Ask residents first.",
        replication="Use the framework contract.", proposed_evidence_level="2", evidence_level_reason="Meter readings.",
        contact_name="Ann Example", contact_role="Energy officer", contact_organisation="Barnsley Council",
        contact_email="ann@example.org", contact_agreed="y",
        **{"links-0-url": "https://example.org/report", "links-0-title": "The report", "links-0-rel": "source"},
        suggested_areas=["evaluation", "culture"], suggested_tags="energy, street lighting",
    )
    assert response.status_code == 303
    story = only_story()
    assert story.published_on.isoformat() == "2011-04-05"
    assert [o.name for o in story.organisations] == ["Barnsley Council", "Bristol"]
    assert [p.name for p in story.people] == ["Ken Eastwood"]
    assert (story.place, story.sector, story.stage) == ("Barnsley", "Local government", "pilot")
    assert (story.challenge, story.approach, story.results, story.costs, story.lessons, story.replication) == (
        "Dark streets.", "LED lamps.", "Bills fell by 12%.", "£2m over two years.", "Ask residents first.",
        "Use the framework contract.")
    assert (story.proposed_evidence_level, story.evidence_level_reason, story.evidence_level) == (2, "Meter readings.", 0)
    assert (story.contact_name, story.contact_role, story.contact_organisation, story.contact_email,
            story.contact_agreed) == ("Ann Example", "Energy officer", "Barnsley Council", "ann@example.org", True)
    # The place text names a known authority: it becomes data.
    assert (story.country, story.authority_code) == ("GB", "E08000038")
    assert [(link.url, link.title, link.rel) for link in story.links] == [("https://example.org/report", "The report", "source")]
    assert sorted(story.suggested_areas) == ["culture", "evaluation"]
    assert story.suggested_tags == ["energy", "street lighting"]
    assert story.tags == [] and story.area_links == []  # curators decide


def test_existing_organisation_is_picked_not_duplicated(app, client, contributor, make_story):
    make_story(organisations=["Barnsley Council"])
    post(client, **{"organisations-0": "Barnsley  Council"})
    story = db.session.scalars(db.select(Story).where(Story.submitted_by_id == contributor.id)).one()
    assert story.organisations[0].slug == "barnsley-council"
    from kb.models import Organisation

    assert db.session.query(Organisation).count() == 1
    assert 'value="Barnsley Council"' in client.get("/stories/new").get_data(as_text=True)  # offered as people type


def test_preview_shows_the_story_as_readers_will_see_it(app, client, contributor):
    response = post(client, action="preview")
    story = only_story()
    assert response.headers["Location"] == f"/my/stories/{story.slug}/preview"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This is a preview" in page
    assert "<h2>What happened</h2>" in page and "<strong>three</strong>" in page
    assert story.status == "draft"


def test_submitting_validates_fully_and_keeps_everything_typed(app, client, contributor):
    response = post(client, action="submit", kind="", summary="", body="Kept body text",
                    **{"links-0-url": "https://example.org/kept"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose what kind of story this is." in page and "Enter a summary of the story." in page
    assert 'href="#kind"' in page and 'href="#summary"' in page
    assert "Kept body text" in page and "https://example.org/kept" in page
    assert db.session.scalars(db.select(Story)).first() is None  # nothing half-saved


def test_submitting_a_complete_story_sends_it_for_review_with_an_audit_event(app, client, contributor):
    response = post(client, action="submit")
    assert response.status_code == 303 and response.headers["Location"] == "/my/stories"
    story = only_story()
    assert story.status == "submitted"
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.target_type == "story", AuditEvent.target_id == story.id)).all()
    assert [e.action for e in events] == ["submit"]
    assert "Submitted" in client.get("/my/stories").get_data(as_text=True)


def test_a_reading_list_needs_a_link_before_review(app, client, contributor):
    response = post(client, action="submit", kind="reading_list")
    assert response.status_code == 422
    assert "Add at least one link" in response.get_data(as_text=True)


def test_every_save_makes_one_revision(app, client, contributor):
    post(client)
    story = only_story()
    post(client, f"/my/stories/{story.slug}/edit", summary="Second version")
    post(client, f"/my/stories/{story.slug}/edit", summary="Third version", action="submit")
    snapshots = db.session.scalars(db.select(Revision).where(Revision.story_id == story.id).order_by(Revision.number)).all()
    assert len(snapshots) == 3  # a save that edits and submits is one change
    assert [r.snapshot["summary"] for r in snapshots][1:] == ["Second version", "Third version"]
    assert [r.reason for r in snapshots] == ["Created", "Edited", "Edited; submitted"]
    assert snapshots[-1].snapshot["status"] == "submitted"


def test_save_draft_then_submit_from_the_list_then_withdraw(app, client, contributor):
    post(client)
    story = only_story()
    assert client.post(f"/my/stories/{story.slug}/submit").status_code == 303
    assert story.status == "submitted"
    assert client.get(f"/my/stories/{story.slug}/edit").status_code == 403  # under review
    assert client.post(f"/my/stories/{story.slug}/withdraw").status_code == 303
    assert story.status == "withdrawn"
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.target_type == "story", AuditEvent.target_id == story.id))]
    assert actions == ["submit", "withdraw"]
    assert client.post(f"/my/stories/{story.slug}/submit").status_code == 303  # resubmitted
    assert story.status == "submitted"


def test_submitting_an_incomplete_draft_from_the_list_shows_what_is_missing(app, client, contributor):
    post(client, kind="", summary="")
    story = only_story()
    response = client.post(f"/my/stories/{story.slug}/submit")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a summary of the story." in page
    assert f'action="/my/stories/{story.slug}/edit"' in page
    assert story.status == "draft"


def test_my_stories_shows_each_status_with_the_curators_note(app, client, contributor, make_story):
    make_story(contributor, "draft", title="A draft")
    make_story(contributor, "submitted", title="Under review")
    make_story(contributor, "changes_requested", title="Needs work")
    make_story(contributor, "published", title="Out there")
    make_story(contributor, "rejected", title="Not for us")
    make_story(SYSTEM, "draft", title="Someone else's")
    page = client.get("/my/stories").get_data(as_text=True)
    for text in ("A draft", "Under review", "Needs work", "Out there", "Not for us", "Draft", "Submitted",
                 "Changes requested", "Published", "Rejected", "Please add evidence.", "Out of scope."):
        assert text in page
    assert "Someone else" not in page


def test_changes_requested_can_be_edited_and_resubmitted(app, client, contributor, make_story):
    story = make_story(contributor, "changes_requested", title="Needs work")
    page = client.get(f"/my/stories/{story.slug}/edit").get_data(as_text=True)
    assert "Please add evidence." in page
    response = post(client, f"/my/stories/{story.slug}/edit", title="Needs work", results="We measured it.", action="submit")
    assert response.status_code == 303
    assert (story.status, story.results) == ("submitted", "We measured it.")


def test_add_another_link_shows_one_more_row_and_saves_nothing(app, client, contributor):
    response = post(client, action="add_links", **{"links-0-url": "https://example.org/1"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="links-1-url"' in page and 'id="links-2-url"' not in page
    assert re.search(r'id="links-1-url"[^>]*autofocus', page)
    assert db.session.scalars(db.select(Story)).first() is None


# Attachments through the form ------------------------------------------------------

def test_a_pdf_and_a_link_are_saved_with_the_story(app, client, contributor):
    response = post(client, attachments=[(io.BytesIO(make_pdf("Zanzibarite lanterns")), "report.pdf")],
                    **{"links-0-url": "https://example.org/a"})
    assert response.status_code == 303
    story = only_story()
    assert [(a.filename, a.content_type, a.text_status) for a in story.attachments] == [("report.pdf", "application/pdf", "ok")]
    assert "Zanzibarite lanterns" in story.attachments[0].text
    assert len(story.links) == 1


def test_files_chosen_are_kept_when_the_form_comes_back_with_errors(app, client, contributor):
    response = post(client, title="", attachments=[(io.BytesIO(make_pdf("Kept")), "kept.pdf")])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "kept.pdf" in page
    token = re.search(r'name="pending_attachments" type="checkbox" value="([^"]+)" checked', page).group(1)
    response = post(client, pending_attachments=[token])
    assert response.status_code == 303
    assert [a.filename for a in only_story().attachments] == ["kept.pdf"]


def test_a_document_can_be_removed_when_editing(app, client, contributor):
    post(client, attachments=[(io.BytesIO(b"plain words"), "notes.txt")])
    story = only_story()
    attachment_id = story.attachments[0].id
    assert post(client, f"/my/stories/{story.slug}/edit", remove_attachments=[str(attachment_id)]).status_code == 303
    assert story.attachments == []


def test_a_save_with_documents_and_a_submit_is_one_revision(app, client, contributor):
    post(client, attachments=[(io.BytesIO(b"plain words"), "notes.txt")], action="submit")
    story = only_story()
    reasons = [r.reason for r in db.session.scalars(db.select(Revision).where(Revision.story_id == story.id))]
    assert reasons == ["Created; attached notes.txt; submitted"]
    assert story.status == "submitted" and [a.filename for a in story.attachments] == ["notes.txt"]


def test_an_oversize_file_is_refused_at_its_field_and_the_rest_kept(app, client, contributor):
    big = b"a" * (20 * 1024 * 1024 + 1)
    response = post(client, attachments=[(io.BytesIO(big), "huge.txt")], summary="Still here")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“huge.txt” must be smaller than 20 MB." in page and 'href="#attachments"' in page
    assert "Still here" in page


def test_a_file_named_pdf_that_is_not_a_pdf_is_refused(app, client, contributor):
    response = post(client, attachments=[(io.BytesIO(b"MZ\x90\x00\x03\x00\x00\x00"), "report.pdf")])
    assert response.status_code == 422
    assert "“report.pdf” is not a PDF" in response.get_data(as_text=True)


def test_an_image_only_pdf_is_kept_and_flagged_not_an_error(app, client, contributor):
    response = post(client, attachments=[(io.BytesIO(make_pdf()), "scan.pdf")])
    assert response.status_code == 303
    story = only_story()
    assert story.attachments[0].text_status == "failed"
    assert "text could not be extracted" in client.get(f"/my/stories/{story.slug}/preview").get_data(as_text=True)


# Bad input ------------------------------------------------------------------------

def test_script_and_javascript_links_in_the_body_are_inert(app, client, contributor):
    post(client, body="<script>alert(1)</script> [click](javascript:alert(2)) <a href=\"javascript:alert(3)\">x</a>")
    page = client.get(f"/my/stories/{only_story().slug}/preview").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert 'href="javascript:' not in page


def test_a_hundred_links_are_all_kept(app, client, contributor):
    links = {}
    for n in range(100):
        links[f"links-{n}-url"] = f"https://example.org/{n}"
        links[f"links-{n}-title"] = f"Link number {n}"
    assert post(client, **links).status_code == 303
    story = only_story()
    assert len(story.links) == 100 and story.links[99].title == "Link number 99"
    assert client.get(f"/my/stories/{story.slug}/edit").status_code == 200


def test_emoji_and_right_to_left_text_are_kept(app, client, contributor):
    title = "مكتبة المدينة 📚 تعمل"
    assert post(client, title=title, summary="Résumé ✨ שלום").status_code == 303
    story = only_story()
    assert (story.title, story.summary) == (title, "Résumé ✨ שלום")
    assert title in client.get(f"/my/stories/{story.slug}/preview").get_data(as_text=True)


def test_a_duplicate_title_gets_a_distinct_slug(app, client, contributor):
    post(client)
    post(client)
    slugs = sorted(s.slug for s in db.session.scalars(db.select(Story)))
    assert slugs == ["street-lights-that-dim-themselves", "street-lights-that-dim-themselves-2"]


@pytest.mark.parametrize("url", ["not a url", "www.example.org", "javascript:alert(1)", "ftp://example.org/x"])
def test_a_url_that_is_not_a_web_address_is_refused_at_its_field(app, client, contributor, url):
    response = post(client, **{"links-0-url": "https://example.org/ok", "links-1-url": url})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#links-1-url"' in page and "Enter a full web address" in page


@pytest.mark.parametrize("parts, message, marked", [
    (["31", "2", "2021"], "Date first published must be a real date", "day"),
    (["29", "2", "2023"], "Date first published must be a real date", "day"),
    (["1", "13", "2020"], "Date first published must be a real date", "month"),
    (["x", "1", "2020"], "Date first published must be a real date", "day"),
    (["4", "", "2011"], "Date first published must include a month", "month"),
    (["", "4", ""], "Date first published must include a year", "year"),
    (["4", "", ""], "Date first published must include a month and a year", "month year"),
    (["", "", "11"], "The year of the date first published must include 4 numbers", "year"),
    (["1", "1", "9999"], "Date first published must be today or in the past", "day month year"),
    (["", "", "9999"], "Date first published must be today or in the past", "year"),
])
def test_a_date_that_does_not_exist_is_refused(app, client, contributor, parts, message, marked):
    response = post(client, published_on=parts)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'href="#published_on-{marked.split()[0]}"' in page
    assert f'value="{parts[2]}"' in page  # what was typed is shown again
    # Only the wrong parts are marked.
    assert page.count("govuk-input--error") == len(marked.split())


@pytest.mark.parametrize("parts, shown", [
    (["", "", "2011"], "2011"),
    (["", "3", "2011"], "March 2011"),
    (["4", "3", "2011"], "4 March 2011"),
])
def test_a_date_may_be_a_year_or_a_month_and_is_shown_as_given(app, client, contributor, parts, shown):
    assert post(client, published_on=parts).status_code == 303
    story = only_story()
    assert story.published.long() == shown
    page = client.get(f"/my/stories/{story.slug}/preview").get_data(as_text=True)
    assert re.search(rf">\s*{shown}\s*<", page) and "1 January" not in page
    form = client.get(f"/my/stories/{story.slug}/edit").get_data(as_text=True)
    shown_parts = [re.search(rf'<input[^>]*id="published_on-{name}"[^>]*>', form)[0] for name in ("day", "month", "year")]
    assert [re.search(r'value="([^"]*)"', tag)[1] if "value=" in tag else "" for tag in shown_parts] == parts


def test_a_leap_day_is_a_real_date(app, client, contributor):
    assert post(client, published_on=["29", "2", "2024"]).status_code == 303
    assert only_story().published_on.isoformat() == "2024-02-29"


def test_a_post_without_date_fields_is_not_an_error(app, client, contributor):
    response = client.post("/stories/new", data={"title": "Bare"})
    assert response.status_code == 303


def test_contributors_cannot_set_curated_fields_through_the_form(app, client, contributor):
    post(client, tags="sneaky", action_areas="culture", featured="y")
    story = only_story()
    assert story.tags == [] and story.area_links == [] and story.featured is False
