"""Attachments: checked by content, kept by content hash, text extracted for
search, and never an error page for a bad PDF."""
from __future__ import annotations

import pytest

from kb import database
from kb.errors import Forbidden, Invalid
from kb.extensions import db
from kb.models import AuditEvent, IndexChange, Revision
from kb.services import attachments, stories
from pdfs import corrupt_pdf, encrypted_pdf, make_pdf


def test_pdf_is_stored_by_content_hash_under_the_upload_folder(app):
    data = make_pdf("Hello")
    upload = attachments.store_upload(app, "report.pdf", data)
    path = attachments.stored_path(app, upload.sha256)
    assert path.read_bytes() == data
    assert str(path).startswith(app.config["UPLOAD_DIR"])
    assert path.parent.name == upload.sha256[:2]
    assert (upload.content_type, upload.filename, upload.size) == ("application/pdf", "report.pdf", len(data))


def test_same_content_twice_is_stored_once(app):
    first = attachments.store_upload(app, "a.pdf", make_pdf("Same"))
    second = attachments.store_upload(app, "b.pdf", make_pdf("Same"))
    assert first.sha256 == second.sha256
    assert len(list(attachments.stored_path(app, first.sha256).parent.iterdir())) == 1


def test_type_is_decided_by_content_not_by_name(app):
    assert attachments.store_upload(app, "notes", b"Plain words\n").content_type == "text/plain"
    assert attachments.store_upload(app, "notes", b"Plain words\n").filename == "notes.txt"
    assert attachments.store_upload(app, "scan", make_pdf("x")).filename == "scan.pdf"


def test_file_named_pdf_that_is_not_a_pdf_is_refused(app):
    with pytest.raises(Invalid) as caught:
        attachments.store_upload(app, "report.pdf", b"<html><script>alert(1)</script></html>")
    assert "is not a PDF" in caught.value.errors["attachments"]


def test_binary_file_that_is_neither_pdf_nor_text_is_refused(app):
    with pytest.raises(Invalid) as caught:
        attachments.store_upload(app, "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "must be a PDF or a plain text file" in caught.value.errors["attachments"]


def test_file_over_20_mb_is_refused_and_one_of_20_mb_accepted(app):
    limit = 20 * 1024 * 1024
    assert app.config["MAX_UPLOAD_BYTES"] == limit
    with pytest.raises(Invalid) as caught:
        attachments.store_upload(app, "big.txt", b"a" * (limit + 1))
    assert "smaller than 20 MB" in caught.value.errors["attachments"]
    assert attachments.store_upload(app, "big.txt", b"a" * limit).size == limit


def test_empty_file_is_refused(app):
    with pytest.raises(Invalid):
        attachments.store_upload(app, "empty.pdf", b"")


def test_file_names_lose_folders_and_control_characters(app):
    upload = attachments.store_upload(app, "../../etc/pass\x00wd.txt", b"words")
    assert upload.filename == "passwd.txt"
    assert attachments.store_upload(app, "C:\\Users\\me\\Bericht ü 📄.pdf", make_pdf("x")).filename == "Bericht ü 📄.pdf"


@pytest.mark.parametrize(
    "data, status",
    [
        (make_pdf("Zanzibarite procurement findings"), "ok"),
        (make_pdf(), "failed"),  # a page with no text, as a scan has
        (encrypted_pdf("Secret words"), "failed"),
        (corrupt_pdf(), "failed"),
    ],
    ids=["text", "image-only", "encrypted", "corrupt"],
)
def test_text_is_extracted_or_the_pdf_is_kept_and_flagged(app, make_user, data, status):
    owner = make_user()
    story = stories.create_story(owner, {"title": "With a document"})
    item = attachments.add_attachment(owner, story, attachments.store_upload(app, "doc.pdf", data), app=app)
    database.commit(app)
    assert item.text_status == status
    assert ("Zanzibarite" in item.text) == (status == "ok")
    assert attachments.stored_path(app, item.sha256).read_bytes() == data


def test_adding_and_removing_a_document_records_revisions_and_index_changes(app, make_user):
    owner = make_user()
    story = stories.create_story(owner, {"title": "Documents"})
    database.commit(app)
    changes_before = db.session.query(IndexChange).filter_by(story_id=story.id).count()
    item = attachments.add_attachment(owner, story, attachments.store_upload(app, "a.txt", b"alpha words"), app=app)
    database.commit(app)
    assert attachments.remove_attachments(owner, story, [item.id]) == ["a.txt"]
    database.commit(app)
    reasons = [r.reason for r in db.session.query(Revision).filter_by(story_id=story.id).order_by(Revision.number)]
    assert reasons == ["Created", "Attached a.txt", "Removed a.txt"]
    assert db.session.query(IndexChange).filter_by(story_id=story.id).count() == changes_before + 2
    assert story.attachments == []
    assert db.session.query(AuditEvent).filter_by(target_type="story").count() == 0  # edits, not status changes


def test_another_contributor_cannot_attach_to_my_story(app, make_user):
    owner, other = make_user(), make_user()
    story = stories.create_story(owner, {"title": "Mine"})
    with pytest.raises(Forbidden):
        attachments.add_attachment(other, story, attachments.store_upload(app, "a.txt", b"words"), app=app)


def test_upload_token_is_only_good_for_the_person_it_was_made_for(app, make_user):
    owner, other = make_user(), make_user()
    upload = attachments.store_upload(app, "a.txt", b"words")
    token = attachments.upload_token(owner, upload, app=app)
    assert attachments.upload_from_token(owner, token, app=app) == upload
    assert attachments.upload_from_token(other, token, app=app) is None
    assert attachments.upload_from_token(owner, token[:-2] + "xx", app=app) is None


def test_document_is_downloaded_never_shown_inline(app, client, make_user, make_story):
    owner = make_user()
    story = stories.create_story(owner, {"title": "Published with a PDF", "kind": "report", "summary": "S."})
    upload = attachments.store_upload(app, "report.pdf", make_pdf("Hi"))
    item = attachments.add_attachment(owner, story, upload, app=app)
    stories.submit_story(owner, story)
    from kb.policy import SYSTEM

    stories.publish_story(SYSTEM, story)
    database.commit(app)
    with client.get(f"/attachments/{item.id}/report.pdf") as response:
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_document_of_a_draft_is_hidden_from_readers(app, client, make_user):
    owner = make_user()
    story = stories.create_story(owner, {"title": "Draft with a PDF"})
    upload = attachments.store_upload(app, "report.pdf", make_pdf("Hi"))
    item = attachments.add_attachment(owner, story, upload, app=app)
    database.commit(app)
    assert client.get(f"/attachments/{item.id}/report.pdf").status_code == 404


def submitted_with_a_pdf(app, owner):
    """A story submitted with a PDF whose text alone holds the word "quillwort"."""
    story = stories.create_story(owner, {"title": "Allotments for everyone", "kind": "report",
                                         "summary": "A council let spare land to residents."})
    upload = attachments.store_upload(app, "findings.pdf", make_pdf("The quillwort survey found forty new growers."))
    attachments.add_attachment(owner, story, upload, app=app)
    stories.submit_story(owner, story)
    return story


def test_a_published_story_is_found_by_a_word_only_inside_its_pdf(app, client, make_user):
    from kb.policy import SYSTEM

    story = submitted_with_a_pdf(app, make_user())
    database.commit(app)
    assert "Allotments for everyone" not in client.get("/search?q=quillwort").get_data(as_text=True)
    stories.publish_story(SYSTEM, story)
    database.commit(app)
    page = client.get("/search?q=quillwort").get_data(as_text=True)
    assert "Allotments for everyone" in page
    assert "Allotments for everyone" not in client.get("/search?q=zebrafish").get_data(as_text=True)


def test_story_pages_list_documents_without_reading_their_text_and_the_index_still_reads_it(app, client, make_user):
    """An attachment's extracted text (up to megabytes) was read on every view
    of its story's page; only the index reads it."""
    from sqlalchemy import event

    from kb import search
    from kb.policy import SYSTEM

    story = submitted_with_a_pdf(app, make_user())
    stories.publish_story(SYSTEM, story)
    database.commit(app)
    slug = story.slug
    db.session.remove()
    statements = []
    listen = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        page = client.get(f"/stories/{slug}").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert "findings.pdf" in page
    reads = [s for s in statements if "FROM attachments" in s]
    assert reads and not any("attachments.text," in s or "attachments.text " in s for s in reads), reads
    # The same session saves the story and syncs the index: the text is read for it.
    stories.update_story(SYSTEM, stories.get_story(SYSTEM, slug), {"summary": "Spare land let to residents."})
    database.commit(app)
    assert search.search_stories(app, "quillwort").total == 1
    assert search.verify(app).clean
