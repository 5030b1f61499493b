"""Every route of the app, requested as each kind of person, answers as the
table says. A route without a row fails the test, so the table stays complete.

Columns: anonymous, the contributor who owns the stories, another
contributor, a curator, an admin. Requests that change data run against
fresh stories, tags and users, so one cell never depends on another.
Set KB_PRINT_MATRIX=1 to print the statuses seen (to write a new row).
"""
from __future__ import annotations

import os

from curate_helpers import sign_out, switch_user

from kb import database
from kb.policy import SYSTEM
from kb.services import seed, stories, tags, users

ROLES = ("anonymous", "owner", "other", "curator", "admin")
SAFE = ("GET",)

# (method, rule): (anonymous, owner, other contributor, curator, admin)
MATRIX = {
    ("GET", "/"): (200, 200, 200, 200, 200),
    ("GET", "/about"): (200, 200, 200, 200, 200),
    ("GET", "/favicon.ico"): (200, 200, 200, 200, 200),
    ("GET", "/evidence"): (200, 200, 200, 200, 200),
    ("GET", "/spreading-ideas"): (200, 200, 200, 200, 200),
    # Accounts
    ("GET", "/account"): (302, 200, 200, 200, 200),
    ("POST", "/account"): (303, 303, 303, 303, 303),
    ("GET", "/account/password"): (302, 200, 200, 200, 200),
    ("POST", "/account/password"): (303, 422, 422, 422, 422),
    ("GET", "/account/confirm/<token>"): (404, 404, 404, 404, 404),
    ("POST", "/account/confirm"): (303, 303, 303, 303, 303),
    ("GET", "/account/password/reset"): (200, 200, 200, 200, 200),
    ("POST", "/account/password/reset"): (422, 422, 422, 422, 422),
    ("GET", "/account/password/reset/<token>"): (404, 404, 404, 404, 404),
    ("POST", "/account/password/reset/<token>"): (404, 404, 404, 404, 404),
    ("GET", "/account/register"): (200, 303, 303, 303, 303),
    ("GET", "/account/email"): (302, 200, 200, 200, 200),
    ("POST", "/account/email"): (303, 303, 303, 303, 303),
    ("POST", "/account/email/resume"): (303, 303, 303, 303, 303),
    ("GET", "/account/email/unsubscribe/<token>"): (404, 404, 404, 404, 404),
    ("POST", "/account/email/unsubscribe/<token>"): (404, 404, 404, 404, 404),
    # Saved searches (a stranger's saved search is not found)
    ("GET", "/my/searches"): (302, 200, 200, 200, 200),
    ("GET", "/my/searches/new"): (302, 200, 200, 200, 200),
    ("POST", "/my/searches/new"): (303, 303, 303, 303, 303),
    ("GET", "/my/searches/<int:saved_id>/edit"): (302, 404, 404, 404, 404),
    ("POST", "/my/searches/<int:saved_id>/edit"): (303, 404, 404, 404, 404),
    ("POST", "/my/searches/<int:saved_id>/delete"): (303, 404, 404, 404, 404),
    ("POST", "/account/register"): (422, 303, 303, 303, 303),
    ("GET", "/account/sign-in"): (200, 303, 303, 303, 303),
    ("POST", "/account/sign-in"): (422, 422, 422, 422, 422),
    ("POST", "/account/sign-out"): (303, 303, 303, 303, 303),
    ("GET", "/account/tokens/"): (302, 200, 200, 200, 200),
    ("POST", "/account/tokens/"): (303, 422, 422, 422, 422),
    ("POST", "/account/tokens/<int:token_id>/revoke"): (303, 404, 404, 404, 404),
    # JSON API (session cookies are not API credentials: reads are public, writes need a token)
    ("GET", "/api/v1/action-areas"): (200, 200, 200, 200, 200),
    ("GET", "/api/v1/action-areas/<slug>"): (200, 200, 200, 200, 200),
    ("GET", "/api/v1/openapi.json"): (200, 200, 200, 200, 200),
    ("GET", "/api/v1/organisations"): (200, 200, 200, 200, 200),
    ("GET", "/api/v1/organisations/<slug>"): (200, 200, 200, 200, 200),
    ("GET", "/api/v1/search"): (200, 200, 200, 200, 200),
    ("GET", "/api/v1/stories"): (200, 200, 200, 200, 200),
    ("POST", "/api/v1/stories"): (401, 401, 401, 401, 401),
    ("GET", "/api/v1/stories/<slug>"): (404, 404, 404, 404, 404),
    ("GET", "/api/v1/stories/<slug>/suggestions"): (401, 401, 401, 401, 401),
    ("PATCH", "/api/v1/stories/<slug>"): (401, 401, 401, 401, 401),
    ("POST", "/api/v1/stories/<slug>/attachments"): (401, 401, 401, 401, 401),
    ("POST", "/api/v1/stories/<slug>/publish"): (401, 401, 401, 401, 401),
    ("POST", "/api/v1/stories/<slug>/reject"): (401, 401, 401, 401, 401),
    ("POST", "/api/v1/stories/<slug>/request-changes"): (401, 401, 401, 401, 401),
    ("POST", "/api/v1/stories/<slug>/submit"): (401, 401, 401, 401, 401),
    ("POST", "/api/v1/stories/<slug>/withdraw"): (401, 401, 401, 401, 401),
    ("GET", "/api/v1/tags"): (200, 200, 200, 200, 200),
    ("GET", "/api/v1/tags/<slug>"): (200, 200, 200, 200, 200),
    # Public pages and feeds
    ("GET", "/areas/<slug>"): (200, 200, 200, 200, 200),
    ("GET", "/areas/<slug>.atom"): (200, 200, 200, 200, 200),
    ("GET", "/attachments/<int:attachment_id>/<path:filename>"): (404, 404, 404, 404, 404),
    ("GET", "/organisations"): (200, 200, 200, 200, 200),
    ("GET", "/organisations/<slug>"): (200, 200, 200, 200, 200),
    ("GET", "/organisations/<slug>.atom"): (200, 200, 200, 200, 200),
    ("GET", "/people"): (200, 200, 200, 200, 200),
    ("GET", "/people/<slug>"): (200, 200, 200, 200, 200),
    ("GET", "/search"): (200, 200, 200, 200, 200),
    ("GET", "/search.atom"): (200, 200, 200, 200, 200),
    ("GET", "/search/export.<fmt>"): (200, 200, 200, 200, 200),
    ("GET", "/search/facets/<name>"): (200, 200, 200, 200, 200),
    ("GET", "/search/follow"): (200, 200, 200, 200, 200),
    ("GET", "/search/help"): (200, 200, 200, 200, 200),
    ("GET", "/static/<path:filename>"): (200, 200, 200, 200, 200),
    ("GET", "/stories/<slug>"): (404, 200, 404, 200, 200),
    ("GET", "/tags"): (200, 200, 200, 200, 200),
    ("GET", "/tags/<slug>"): (200, 200, 200, 200, 200),
    ("GET", "/tags/<slug>.atom"): (200, 200, 200, 200, 200),
    # Contributors
    ("GET", "/my/stories"): (302, 200, 200, 200, 200),
    ("GET", "/my/stories/<slug>/edit"): (302, 200, 404, 404, 404),
    ("POST", "/my/stories/<slug>/edit"): (422, 422, 404, 404, 404),
    ("GET", "/my/stories/<slug>/preview"): (302, 200, 404, 404, 404),
    ("POST", "/my/stories/<slug>/submit"): (303, 303, 404, 404, 404),
    ("POST", "/my/stories/<slug>/withdraw"): (303, 303, 404, 404, 404),
    ("GET", "/stories/new"): (302, 200, 200, 200, 200),
    ("POST", "/stories/new"): (422, 422, 422, 422, 422),
    # Curators
    ("GET", "/curate/"): (302, 403, 403, 200, 200),
    ("GET", "/curate/audit"): (302, 403, 403, 200, 200),
    ("GET", "/curate/filing/"): (302, 403, 403, 200, 200),
    ("POST", "/curate/filing/stories/<int:story_id>/areas/<slug>"): (303, 403, 403, 303, 303),
    ("POST", "/curate/filing/stories/<int:story_id>/tags/<int:tag_id>"): (303, 403, 403, 303, 303),
    ("GET", "/curate/bulk"): (302, 403, 403, 200, 200),
    ("POST", "/curate/bulk"): (303, 403, 403, 200, 200),
    ("POST", "/curate/bulk/apply"): (303, 403, 403, 303, 303),
    ("GET", "/curate/stories"): (302, 403, 403, 200, 200),
    ("GET", "/curate/stories/<int:story_id>"): (302, 403, 403, 200, 200),
    ("GET", "/curate/stories/<int:story_id>/classify"): (302, 403, 403, 200, 200),
    ("POST", "/curate/stories/<int:story_id>/classify"): (303, 403, 403, 303, 303),
    ("GET", "/curate/stories/<int:story_id>/edit"): (302, 403, 403, 200, 200),
    ("POST", "/curate/stories/<int:story_id>/edit"): (303, 403, 403, 303, 303),
    ("POST", "/curate/stories/<int:story_id>/feature"): (303, 403, 403, 303, 303),
    ("POST", "/curate/stories/<int:story_id>/publish"): (303, 403, 403, 303, 303),
    ("POST", "/curate/stories/<int:story_id>/reject"): (303, 403, 403, 303, 303),
    ("POST", "/curate/stories/<int:story_id>/request-changes"): (303, 403, 403, 303, 303),
    ("GET", "/curate/stories/<int:story_id>/revisions"): (302, 403, 403, 200, 200),
    ("GET", "/curate/stories/<int:story_id>/revisions/<int:number>"): (302, 403, 403, 200, 200),
    ("POST", "/curate/stories/<int:story_id>/revisions/<int:number>/restore"): (303, 403, 403, 303, 303),
    ("GET", "/curate/stories/<int:story_id>/revisions/compare"): (302, 403, 403, 200, 200),
    ("POST", "/curate/stories/<int:story_id>/suggestions"): (303, 403, 403, 303, 303),
    ("POST", "/curate/stories/<int:story_id>/unpublish"): (303, 403, 403, 403, 403),
    ("GET", "/curate/tags"): (302, 403, 403, 200, 200),
    ("GET", "/curate/organisations/<slug>"): (302, 403, 403, 200, 200),
    ("POST", "/curate/organisations/<slug>"): (303, 403, 403, 303, 303),
    ("POST", "/curate/tags"): (303, 403, 403, 303, 303),
    ("GET", "/curate/tags/<int:tag_id>"): (302, 403, 403, 200, 200),
    ("POST", "/curate/tags/<int:tag_id>/aliases"): (303, 403, 403, 303, 303),
    ("POST", "/curate/tags/<int:tag_id>/aliases/<int:alias_id>/delete"): (303, 403, 403, 303, 303),
    ("POST", "/curate/tags/<int:tag_id>/delete"): (303, 403, 403, 303, 303),
    ("POST", "/curate/tags/<int:tag_id>/description"): (303, 403, 403, 303, 303),
    ("GET", "/curate/tags/<int:tag_id>/merge"): (302, 403, 403, 200, 200),
    ("POST", "/curate/tags/<int:tag_id>/merge"): (303, 403, 403, 303, 303),
    ("POST", "/curate/tags/<int:tag_id>/rename"): (303, 403, 403, 303, 303),
    ("GET", "/curate/tags/duplicates"): (302, 403, 403, 200, 200),
    # The world's stories are not flagged as near-duplicates: 404 for curators.
    ("GET", "/curate/duplicates/"): (302, 403, 403, 200, 200),
    ("GET", "/curate/duplicates/<int:story_id>"): (302, 403, 403, 404, 404),
    ("POST", "/curate/duplicates/<int:story_id>/merge"): (303, 403, 403, 404, 404),
    ("POST", "/curate/duplicates/<int:story_id>/dismiss"): (303, 403, 403, 404, 404),
    ("GET", "/curate/import/"): (302, 403, 403, 200, 200),
    ("GET", "/curate/import/<job_id>"): (302, 403, 403, 404, 404),
    ("GET", "/curate/import/<job_id>/report.<fmt>"): (302, 403, 403, 404, 404),
    ("GET", "/curate/import/<job_id>/status.json"): (302, 403, 403, 404, 404),
    ("POST", "/curate/import/<job_id>/resume"): (303, 403, 403, 404, 404),
    ("GET", "/curate/import/formats"): (302, 403, 403, 200, 200),
    ("POST", "/curate/import/"): (303, 403, 403, 422, 422),
    # Admins
    ("GET", "/admin/"): (302, 302, 302, 302, 302),
    ("GET", "/admin/registration"): (302, 403, 403, 403, 200),
    ("POST", "/admin/registration"): (303, 403, 403, 403, 303),
    ("GET", "/admin/users"): (302, 403, 403, 403, 200),
    ("GET", "/admin/users/<int:user_id>"): (302, 403, 403, 403, 200),
    ("POST", "/admin/users/<int:user_id>/role"): (303, 403, 403, 403, 303),
    ("POST", "/admin/users/<int:user_id>/deactivate"): (303, 403, 403, 403, 303),
    ("POST", "/admin/users/<int:user_id>/reactivate"): (303, 403, 403, 403, 303),
}

# Form data that a permitted request needs to succeed.
FORMS = {
    "/curate/bulk": {"story": "{story_id}", "operation": "add_tag", "value": "Bulk"},
    "/curate/bulk/apply": {"ids": "{story_id}", "operation": "add_tag", "value": "Bulk"},
    "/curate/stories/<int:story_id>/classify": {"tags": "Classified", "action_areas": "networks"},
    "/curate/stories/<int:story_id>/edit": {"title": "Edited", "kind": "report", "summary": "Edited."},
    "/curate/stories/<int:story_id>/feature": {"featured": "1"},
    "/curate/stories/<int:story_id>/reject": {"reason": "No"},
    "/curate/stories/<int:story_id>/request-changes": {"note": "More"},
    "/curate/stories/<int:story_id>/suggestions": {"tag": "Suggested", "decision": "accept"},
    "/curate/stories/<int:story_id>/unpublish": {"unpublish_reason": "Old"},
    "/curate/tags": {"name": "Created {n}"},
    "/curate/tags/<int:tag_id>/aliases": {"alias": "Synonym {n}"},
    "/curate/tags/<int:tag_id>/description": {"description": "Described"},
    "/curate/tags/<int:tag_id>/merge": {"target": "{other_tag_id}"},
    "/curate/tags/<int:tag_id>/rename": {"name": "Renamed {n}"},
    "/curate/organisations/<slug>": {"home_authority_code": "Barnsley"},
    "/admin/users/<int:user_id>/role": {"role": "curator"},
    "/admin/registration": {"domains": "*.gov.uk"},
}
QUERIES = {"/curate/stories/<int:story_id>/revisions/compare": "?from=1&to=2"}


def make_world(owner, rule: str = "") -> dict:
    """Fresh things to act on: the owner's draft and submitted stories, and (if
    the route needs them) a tag with an alias and another tag, and a user."""
    draft = stories.create_story(owner, {"title": "Owner's draft", "kind": "report", "summary": "Draft."})
    submitted = stories.create_story(owner, {"title": "Owner's submission", "kind": "report", "summary": "S.",
                                             "suggested_tags": ["Suggested"]})
    stories.submit_story(owner, submitted)
    world = {"draft": draft, "submitted": submitted, "n": draft.id}
    if not rule or "tag_id" in rule:
        world["tag"] = tags.create_tag(SYSTEM, f"Matrix tag {draft.id}")
        world["other_tag"] = tags.create_tag(SYSTEM, f"Other tag {draft.id}")
        world["alias"] = tags.add_alias(SYSTEM, world["tag"], f"Matrix alias {draft.id}")
    if not rule or "user_id" in rule:
        world["target"] = users.create_user(SYSTEM, f"target{draft.id}@example.org", "a long enough password 1")
    return world


def url_for_rule(rule: str, world: dict, common: dict) -> str:
    story = world["draft"] if ("/my/" in rule or rule.endswith(("/submit", "/withdraw"))) else world["submitted"]
    values = {
        "<slug>": story.slug, "<int:story_id>": str(world["submitted"].id), "<int:number>": "1",
        "<int:tag_id>": str(world["tag"].id) if "tag" in world else "",
        "<int:alias_id>": str(world["alias"].id) if "alias" in world else "",
        "<int:user_id>": str(world["target"].id) if "target" in world else "",
        "<int:token_id>": "999", "<int:saved_id>": "999", "<int:attachment_id>": "999", "<job_id>": "no-such-job",
        "<path:filename>": "favicon.svg" if rule.startswith("/static/") else "missing.pdf", "<fmt>": "csv", "<name>": "org",
    }
    if rule.startswith(("/tags/", "/api/v1/tags/")):
        values["<slug>"] = common["published_tag"]
    elif rule.startswith(("/areas/", "/api/v1/action-areas/")):
        values["<slug>"] = "networks"
    elif rule.startswith(("/organisations/", "/api/v1/organisations/", "/curate/organisations/")):
        values["<slug>"] = "matrix-council"
    elif rule.startswith("/people/"):
        values["<slug>"] = "matrix-person"
    url = rule
    for key, value in values.items():
        url = url.replace(key, value)
    return url + QUERIES.get(rule, "")


def form_for(rule: str, world: dict) -> dict:
    ids = {"story_id": world["submitted"].id, "n": world["n"],
           "other_tag_id": world["other_tag"].id if "other_tag" in world else ""}
    return {k: v.format(**ids) for k, v in FORMS.get(rule, {}).items()}


def app_routes(app) -> list[tuple[str, str]]:
    return sorted((method, rule.rule) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def test_every_route_has_a_row_in_the_matrix(app):
    missing = [route for route in app_routes(app) if route not in MATRIX]
    assert missing == [], f"add rows to MATRIX for: {missing}"
    gone = [route for route in MATRIX if route not in app_routes(app)]
    assert gone == [], f"MATRIX has rows for routes that no longer exist: {gone}"


def test_every_route_answers_each_role_as_the_matrix_says(app, client, make_user, sign_in):
    seed.load_action_areas(SYSTEM)
    published = stories.create_story(SYSTEM, {"title": "Published", "kind": "report", "summary": "P.",
                                               "tags": ["Published tag"], "organisations": ["Matrix council"],
                                               "people": ["Matrix person"]})
    stories.publish_story(SYSTEM, published)
    database.commit(app)
    people = {"anonymous": None, "owner": make_user(), "other": make_user(), "curator": make_user("curator"),
              "admin": make_user("admin")}
    common = {"published_tag": "published-tag"}
    shared = make_world(people["owner"])
    database.commit(app)
    seen, wrong = {}, []
    for method, rule in app_routes(app):
        row = []
        for role in ROLES:
            world = shared if method in SAFE else make_world(people["owner"], rule)
            if method not in SAFE:
                database.commit(app)
            if people[role] is None:
                sign_out(client)
            else:
                switch_user(sign_in, people[role])
            response = client.open(url_for_rule(rule, world, common), method=method,
                                   data=form_for(rule, world) if method not in SAFE else None)
            row.append(response.status_code)
            response.close()
        seen[(method, rule)] = tuple(row)
        if MATRIX.get((method, rule)) != tuple(row):
            wrong.append(f"{method} {rule}: expected {MATRIX.get((method, rule))}, got {tuple(row)}")
    if os.environ.get("KB_PRINT_MATRIX") == "1":
        for (method, rule), row in seen.items():
            print(f'    ("{method}", "{rule}"): {row},')
    assert wrong == [], "\n".join(wrong)
