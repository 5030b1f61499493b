"""The field mapping: tags that are other fields (``method:``, ``author:``, status
words, levels of government) go to those fields, by documented defaults that
``kb import --map FILE`` overrides; tags keep only topics."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from kb import database
from kb.extensions import db
from kb.importers import import_file
from kb.importers.mapping import FieldMap
from kb.models import Story, Tag
from kb.policy import SYSTEM
from kb.services import tokens


def jsonl(*records) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


def ips(**fields) -> dict:
    """Shaped like ips-explorer.jsonl: status words and levels of government among the tags."""
    return {"title": "AI chatbot answers benefit questions", "summary": "A pilot of a chatbot.",
            "body": "The agency tried a chatbot.", "kind": "case", "place": "Belgium", "date": "2020",
            "tags": ["Artificial intelligence", "National", "Central-Government", "Pilot", "Social protection"],
            "source": "ips-explorer", "source_id": "ips-1", **fields}


def hcd(**fields) -> dict:
    """Shaped like hcdconnect.jsonl: methods as ``method:`` tags."""
    return {"title": "Farmers design a savings group", "summary": "Interviews with farmers.", "kind": "case_study",
            "organisation": "IDE", "place": "Zambia", "date": "2014-06-01",
            "tags": ["Agriculture", "method: Individual Interview", "method:  Group Interview ", "Financial Services"],
            "source": "hcdconnect", "source_id": "hcd-1", **fields}


def eighteen_f(**fields) -> dict:
    """Shaped like 18f.jsonl: authors as ``author:`` tags."""
    return {"title": "How we work in the open", "summary": "Working in the open.", "kind": "blog_post",
            "url": "https://18f.gsa.gov/2015/01/01/open/", "organisation": "18F",
            "tags": ["how we work", "author: melody", "open source", "author: Kate"],
            "source": "18f", "source_id": "18f-1", **fields}


def only(source_id: str) -> Story:
    return db.session.scalar(select(Story).where(Story.source_id == source_id))


def test_the_defaults_move_methods_authors_stages_and_levels_out_of_the_tags(app):
    report = import_file(SYSTEM, jsonl(ips(), hcd(), eighteen_f()), "jsonl", status="published", app=app)
    assert report.counts == {"imported": 3, "skipped": 0, "failed": 0}
    case = only("ips-1")
    assert sorted(t.name for t in case.tags) == ["Artificial intelligence", "Social protection"]
    assert (case.stage, case.government_level) == ("pilot", "national")
    design = only("hcd-1")
    assert design.methods == ["Individual Interview", "Group Interview"]
    assert sorted(t.name for t in design.tags) == ["Agriculture", "Financial Services"]
    post = only("18f-1")
    assert list(post.people) and [p.name for p in post.people] == ["melody", "Kate"]
    assert sorted(t.name for t in post.tags) == ["how we work", "open source"]
    names = set(db.session.scalars(select(Tag.name)))
    assert not names & {"National", "Central-Government", "Pilot"}
    assert not any(":" in name for name in names)


def test_kb_s_own_export_is_not_mapped(app):
    import_file(SYSTEM, jsonl(ips(source="kb", source_id="kb-1", tags=["National", "method: Interviews"])), "jsonl",
                status="published", app=app)
    story = only("kb-1")
    assert (sorted(t.name for t in story.tags), story.government_level) == (["National", "method: Interviews"], "")


def test_every_status_word_and_level_has_a_place(app):
    records = [ips(source_id=f"ips-{n}", title=f"Case {n}", tags=[status, level])
               for n, (status, level) in enumerate([("In development", "Local"), ("Implemented", "Regional"),
                                                    ("Not in use anymore", "Across Countries"),
                                                    ("Pilot", "Local-Government")])]
    import_file(SYSTEM, jsonl(*records), "jsonl", status="published", app=app)
    found = [(s.stage, s.government_level, list(s.tags)) for s in db.session.scalars(select(Story).order_by(Story.id))]
    assert found == [("development", "local", []), ("implemented", "regional", []),
                     ("discontinued", "international", []), ("pilot", "local", [])]


def test_a_records_own_stage_is_read_through_the_words_and_a_second_stage_is_a_warning(app):
    report = import_file(SYSTEM, jsonl(ips(stage="In development", tags=["Implemented", "Health"])), "jsonl",
                         status="published", app=app)
    assert only("ips-1").stage == "development"
    assert report.rows[0].warnings == ["tag “Implemented” left out: the stage is already “development”"]


def test_a_mapping_file_overrides_the_defaults(app, cli, tmp_path):
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"prefixes": {"method": "tags", "author": None},
                                   "values": {"government_level": {"Central-Government": None}}}))
    source = tmp_path / "records.jsonl"
    source.write_bytes(jsonl(hcd(), eighteen_f(tags=["author: melody"]),
                             ips(tags=["Central-Government", "Pilot"])))
    result = cli("import", str(source), "--status", "published", "--map", str(mapping))
    assert result.exit_code == 0, result.output
    assert sorted(t.name for t in only("hcd-1").tags) == ["Agriculture", "Financial Services", "Group Interview",
                                                          "Individual Interview"]
    assert [t.name for t in only("18f-1").tags] == ["author: melody"]
    case = only("ips-1")
    assert (case.stage, case.government_level, [t.name for t in case.tags]) == ("pilot", "", ["Central-Government"])


def test_a_mapping_file_that_is_not_one_stops_the_import_with_the_reason(app, cli, tmp_path):
    source = tmp_path / "records.jsonl"
    source.write_bytes(jsonl(hcd()))
    for text, reason in [("{not json", "is not JSON"),
                         ('{"prefixes": {"method": "hobbies"}}', "“hobbies” is not one of"),
                         ('{"values": {"stage": {"beta": "released"}}}', "“released” is not one of"),
                         ('{"prefixes": ["method"]}', "are each a JSON object"),
                         ('{"prefixes": {"method": ["methods"]}}', "is written as text"),
                         ('{"values": {"stage": {"beta": ["x"]}}}', "is written as text")]:
        mapping = tmp_path / "map.json"
        mapping.write_text(text)
        result = cli("import", str(source), "--map", str(mapping))
        assert result.exit_code != 0 and reason in result.output, result.output
    assert db.session.scalar(select(func.count(Story.id))) == 0


def test_an_unknown_level_is_left_out_with_a_warning_and_the_record_kept(app):
    report = import_file(SYSTEM, jsonl(ips(government_level="galactic")), "jsonl", status="published", app=app)
    assert report.counts["imported"] == 1 and only("ips-1").government_level == ""
    assert any("level of government “galactic”" in warning for warning in report.rows[0].warnings)


def test_the_api_and_the_story_page_give_the_methods_and_the_level(app, client, make_user):
    import_file(SYSTEM, jsonl(hcd(tags=["method: Storyboards", "Local"])), "jsonl", status="published", app=app)
    story = only("hcd-1")
    page = client.get(f"/stories/{story.slug}").get_data(as_text=True)
    assert "Level of government" in page and "Storyboards" in page
    body = client.get(f"/api/v1/stories/{story.slug}").get_json()
    assert (body["methods"], body["government_level"]) == (["Storyboards"], "local")
    curator = make_user("curator")
    _, token = tokens.create_token(curator, "tests")
    database.commit(app)
    answer = client.patch(f"/api/v1/stories/{story.slug}", headers={"Authorization": f"Bearer {token}"},
                          json={"government_level": "regional", "methods": ["Interviews"]})
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["government_level"], answer.get_json()["methods"]) == ("regional", ["Interviews"])
    refused = client.patch(f"/api/v1/stories/{story.slug}", headers={"Authorization": f"Bearer {token}"},
                           json={"government_level": "galactic"})
    assert refused.status_code == 422 and "government_level" in refused.get_json()["errors"]


def test_field_map_keys_ignore_case_and_spaces_but_not_hyphens():
    fields = {"tags": ["CENTRAL-government", "not in use  ANYMORE", "Method:Empathy", "Scaling",
                       "Central government", "Local government"]}
    warnings: list[str] = []
    FieldMap().apply(fields, warnings)
    # "Central government" with a space is a topic (kb's own vocabulary has it).
    assert fields == {"tags": ["Scaling", "Central government", "Local government"], "government_level": "national",
                      "stage": "discontinued", "methods": ["Empathy"]}
    fields = {"tags": ["Stage: Scaling", "level: across  countries"]}
    FieldMap().apply(fields, warnings)
    assert fields == {"tags": [], "stage": "scaling", "government_level": "international"}
