"""The case record: sections, evidence level, contact, place as data, and how an
idea spread (adoptions and "adapted from")."""
from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from flask import current_app
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import event, text

from kb import create_app, database, reference, search
from kb.extensions import db
from kb.importers import import_file
from kb.importers.export import export, published_stories, record
from kb.policy import SYSTEM
from kb.services import seed, spread, stories, taxonomy, tokens
from kb.errors import Forbidden, Invalid
from test_export import in_instance

SECTION_TEXT = {"challenge": "Streets were dark.", "approach": "LED lamps on a timer.",
                "results": "Bills fell by 12% in a year.", "costs": "Two million pounds.",
                "lessons": "Ask residents first.", "replication": "Use the framework contract."}


# The migration ----------------------------------------------------------------------------------

def test_the_migration_keeps_every_story_and_moves_evidence_into_results(db_url, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        with db.engine.begin() as connection:
            config = database.alembic_config(connection)
            before = ScriptDirectory.from_config(config).get_revision("case_record").down_revision
            command.downgrade(config, before)
            connection.execute(text(
                "INSERT INTO stories (id, title, slug, kind, summary, body, status, place, sector, stage, evidence,"
                " featured, review_note, suggested_tags, suggested_areas, source, source_id,"
                " created_at, updated_at) VALUES"
                " (1, 'Kept', 'kept', 'report', 's', 'b', 'published', 'Barnsley', '', '', 'Halved waiting times.',"
                " false, '', '[]', '[]', '', '', '2020-01-01', '2020-01-01'),"
                " (2, 'Also kept', 'also-kept', '', '', '', 'draft', '', '', '', '',"
                " false, '', '[]', '[]', '', '', '2020-01-01', '2020-01-01')"))
            connection.execute(text(
                "INSERT INTO organisations (id, name, slug, description, url, created_at, updated_at)"
                " VALUES (1, 'Barnsley Council', 'barnsley-council', '', '', '2020-01-01', '2020-01-01')"))
        database.upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, title, results, challenge, evidence_level, country, authority_code, contact_agreed"
                " FROM stories ORDER BY id")).all()
            assert [tuple(row) for row in rows] == [
                (1, "Kept", "Halved waiting times.", "", 0, "", "", False),
                (2, "Also kept", "", "", 0, "", "", False)]
            assert connection.execute(text("SELECT home_authority_code FROM organisations")).scalar_one() == ""
            assert connection.execute(text("SELECT count(*) FROM adoptions")).scalar_one() == 0
        db.session.remove()
        db.engine.dispose()


# Reference data ---------------------------------------------------------------------------------

def test_the_authority_list_ships_with_the_app_and_its_licence():
    authorities = reference.authorities()
    assert len(authorities) == 382
    barnsley = authorities["E08000038"]
    assert (barnsley.name, barnsley.nation, barnsley.region) == ("Barnsley", "England", "Yorkshire and The Humber")
    assert "Open Government Licence v3.0" in (reference.HERE / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("place, expected", [
    ("Barnsley, South Yorkshire", ("GB", "E08000038")),
    ("London Borough of Camden", ("GB", "E09000007")),
    ("Hull City Council", ("GB", "E06000010")),
    ("City of Edinburgh Council", ("GB", "S12000036")),
    ("Newry, Mourne and Down", ("GB", "N09000010")),
    ("United Kingdom", ("GB", "")),
    ("Vijayawada, Andhra Pradesh, India", ("IN", "")),
    ("Boston, USA", ("US", "")),  # not Boston in Lincolnshire
    ("Turkey", ("TR", "")),
    ("Berkeley, CA", ("", "")),
    ("", ("", "")),
])
def test_free_text_places_map_to_a_country_and_authority_where_they_can(place, expected):
    assert reference.place_from_text(place) == expected


# Sections, level, contact, place through the services ----------------------------------------------

def test_sections_are_saved_and_the_old_evidence_field_means_results(app, make_story):
    story = make_story(**SECTION_TEXT)
    assert [name for name, _, _ in story.sections] == list(SECTION_TEXT)
    old = make_story(evidence="Measured before and after.")
    assert old.results == "Measured before and after."


def test_only_curators_set_the_evidence_level_and_contributors_propose_one(app, make_user, make_story):
    contributor = make_user()
    story = make_story(contributor, "draft")
    with pytest.raises(Forbidden):
        stories.update_story(contributor, story, {"evidence_level": 4})
    stories.update_story(contributor, story, {"proposed_evidence_level": "3", "evidence_level_reason": "A trial."})
    assert (story.evidence_level, story.proposed_evidence_level) == (0, 3)
    stories.update_story(make_user("curator"), story, {"evidence_level": 2})
    assert story.evidence_level == 2
    with pytest.raises(Invalid) as error:
        stories.update_story(SYSTEM, story, {"evidence_level": 6})
    assert "evidence_level" in error.value.errors


def test_a_contact_is_seen_only_when_agreed_and_not_hidden(app, client, make_user, make_story, sign_in):
    contact = {"contact_name": "Ann Example", "contact_role": "Energy officer", "contact_email": "ann@example.org"}
    story = make_story(**contact)
    assert "ann@example.org" not in client.get(f"/stories/{story.slug}").get_data(as_text=True)
    stories.update_story(SYSTEM, story, {"contact_agreed": True})
    database.commit(app)
    page = client.get(f"/stories/{story.slug}").get_data(as_text=True)
    assert "Whom to ask" in page and 'href="mailto:ann@example.org"' in page and "Energy officer" in page
    stories.update_story(SYSTEM, story, {"contact_hidden": True})
    database.commit(app)
    assert "ann@example.org" not in client.get(f"/stories/{story.slug}").get_data(as_text=True)
    assert client.get(f"/api/v1/stories/{story.slug}").get_json()["contact_email"] == ""
    sign_in(make_user("curator"))
    assert "a curator hid it" in client.get(f"/stories/{story.slug}").get_data(as_text=True)


def test_a_contact_needs_a_real_email_or_web_address(app, make_story):
    story = make_story()
    with pytest.raises(Invalid) as error:
        stories.update_story(SYSTEM, story, {"contact_name": "Ann", "contact_email": "not an address",
                                             "contact_url": "javascript:alert(1)"})
    assert set(error.value.errors) == {"contact_email", "contact_url"}


def test_place_takes_codes_or_names_and_the_authority_decides_the_country(app, make_story):
    story = make_story(authority_code="Barnsley")
    assert (story.country, story.authority_code) == ("GB", "E08000038")
    story = make_story(country="France")
    assert (story.country, story.authority_code) == ("FR", "")
    for bad in ({"country": "Atlantis"}, {"authority_code": "Nowhere District"},
                {"country": "FR", "authority_code": "E08000038"}):
        with pytest.raises(Invalid):
            make_story(**bad)


def test_an_organisation_named_after_a_council_gets_its_home_authority(app):
    assert taxonomy.find_or_create_organisation("Barnsley Council").home_authority_code == "E08000038"
    assert taxonomy.find_or_create_organisation("Public Sector Nomads").home_authority_code == ""


# Search ------------------------------------------------------------------------------------------------

@pytest.fixture
def searchable(app, make_story):
    made = {
        "leeds": make_story(title="Street lights", place="Leeds", results="Energy bills fell sharply.",
                            evidence_level=3),
        "camden": make_story(title="Street lights in London", authority_code="E09000007", evidence_level=4,
                             challenge="Energy bills rose."),
        "glasgow": make_story(title="Glasgow lights", organisations=["Glasgow City Council"], evidence_level=1),
        "paris": make_story(title="Lights of Paris", country="FR", evidence_level=5),
        "unknown": make_story(title="Lights somewhere"),
    }
    return {key: story.id for key, story in made.items()}


def found(q="", sort="relevance", **filters):
    filters = {k: [str(v)] for k, v in filters.items()}
    return search.search_stories(current_app, q, filters, sort, per_page=50).story_ids


def test_sections_are_searchable_by_field(searchable):
    assert set(found("energy")) == {searchable["leeds"], searchable["camden"]}
    assert found("results:energy") == [searchable["leeds"]]
    assert found("challenge:energy") == [searchable["camden"]]
    assert found("evidence:energy") == [searchable["leeds"]]  # the old name of results


def test_evidence_filter_keeps_that_level_or_above_and_sorts_strongest_first(searchable):
    assert set(found(evidence=3)) == {searchable["leeds"], searchable["camden"], searchable["paris"]}
    assert found(evidence=5) == [searchable["paris"]]
    assert found("lights", sort="evidence")[:3] == [searchable["paris"], searchable["camden"], searchable["leeds"]]
    facet = {v.value: v.count for v in search.search_stories(current_app, "", {}).facets["evidence"]}
    assert facet == {"5": 1, "4": 2, "3": 3, "2": 3, "1": 4}


def test_place_filter_by_country_nation_region_or_authority(searchable):
    assert set(found(place="GB")) == {searchable["leeds"], searchable["camden"], searchable["glasgow"]}
    assert found(place="Yorkshire and The Humber") == [searchable["leeds"]]
    assert found(place="London") == [searchable["camden"]]
    assert found(place="E09000007") == [searchable["camden"]]
    assert found(place="Scotland") == [searchable["glasgow"]]  # from its organisation's home authority
    assert found(place="FR") == [searchable["paris"]]


def test_place_facet_goes_country_then_region_or_nation_then_authority(searchable):
    top = search.search_stories(current_app, "", {}).facets["place"]
    assert [(v.label, v.count, v.depth) for v in top] == [("United Kingdom", 3, 0), ("France", 1, 0)]
    uk = search.search_stories(current_app, "", {"place": ["GB"]}).facets["place"]
    assert ("London", 1, 1) in [(v.label, v.count, v.depth) for v in uk]
    london = search.search_stories(current_app, "", {"place": ["London"]}).facets["place"]
    assert [(v.label, v.depth) for v in london] == [("United Kingdom", 0), ("London", 1), ("Camden", 2)]


def test_search_page_shows_the_place_and_evidence_facets(searchable, client):
    page = client.get("/search?place=GB").get_data(as_text=True)
    assert "Place" in page and "Evidence level" in page and "Level 3 or above" in page
    assert 'class="kb-facet-depth-1"' in page and "strongest evidence" in page


# The story page ----------------------------------------------------------------------------------------------

def test_story_page_shows_sections_under_headings_with_a_contents_list(app, client, make_story):
    story = make_story(body="The **whole** story.", evidence_level=2, **SECTION_TEXT)
    page = client.get(f"/stories/{story.slug}").get_data(as_text=True)
    assert 'aria-labelledby="contents-heading"' in page
    for name, heading in (("challenge", "The challenge"), ("results", "Results and evidence"),
                          ("replication", "How to copy it")):
        assert f'href="#{name}"' in page and f'id="{name}">{heading}</h2>' in page
    assert 'href="/evidence#level-2"' in page and "Level 2: data shows a change" in page
    evidence = client.get("/evidence").get_data(as_text=True)
    assert 'id="level-2"' in evidence and "comparison or control group" in evidence


# Spread -------------------------------------------------------------------------------------------------------

@pytest.fixture
def spread_stories(app, make_story):
    origin = make_story(title="Street lights in Barnsley", organisations=["Barnsley Council"],
                        published_on="2011-05-01")
    adopter = make_story(title="Street lights in Leeds", organisations=["Leeds City Council"],
                         published_on="2014-01-01", adapted_from=origin.slug)
    stories.update_story(SYSTEM, origin, {"adoptions": [
        {"organisation": "Sheffield City Council", "year": 2016, "note": "Adapted for hills"},
        {"organisation": "Wakefield Council", "year": 2013},
    ]})
    database.commit(app)
    return origin, adopter


def test_spread_starts_at_the_origin_and_lists_who_took_it_up_by_year(spread_stories):
    origin, adopter = spread_stories
    for story in (origin, adopter):
        steps = spread.spread_of(SYSTEM, story)
        assert [(s.organisations[0].name, s.year) for s in steps] == [
            ("Barnsley Council", 2011), ("Wakefield Council", 2013), ("Leeds City Council", 2014),
            ("Sheffield City Council", 2016)]
        assert steps[0].origin and steps[2].story.id == adopter.id


def test_an_adopters_own_story_shows_where_the_idea_started(app, make_story):
    origin = make_story(title="The original", organisations=["Barnsley Council"])
    own = make_story(title="Our copy", organisations=["Leeds City Council"])
    stories.update_story(SYSTEM, origin, {"adoptions": [{"organisation": "Leeds City Council", "year": 2015,
                                                         "story": own.slug}]})
    assert [step.story.id for step in spread.spread_of(SYSTEM, own)] == [origin.id, own.id]


def test_a_story_in_no_line_is_its_own_origin_found_in_one_query(app, make_story):
    story = make_story(title="Nobody copied this", organisations=["Barnsley Council"], published_on="2012-03-01")
    assert story.adapted_from_id is None and story.organisations  # loaded before counting
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        steps = spread.spread_of(SYSTEM, story)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert [(s.organisations[0].name, s.year, s.story.id, s.origin) for s in steps] == [
        ("Barnsley Council", 2012, story.id, True)]
    assert len(statements) == 1, statements


def test_story_and_organisation_pages_show_the_spread_both_ways(spread_stories, client):
    origin, adopter = spread_stories
    page = client.get(f"/stories/{adopter.slug}").get_data(as_text=True)
    assert "Where the idea started, and who took it up" in page and f'href="/stories/{origin.slug}"' in page
    assert "Adapted for hills" in page
    barnsley = client.get("/organisations/barnsley-council").get_data(as_text=True)
    assert "Ideas others took from it" in barnsley and "Sheffield City Council" in barnsley
    sheffield = client.get("/organisations/sheffield-city-council").get_data(as_text=True)
    assert "Ideas it took up" in sheffield and origin.title in sheffield
    leeds = client.get("/organisations/leeds-city-council").get_data(as_text=True)
    assert "Ideas it took up" in leeds and "adapted from" in leeds
    spreading = client.get("/spreading-ideas").get_data(as_text=True)
    assert origin.title in spreading and "Taken up 3 times" in spreading


def test_an_adoption_must_name_an_organisation_and_a_real_year_and_story(app, make_story):
    story = make_story()
    for bad in ([{"year": 2019}], [{"organisation": "A", "year": 1066}],
                [{"organisation": "A", "story": "no-such-story"}]):
        with pytest.raises(Invalid) as error:
            stories.update_story(SYSTEM, story, {"adoptions": bad})
        assert "adoptions" in error.value.errors


# API, export and import keep every new field ------------------------------------------------------------------------

NEW_FIELDS = {**SECTION_TEXT, "evidence_level": 3, "proposed_evidence_level": 2,
              "evidence_level_reason": "A comparison with next door.", "contact_name": "Ann Example",
              "contact_role": "Energy officer", "contact_organisation": "Barnsley Council",
              "contact_email": "ann@example.org", "contact_url": "https://example.org/ann", "contact_agreed": True,
              "country": "GB", "authority_code": "E08000038"}


def test_api_round_trip_keeps_every_new_field(app, client, make_user, make_story):
    origin = make_story(title="The original")
    curator = make_user("curator")
    _, plaintext = tokens.create_token(curator, "tests")
    database.commit(app)
    headers = {"Authorization": f"Bearer {plaintext}"}
    sent = {**NEW_FIELDS, "adapted_from": origin.slug,
            "adoptions": [{"organisation": "Leeds City Council", "year": 2015, "story": origin.slug, "note": "Rural"}]}
    created = client.post("/api/v1/stories", json={"title": "Copied", **sent}, headers=headers)
    assert created.status_code == 201, created.get_json()
    body = client.get(created.headers["Location"], headers=headers).get_json()
    assert {key: body[key] for key in sent} == sent
    assert (body["region"], body["nation"]) == ("Yorkshire and The Humber", "England")
    refused = client.post("/api/v1/stories", json={"title": "x", "evidence_level": 9}, headers=headers)
    assert refused.status_code == 422 and "evidence_level" in refused.get_json()["errors"]


def empty_app(folder, template):
    """Another instance with the schema and nothing else, on SQLite."""
    folder.mkdir()
    shutil.copy(template, folder / "kb.sqlite3")
    return create_app({"INSTANCE_PATH": str(folder / "instance"), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/kb.sqlite3",
                       "TESTING": True})


def test_export_and_import_keep_every_new_field(app, make_story, tmp_path, sqlite_template):
    origin = make_story(title="The original", **NEW_FIELDS)
    make_story(title="The copy", adapted_from=origin.slug,
               adoptions=[{"organisation": "Leeds City Council", "year": 2015, "story": "", "note": "Rural"}])
    stories.update_story(SYSTEM, origin, {"adoptions": [
        {"organisation": "Wakefield Council", "year": 2013, "story": "the-copy", "note": "Smaller"}]})
    database.commit(app)
    for fmt in ("jsonl", "csv"):
        exported = "".join(export(fmt, published_stories()))
        records = [record(story) for story in published_stories()]
        assert records[0]["adoptions"][0]["story"] == "the-copy" and records[1]["adapted_from"] == "the-original"

        other = empty_app(tmp_path / fmt, sqlite_template)

        def round_trip():
            seed.load_action_areas(SYSTEM)
            report = import_file(SYSTEM, exported.encode(), fmt, status="published", app=other)
            assert report.counts["imported"] == 2, report.rows
            return [record(story) for story in published_stories()]

        copied = in_instance(other, round_trip)
        keep = [key for key in records[0] if key not in ("slug", "source", "source_id")]
        assert [{k: r[k] for k in keep} for r in copied] == [{k: r[k] for k in keep} for r in records], fmt
        if fmt == "csv":
            assert "Wakefield Council | 2013 | the-copy | Smaller" in next(csv.DictReader(io.StringIO(exported)))["adoptions"]
        else:
            assert json.loads(exported.splitlines()[0])["contact_email"] == "ann@example.org"


def test_export_leaves_out_a_contact_who_did_not_agree(app, make_story):
    make_story(contact_name="Bob", contact_email="bob@example.org")
    assert record(next(published_stories()))["contact_email"] == ""


def test_the_seed_stories_carry_the_sections_levels_and_places_the_seed_document_supports(seeded_app, client):
    camp = stories.get_story(SYSTEM, "ken-eastwood-on-localgovcamp")
    assert (camp.country, camp.authority_code, camp.evidence_level) == ("GB", "E08000038", 1)
    assert camp.challenge and camp.approach and camp.results
    report = stories.get_story(SYSTEM, "scaling-up-innovation-in-the-public-sector")
    assert (report.country, report.authority_code, report.evidence_level) == ("GB", "", 1)
    assert "four areas for action" in report.results and "get out of the way" in report.lessons
    assert found(place="Yorkshire and The Humber") == [camp.id]


def test_a_curator_sets_an_organisations_home_authority_and_its_stories_follow(app, client, make_user, make_story,
                                                                              sign_in):
    story = make_story(title="Lights", organisations=["Northern Lights Trust"])
    sign_in(make_user("curator"))
    refused = client.post("/curate/organisations/northern-lights-trust", data={"home_authority_code": "Narnia"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "govuk-error-summary" in page and "Enter the name or code of a UK local authority" in page and "Narnia" in page
    saved = client.post("/curate/organisations/northern-lights-trust", data={"home_authority_code": "Wakefield"})
    assert saved.status_code == 303
    assert found(place="E08000036") == [story.id]
    assert "Wakefield" in client.get("/organisations/northern-lights-trust").get_data(as_text=True)


def test_the_review_page_shows_the_sections_the_proposed_level_and_the_contact(app, client, make_user, make_story,
                                                                                sign_in):
    story = make_story(make_user(), "submitted", proposed_evidence_level=3, evidence_level_reason="A control group.",
                       contact_name="Ann", contact_email="ann@example.org", **SECTION_TEXT)
    sign_in(make_user("curator"))
    page = client.get(f"/curate/stories/{story.id}").get_data(as_text=True)
    assert "How to copy it" in page and "Use the framework contract." in page
    assert "the contributor proposed Level 3" in page and "A control group." in page
    assert "not confirmed as agreed" in page


def test_proposing_not_yet_assessed_proposes_nothing(app, make_user, make_story):
    contributor = make_user()
    story = make_story(contributor, "draft")
    stories.update_story(contributor, story, {"proposed_evidence_level": "0"})
    assert story.proposed_evidence_level is None
