"""Which review actions a story's status allows: decided in policy.py, shown and enforced alike."""
import pytest

from kb.errors import Forbidden
from kb.policy import SYSTEM
from kb.services import stories


def test_a_rejected_story_cannot_be_sent_back_or_rejected_again(app, make_story):
    story = make_story(status="rejected")
    with pytest.raises(Forbidden):
        stories.request_changes(SYSTEM, story, "Try again")
    with pytest.raises(Forbidden):
        stories.reject_story(SYSTEM, story, "Still no")


def test_the_review_page_offers_only_the_actions_the_status_allows(app, client, make_user, make_story, sign_in):
    sign_in(make_user("curator"))
    submitted = make_story(status="submitted")
    page = client.get(f"/curate/stories/{submitted.id}").get_data(as_text=True)
    assert "Request changes" in page and "Reject" in page
    rejected = make_story(status="rejected")
    page = client.get(f"/curate/stories/{rejected.id}").get_data(as_text=True)
    assert "Request changes</button>" not in page and ">Reject</button>" not in page
