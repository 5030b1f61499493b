"""The JSON API: reads for everyone, writes with personal tokens through the
same services and policy as the pages, and one error shape for every error."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from kb import database, search
from kb.extensions import db
from kb.models import ApiToken
from kb.policy import SYSTEM
from kb.services import tokens
from kb.web import openapi

ERROR_KEYS = {"ok", "status", "error", "errors"}


@pytest.fixture
def token_for(app):
    def make(user) -> dict:
        _, plaintext = tokens.create_token(user, "tests")
        database.commit(app)
        return {"Authorization": f"Bearer {plaintext}"}

    return make


def assert_error_shape(response, status: int) -> dict:
    """The one JSON error shape: {"ok": false, "status", "error", "errors"?}."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) <= ERROR_KEYS and {"ok", "status", "error"} <= set(body)
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    if "errors" in body:
        assert body["errors"] and all(isinstance(k, str) and isinstance(v, str) for k, v in body["errors"].items())
    Draft202012Validator(openapi.resolved_schema("Error")).validate(body)
    return body


def test_every_error_has_the_one_json_shape(seeded_app, client, make_user, token_for):
    contributor = token_for(make_user("contributor"))
    draft = client.post("/api/v1/stories", json={"title": "Mine"}, headers=contributor).get_json()
    cases = [
        (client.get("/api/v1/no-such-thing"), 404),
        (client.get("/api/v1/stories/no-such-story"), 404),
        (client.get("/api/v1/stories?page=0"), 422),
        (client.get("/api/v1/tags?per_page=abc"), 422),
        (client.delete("/api/v1/stories"), 405),
        (client.post("/api/v1/stories", json={"title": "x"}), 401),
        (client.get("/api/v1/stories", headers={"Authorization": "Bearer kb_not_a_token"}), 401),
        (client.post("/api/v1/stories", data="{", headers={**contributor, "Content-Type": "application/json"}), 400),
        (client.post("/api/v1/stories", data="title=x", headers=contributor), 415),
        (client.post("/api/v1/stories", json={"title": 5, "colour": "red"}, headers=contributor), 422),
        (client.post(f"/api/v1/stories/{draft['slug']}/publish", headers=contributor), 403),
    ]
    for response, status in cases:
        assert_error_shape(response, status)
    invalid = cases[9][0].get_json()
    assert invalid["errors"] == {"title": "title must be text.", "colour": "colour is not a field this accepts."}
    assert cases[5][0].headers["WWW-Authenticate"].startswith("Bearer")
    assert set(cases[4][0].headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_contributor_creates_edits_and_submits_a_draft_with_a_token(app, client, make_user, token_for):
    seed_areas(app)
    headers = token_for(make_user("contributor"))
    created = client.post("/api/v1/stories", json={"title": "Library app", "suggested_tags": ["Libraries"]},
                          headers=headers)
    assert created.status_code == 201
    story = created.get_json()
    assert story["status"] == "draft" and created.headers["Location"].endswith("/api/v1/stories/library-app")
    assert client.get("/api/v1/stories/library-app").status_code == 404  # a draft is not public

    not_ready = client.post("/api/v1/stories/library-app/submit", headers=headers)
    assert assert_error_shape(not_ready, 422)["errors"].keys() >= {"kind", "summary"}

    edited = client.patch("/api/v1/stories/library-app",
                          json={"kind": "case_study", "summary": "Books by post.", "suggested_areas": ["networks"]},
                          headers=headers)
    assert edited.status_code == 200 and edited.get_json()["summary"] == "Books by post."
    submitted = client.post("/api/v1/stories/library-app/submit", headers=headers)
    assert submitted.get_json()["status"] == "submitted"
    assert client.get("/api/v1/stories/library-app", headers=headers).get_json()["suggested_areas"] == ["networks"]


def test_contributor_cannot_tag_publish_or_touch_others_stories(app, client, make_user, make_story, token_for):
    owner = make_user("contributor")
    other = token_for(make_user("contributor"))
    mine = token_for(owner)
    draft = make_story(actor=owner, status="draft", title="Owner's draft")
    assert_error_shape(client.get(f"/api/v1/stories/{draft.slug}", headers=other), 404)
    assert_error_shape(client.patch(f"/api/v1/stories/{draft.slug}", json={"title": "Mine now"}, headers=other), 404)
    assert_error_shape(client.patch(f"/api/v1/stories/{draft.slug}", json={"tags": ["Curated"]}, headers=mine), 403)
    submitted = client.post(f"/api/v1/stories/{draft.slug}/submit", headers=mine)
    assert submitted.status_code == 200
    assert_error_shape(client.post(f"/api/v1/stories/{draft.slug}/publish", headers=mine), 403)


def test_curator_tags_and_publishes_and_search_finds_it(app, client, make_user, make_story, token_for):
    seed_areas(app)
    story = make_story(status="submitted", title="Council bike loans")
    headers = token_for(make_user("curator"))
    tagged = client.patch(f"/api/v1/stories/{story.slug}",
                          json={"tags": ["Cycling"], "action_areas": [{"slug": "culture", "reason": "Why."}]},
                          headers=headers)
    assert tagged.status_code == 200
    assert tagged.get_json()["tags"] == ["Cycling"]
    published = client.post(f"/api/v1/stories/{story.slug}/publish", json={"note": "Lovely."}, headers=headers)
    assert published.get_json()["status"] == "published"
    public = client.get(f"/api/v1/stories/{story.slug}").get_json()
    assert public["action_areas"] == [{"slug": "culture", "name": "Culture, leadership and people", "reason": "Why."}]
    assert public["review_note"] == ""  # the curator's note is for the contributor and curators
    found = client.get("/api/v1/search", query_string={"q": "bike loans", "tag": "cycling"}).get_json()
    assert [r["slug"] for r in found["results"]] == [story.slug]


def test_search_is_the_search_page_search_with_total_results_and_facets(seeded_app, client):
    params = {"q": "localgovcamp", "area": "networks", "sort": "newest"}
    api = client.get("/api/v1/search", query_string=params).get_json()
    page = search.search_stories(seeded_app, "localgovcamp", {"area": ["networks"]}, "newest", 1, per_page=20)
    assert api["total"] == page.total > 0
    assert [r["id"] for r in api["results"]] == page.story_ids
    assert set(api["facets"]) == set(search.FILTERS)
    assert {"value": "networks", "label": "Networks that spread ideas", "count": page.total, "selected": True, "depth": 0} \
        in api["facets"]["area"]
    assert_error_shape(client.get("/api/v1/search?sort=oldest"), 422)


def test_lists_and_details_of_stories_areas_tags_and_organisations(seeded_app, client):
    stories = client.get("/api/v1/stories?per_page=2").get_json()
    assert stories["total"] == 5 and stories["pages"] == 3 and len(stories["results"]) == 2
    assert client.get("/api/v1/stories?page=3&per_page=2").get_json()["results"][0]["slug"]
    areas = client.get("/api/v1/action-areas").get_json()
    assert [a["slug"] for a in areas["results"]] == ["conditions", "culture", "networks", "evaluation"]
    networks = client.get("/api/v1/action-areas/networks").get_json()
    assert networks["stories"]["total"] == 4
    tags = client.get("/api/v1/tags?per_page=100").get_json()
    assert {"name": "Reading list", "slug": "reading-list"}.items() <= next(
        t for t in tags["results"] if t["slug"] == "reading-list").items()
    org = client.get("/api/v1/organisations/barnsley-council").get_json()
    assert [s["slug"] for s in org["stories"]["results"]] == ["ken-eastwood-on-localgovcamp"]
    assert client.get("/api/v1/organisations?per_page=1").get_json()["total"] >= 5


def test_a_tag_alias_or_merged_tag_gives_its_survivor(seeded_app, client):
    from kb.services import tags, taxonomy

    survivor = taxonomy.find_tag("Reading list")
    tags.add_alias(SYSTEM, survivor, "Booklist")
    database.commit(seeded_app)
    assert client.get("/api/v1/tags/booklist").get_json()["slug"] == "reading-list"


def test_tokens_are_stored_hashed_and_stop_working_when_revoked(app, client, make_user, token_for):
    user = make_user("contributor")
    headers = token_for(user)
    plaintext = headers["Authorization"].split()[1]
    stored = db.session.scalar(select(ApiToken))
    assert plaintext not in (stored.token_hash, stored.prefix) and stored.token_hash == tokens.hash_token(plaintext)
    assert client.post("/api/v1/stories", json={"title": "Works"}, headers=headers).status_code == 201
    tokens.revoke_token(user, stored.id)
    database.commit(app)
    assert_error_shape(client.post("/api/v1/stories", json={"title": "Fails"}, headers=headers), 401)


def test_a_deactivated_users_token_does_not_work(app, client, make_user, token_for):
    user = make_user("contributor")
    headers = token_for(user)
    user.active = False
    database.commit(app)
    assert_error_shape(client.get("/api/v1/stories", headers=headers), 401)


def test_the_session_cookie_does_not_authorise_api_writes(app, client, make_user, sign_in):
    """The API is exempt from CSRF, so it must not act on a browser's session."""
    sign_in(make_user("curator"))
    assert_error_shape(client.post("/api/v1/stories", json={"title": "Cross-site"}), 401)


def test_openapi_document_is_valid_and_describes_every_api_route(app, client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi_document":
            path = rule.rule[len("/api/v1"):].replace("<slug>", "{slug}")
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented


def test_token_pages_create_show_once_and_revoke(app, client, make_user, sign_in):
    user = sign_in(make_user("contributor"))
    assert client.get("/account/tokens/").status_code == 200
    assert client.post("/account/tokens/", data={"name": ""}).status_code == 422
    created = client.post("/account/tokens/", data={"name": "sync script"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    page = created.get_data(as_text=True)
    assert f"kb_{token.prefix}_" in page
    listing = client.get("/account/tokens/").get_data(as_text=True)
    assert "sync script" in listing and f"kb_{token.prefix}_…" in listing
    revoked = client.post(f"/account/tokens/{token.id}/revoke")
    assert revoked.status_code == 303
    after = client.get("/account/tokens/").get_data(as_text=True)
    assert "The token “sync script” was revoked." in after and f"kb_{token.prefix}_…" not in after


def test_nobody_revokes_someone_elses_token(app, client, make_user, sign_in):
    owner = make_user("contributor")
    token, _ = tokens.create_token(owner, "owner's")
    database.commit(app)
    sign_in(make_user("contributor"))
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404


def test_token_pages_need_sign_in(app, client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


def seed_areas(app):
    from kb.services import seed

    seed.load_action_areas(SYSTEM)
    database.commit(app)


def test_account_page_links_to_api_tokens(app, client, make_user, sign_in):
    sign_in(make_user("contributor"))
    assert 'href="/account/tokens/"' in client.get("/account").get_data(as_text=True)


def test_documents_are_attached_through_the_api_in_one_revision(app, client, make_user, make_story, token_for):
    import io

    from kb.models import Revision, Story

    owner = make_user("contributor")
    headers = token_for(owner)
    slug = client.post("/api/v1/stories", json={"title": "With papers"}, headers=headers).get_json()["slug"]
    files = {"file": [(io.BytesIO(b"Zanzibarite notes"), "notes.txt"), (io.BytesIO(b"%PDF-1.4 not really"), "x.md")]}
    refused = client.post(f"/api/v1/stories/{slug}/attachments", data=files, headers=headers,
                          content_type="multipart/form-data")
    assert "“x.md” must be a PDF or a plain text file." in assert_error_shape(refused, 422)["errors"]["file"]
    sent = client.post(f"/api/v1/stories/{slug}/attachments", headers=headers, content_type="multipart/form-data",
                       data={"file": [(io.BytesIO(b"Zanzibarite notes"), "notes.txt"),
                                      (io.BytesIO(b"More words"), "more.txt")]})
    assert sent.status_code == 201
    assert [a["filename"] for a in sent.get_json()["attachments"]] == ["notes.txt", "more.txt"]
    story = db.session.scalar(select(Story).where(Story.slug == slug))
    reasons = [r.reason for r in db.session.scalars(select(Revision).where(Revision.story_id == story.id)
                                                    .order_by(Revision.number))]
    assert reasons == ["Created through the API", "Edited; attached notes.txt, more.txt"]

    assert_error_shape(client.post(f"/api/v1/stories/{slug}/attachments", headers=headers,
                                   content_type="multipart/form-data", data={}), 422)
    assert_error_shape(client.post(f"/api/v1/stories/{slug}/attachments", json={"file": "x"}, headers=headers), 415)
    assert_error_shape(client.post(f"/api/v1/stories/{slug}/attachments", content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(b"words"), "a.txt")}), 401)
    other = token_for(make_user("contributor"))
    assert_error_shape(client.post(f"/api/v1/stories/{slug}/attachments", headers=other,
                                   content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(b"words"), "a.txt")}), 404)
    published = make_story(status="published", title="Public one")
    assert_error_shape(client.post(f"/api/v1/stories/{published.slug}/attachments", headers=other,
                                   content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(b"words"), "a.txt")}), 403)
