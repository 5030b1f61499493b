"""The story services accept any input shape and answer with field messages, never a crash."""
import pytest

from kb.errors import Invalid
from kb.policy import SYSTEM
from kb.services import stories


@pytest.mark.parametrize("url", ["http://[::1", "javascript:alert(1)", "https://", "not a url", "ftp://x.org/a"])
def test_a_link_that_is_not_a_web_address_is_a_field_error(app, url):
    with pytest.raises(Invalid) as caught:
        stories.create_story(SYSTEM, {"title": "T", "links": [{"url": url}]})
    assert "links" in caught.value.errors


@pytest.mark.parametrize("field, value", [("links", 5), ("links", [7]), ("action_areas", "culture!"),
                                          ("action_areas", [None])])
def test_lists_of_the_wrong_shape_are_field_errors(app, field, value):
    with pytest.raises(Invalid) as caught:
        stories.create_story(SYSTEM, {"title": "T", field: value})
    assert field in caught.value.errors


def test_names_given_as_one_value_are_read_one_per_line(app):
    story = stories.create_story(SYSTEM, {"title": "T", "organisations": "Barnsley Council\nLeeds City Council",
                                          "people": 42})
    assert [o.name for o in story.organisations] == ["Barnsley Council", "Leeds City Council"]
    assert [p.name for p in story.people] == ["42"]


def test_a_very_long_tag_name_is_cut_to_fit(app):
    story = stories.create_story(SYSTEM, {"title": "T", "tags": ["x" * 250]})
    assert len(story.tags[0].name) == 100
