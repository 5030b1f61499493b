"""Near-duplicates: records with the same title and organisations (normalised)
as a story kb holds, or as an earlier record, are imported but flagged; curators
see them in a list with a count, merge one into the other or dismiss the flag."""
from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from kb import database
from kb.extensions import db
from kb.importers import import_file
from kb.models import AuditEvent, Revision, Story
from kb.policy import SYSTEM


def jsonl(records) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


def record(n: int, title: str, organisations=("Leeds City Council",), **fields) -> dict:
    return {"title": title, "summary": f"Summary {n}.", "kind": "case_study", "organisations": list(organisations),
            "source": "feed", "source_id": str(n), "links": [{"url": f"https://example.org/{n}", "rel": "source"}],
            **fields}


def story(slug: str) -> Story:
    return db.session.scalar(select(Story).where(Story.slug == slug))


def test_records_like_a_story_or_an_earlier_record_are_imported_and_flagged(app, make_story):
    make_story(title="Repair cafés in Leeds", organisations=["Leeds City Council"])
    records = [
        record(1, "Repair Cafes in Leeds!"),                          # like the story kb holds
        record(2, "Street lights", organisations=["York Council"]),
        record(3, "street  lights", organisations=["york council"]),  # like the record before it
        record(4, "Street lights", organisations=["Hull Council"]),   # another organisation: not alike
    ]
    report = import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    assert report.counts == {"imported": 4, "skipped": 0, "failed": 0}
    assert report.rows[0].warnings == ["same title and organisations as the story “repair-cafes-in-leeds”: "
                                       "flagged for curators"]
    assert report.rows[2].warnings == ["same title and organisations as the story “street-lights”: "
                                       "flagged for curators"]
    assert not report.rows[1].warnings and not report.rows[3].warnings
    flagged = {s.slug: s.duplicate_of.slug for s in db.session.scalars(select(Story).where(
        Story.duplicate_of_id.is_not(None)))}
    assert flagged == {"repair-cafes-in-leeds-2": "repair-cafes-in-leeds", "street-lights-2": "street-lights"}


def test_a_flag_on_a_record_isolated_after_its_batch_failed_is_kept(app):
    records = [record(1, "Street lights"), record(2, "Broken", kind="link", links=[]), record(3, "Street lights!")]
    report = import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    assert report.counts == {"imported": 2, "skipped": 0, "failed": 1}
    assert story("street-lights-2").duplicate_of.slug == "street-lights"
    assert report.rows[2].warnings == ["same title and organisations as the story “street-lights”: "
                                       "flagged for curators"]


def flagged_pair(app, make_story):
    kept = make_story(title="Repair cafés in Leeds", organisations=["Leeds City Council"], tags=["Repair"],
                      links=[{"url": "https://example.org/kept", "rel": "source"}])
    records = [record(1, "Repair cafés in Leeds", tags=["Repair", "Waste"],
                      links=[{"url": "https://example.org/1", "rel": "source"},
                             {"url": "https://www.example.org/kept/", "rel": "related"}])]
    import_file(SYSTEM, jsonl(records), "jsonl", status="published", app=app)
    return story(kept.slug), story("repair-cafes-in-leeds-2")


def test_curators_see_the_flagged_stories_with_a_count(app, client, make_story, make_user, sign_in):
    _, flagged = flagged_pair(app, make_story)
    sign_in(make_user("curator"))
    page = client.get("/curate/duplicates/").get_data(as_text=True)
    assert "1 story was imported with the same title and organisations as another story" in page
    assert f'href="/curate/duplicates/{flagged.id}"' in page
    assert 'href="/curate/duplicates/"' in client.get("/curate/").get_data(as_text=True)  # in the curators' menu
    one = client.get(f"/curate/duplicates/{flagged.id}").get_data(as_text=True)
    forms = re.findall(r'<form[^>]*method="post".*?</form>', one, re.S | re.I)
    assert len(forms) == 3 and all('name="csrf_token"' in form for form in forms)  # sign out, merge, dismiss
    assert any('name="keep"' in form for form in forms)


def test_only_curators_see_or_merge_near_duplicates(app, client, make_story, make_user, sign_in):
    _, flagged = flagged_pair(app, make_story)
    sign_in(make_user("contributor"))
    assert client.get("/curate/duplicates/").status_code == 403
    assert client.post(f"/curate/duplicates/{flagged.id}/merge", data={"keep": "other"}).status_code == 403
    assert client.post(f"/curate/duplicates/{flagged.id}/dismiss").status_code == 403
    assert story(flagged.slug).duplicate_of_id is not None


def test_merging_carries_over_what_the_kept_story_lacks_and_leads_its_address_there(
        app, client, make_story, make_user, sign_in):
    kept, flagged = flagged_pair(app, make_story)
    kept.source, kept.source_id = "", ""
    database.commit(app)
    sign_in(make_user("curator"))
    response = client.post(f"/curate/duplicates/{flagged.id}/merge", data={"keep": "other"})
    assert response.status_code == 303
    kept, merged = story(kept.slug), story(flagged.slug)
    assert kept.title == "Repair cafés in Leeds" and kept.summary == "A summary."  # its own fields
    assert [(link.url, link.rel) for link in kept.links] == [("https://example.org/kept", "source"),
                                                             ("https://example.org/1", "source")]
    assert [tag.name for tag in kept.tags] == ["Repair", "Waste"]
    assert (kept.source, kept.source_id) == ("feed", "1")
    assert merged.status == "withdrawn" and merged.merged_into_id == kept.id and merged.duplicate_of_id is None
    moved = client.get(f"/stories/{merged.slug}")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/stories/{kept.slug}")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "merge"))
    assert event.target_id == merged.id and event.detail["into"] == kept.slug
    reasons = set(db.session.scalars(select(Revision.reason).where(Revision.story_id.in_([kept.id, merged.id]))))
    assert {"Merged “Repair cafés in Leeds” into this story", "Merged into “Repair cafés in Leeds”"} <= reasons
    assert "No story is flagged" in client.get("/curate/duplicates/").get_data(as_text=True)
    # The record imported again is skipped: kb holds it.
    again = import_file(SYSTEM, jsonl([record(1, "Repair cafés in Leeds")]), "jsonl", status="published", app=app)
    assert again.counts["skipped"] == 1


def test_a_merge_without_a_choice_is_refused_with_an_error_summary(app, client, make_story, make_user, sign_in):
    _, flagged = flagged_pair(app, make_story)
    sign_in(make_user("curator"))
    response = client.post(f"/curate/duplicates/{flagged.id}/merge", data={})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "govuk-error-summary" in page and 'href="#keep"' in page and 'id="keep-error"' in page
    assert story(flagged.slug).status == "published" and story(flagged.slug).merged_into_id is None


def test_dismissing_the_flag_keeps_both_stories(app, client, make_story, make_user, sign_in):
    kept, flagged = flagged_pair(app, make_story)
    sign_in(make_user("curator"))
    assert client.post(f"/curate/duplicates/{flagged.id}/dismiss").status_code == 303
    assert story(flagged.slug).duplicate_of_id is None and story(flagged.slug).status == "published"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "dismiss_duplicate")) == 1
    assert client.get(f"/curate/duplicates/{flagged.id}").status_code == 404


def test_a_third_look_alike_of_the_merged_story_is_then_flagged_against_the_kept_one(
        app, client, make_story, make_user, sign_in):
    kept = make_story(title="Street lights", organisations=["York Council"])
    import_file(SYSTEM, jsonl([record(1, "Street lights!", organisations=["York Council"])]), "jsonl",
                status="published", app=app)
    second = story("street-lights-2")
    # A third story flagged as looking like the second (as an import of both would).
    third = make_story(title="Street lights?", organisations=["York Council"])
    third.duplicate_of_id = second.id
    database.commit(app)
    sign_in(make_user("curator"))
    assert client.post(f"/curate/duplicates/{second.id}/merge", data={"keep": "other"}).status_code == 303
    assert story(third.slug).duplicate_of_id == kept.id
    assert client.post(f"/curate/duplicates/{third.id}/merge", data={"keep": "other"}).status_code == 303
    assert story(third.slug).merged_into_id == kept.id
