"""Revision diffs a curator can read: Markdown keeps its lines and paragraphs,
additions and removals are marked by more than colour, and tags, areas,
organisations and people are compared as sets of things, not lists."""
from __future__ import annotations

import re

from kb import database
from kb.policy import SYSTEM
from kb.services import revisions, seed, stories

BODY = "## The problem\n\nAbout 1 in 8 toasters were thrown away.\n\n## What we did\n\nWe opened cafes."


def test_a_body_diff_keeps_headings_blank_lines_and_paragraphs_apart(app, client, make_story, make_user,
                                                                      sign_in):
    story = make_story(title="Repair cafes", body=BODY)
    stories.update_story(SYSTEM, story, {"body": BODY.replace("1 in 8", "1 in 6")}, reason="Fixed a figure")
    database.commit(app)
    last = revisions.list_revisions(SYSTEM, story)[0].number
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}/revisions/compare?from=1&to={last}").get_data(as_text=True)
    lines = re.findall(r'class="kb-diff__line[^"]*">(.*?)(?=<(?:span|ins|del) class="kb-diff__line|\s*</div>)',
                       page, re.S)
    texts = [re.sub(r"<[^>]+>", "", body) for body in lines]
    assert texts == [" ## The problem", " ", "−Removed line: About 1 in 8 toasters were thrown away.",
                     "+Added line: About 1 in 6 toasters were thrown away.", " ", " ## What we did", " ",
                     " We opened cafes."]
    assert '<span class="kb-diff__sign" aria-hidden="true">−</span>' in page
    assert '<span class="kb-diff__sign" aria-hidden="true">+</span>' in page


def test_a_value_change_says_before_and_after_in_words(app, client, make_story, make_user, sign_in):
    story = make_story(title="Repair cafes", place="Leeds")
    stories.update_story(SYSTEM, story, {"place": "York"}, reason="Moved")
    database.commit(app)
    last = revisions.list_revisions(SYSTEM, story)[0].number
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}/revisions/compare?from=1&to={last}").get_data(as_text=True)
    assert '<span class="kb-diff__label">Before: </span><del class="kb-diff__del">Leeds</del>' in page
    assert '<span class="kb-diff__label">After: </span><ins class="kb-diff__ins">York</ins>' in page


def test_reordered_tags_areas_organisations_and_people_are_no_change(app):
    before = {"tags": ["Open data", "Bins"], "organisations": ["Leeds", "York"], "people": ["Ada", "Bo"],
              "action_areas": [{"slug": "culture", "reason": ""}, {"slug": "networks", "reason": "Shared"}],
              "related": ["a", "b"]}
    after = {"tags": ["Bins", "Open data"], "organisations": ["York", "Leeds"], "people": ["Bo", "Ada"],
             "action_areas": [{"slug": "networks", "reason": "Shared"}, {"slug": "culture", "reason": ""}],
             "related": ["b", "a"]}
    assert revisions.diff_snapshots(before, after) == []


def test_set_fields_show_only_what_was_added_or_removed(app):
    before = {"tags": ["Open data", "Bins"], "action_areas": [{"slug": "culture", "reason": "People"}]}
    after = {"tags": ["Bins", "Recycling"], "action_areas": [{"slug": "culture", "reason": "Leaders"}]}
    changes = {c.field: c for c in revisions.diff_snapshots(before, after)}
    assert (changes["tags"].removed, changes["tags"].added) == (["Open data"], ["Recycling"])
    assert (changes["action_areas"].removed, changes["action_areas"].added) == (["culture: People"],
                                                                                ["culture: Leaders"])


def test_publishing_an_unchanged_resubmission_shows_no_tag_changes(app, client, make_story, make_user, sign_in):
    seed.load_action_areas(SYSTEM)
    contributor = make_user()
    story = make_story(actor=contributor, status="draft", title="Repair cafes")
    stories.update_story(SYSTEM, story, {"tags": ["Zebra", "Apple", "Mango"], "organisations": ["York", "Leeds"],
                                         "action_areas": ["networks", "culture"]}, reason="Filed")
    stories.submit_story(contributor, story)
    stories.request_changes(SYSTEM, story, "Please add a date.")
    database.commit(app)
    # The same things in another order, as a form or an import may send them.
    stories.update_story(contributor, story, {"organisations": ["Leeds", "York"], "published_on": "2024-01-02"})
    stories.submit_story(contributor, story)
    database.commit(app)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    assert "Date first published" in page
    for label in ("Tags", "Organisations", "Action areas"):
        assert f'<th scope="row" class="govuk-table__header">{label}</th>' not in page
