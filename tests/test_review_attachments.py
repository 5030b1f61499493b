"""Curators can open a story's documents from the review page whatever the
story's status; readers cannot open those of a story that is not published."""
from __future__ import annotations

import re

import pytest
from pdfs import make_pdf

from kb import database
from kb.policy import SYSTEM
from kb.services import attachments


@pytest.mark.parametrize("status", ["submitted", "changes_requested", "draft", "rejected", "published"])
def test_review_page_links_each_document_and_the_curator_can_open_it(app, client, make_story, make_user, sign_in,
                                                                     status):
    writer = make_user()
    story = make_story(actor=writer, status=status, title="Repair cafes")
    upload = attachments.store_upload(app, "evaluation.pdf", make_pdf("Repair cafe evaluation"))
    attachments.add_attachment(writer if status == "draft" else SYSTEM, story, upload, app=app)
    database.commit(app)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    link = re.search(r'<a class="govuk-link" href="(/attachments/\d+/evaluation\.pdf)">evaluation\.pdf</a>', page)
    assert link, "the review page links the document"
    with client.get(link.group(1)) as response:
        assert response.status_code == 200
        assert response.data.startswith(b"%PDF")


def test_a_reader_cannot_open_a_submitted_storys_document(app, client, make_story, make_user):
    writer = make_user()
    story = make_story(actor=writer, status="submitted", title="Repair cafes")
    item = attachments.add_attachment(SYSTEM, story,
                                      attachments.store_upload(app, "evaluation.pdf", make_pdf("Evaluation")), app=app)
    database.commit(app)
    with client.get(f"/attachments/{item.id}/evaluation.pdf") as response:
        assert response.status_code == 404
