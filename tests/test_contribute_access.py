"""Who may reach each contributor page, and nothing lost when the session or the
CSRF token has expired (with CSRF on, as in production)."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from clients import FreshClient

from kb import create_app, database
from kb.extensions import db
from kb.models import Story
from kb.policy import SYSTEM
from kb.services import seed

PASSWORD = "correct horse battery staple"


# Permissions, route by route and role by role ------------------------------------

OWN_STORY_ROUTES = [("get", "/my/stories/{slug}/edit"), ("post", "/my/stories/{slug}/edit"),
                    ("get", "/my/stories/{slug}/preview"), ("post", "/my/stories/{slug}/submit"),
                    ("post", "/my/stories/{slug}/withdraw")]
SIGNED_IN_PAGES = ["/stories/new", "/my/stories", "/account", "/account/password"]


@pytest.mark.parametrize("url", SIGNED_IN_PAGES + [r[1] for r in OWN_STORY_ROUTES if r[0] == "get"])
def test_readers_are_sent_to_sign_in_with_the_return_address(app, client, make_user, make_story, url):
    story = make_story(make_user(), "draft")
    url = url.format(slug=story.slug)
    response = client.get(url)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.path, parse_qs(location.query)) == ("/account/sign-in", {"next": [url]})


@pytest.mark.parametrize("url", ["/my/stories/{slug}/submit", "/my/stories/{slug}/withdraw"])
def test_readers_cannot_submit_or_withdraw(app, client, make_user, make_story, url):
    story = make_story(make_user(), "draft")
    response = client.post(url.format(slug=story.slug))
    assert (response.status_code, urlsplit(response.headers["Location"]).path) == (303, "/account/sign-in")
    assert story.status == "draft"


def test_a_reader_posting_the_form_is_asked_to_sign_in_and_nothing_is_saved(app, client):
    response = client.post("/stories/new", data={"title": "Anonymous", "summary": "Typed"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Sign in to save your story" in page and "Typed" in page
    assert db.session.scalars(db.select(Story)).first() is None


@pytest.mark.parametrize("role", ["contributor", "curator", "admin"])
@pytest.mark.parametrize("method, url", OWN_STORY_ROUTES)
def test_nobody_reaches_another_persons_story_through_the_contributor_pages(
        app, client, make_user, make_story, sign_in, role, method, url):
    story = make_story(make_user(), "draft", title="Not yours")
    sign_in(make_user(role))
    response = getattr(client, method)(url.format(slug=story.slug), data={"title": "Hijacked"})
    assert response.status_code == 404
    assert (story.title, story.status) == ("Not yours", "draft")


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
@pytest.mark.parametrize("role", ["contributor", "curator", "admin"])
def test_every_signed_in_role_reaches_its_own_pages(app, client, make_user, sign_in, role, url):
    seed.load_action_areas(SYSTEM)
    sign_in(make_user(role))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("status, editable", [("draft", True), ("changes_requested", True), ("submitted", False),
                                              ("published", False), ("rejected", False), ("withdrawn", False)])
def test_contributors_edit_only_drafts_and_stories_sent_back(app, client, make_user, make_story, sign_in,
                                                             status, editable):
    owner = sign_in(make_user())
    story = make_story(owner, status, title="Mine")
    assert client.get(f"/my/stories/{story.slug}/edit").status_code == (200 if editable else 403)
    response = client.post(f"/my/stories/{story.slug}/edit", data={"title": "Changed"})
    assert response.status_code == (303 if editable else 403)
    assert (story.title == "Changed") == editable


def test_contributors_see_their_own_unpublished_story_and_no_one_elses(app, client, make_user, make_story, sign_in):
    owner, other = make_user(), make_user()
    story = make_story(owner, "submitted", title="Under review")
    sign_in(other)
    assert client.get(f"/stories/{story.slug}").status_code == 404
    sign_in(owner)
    assert client.get(f"/stories/{story.slug}").status_code == 200
    assert client.get(f"/my/stories/{story.slug}/preview").status_code == 200


def test_contributors_cannot_publish_or_reach_curator_pages(app, client, make_user, make_story, sign_in):
    owner = sign_in(make_user())
    story = make_story(owner, "submitted")
    assert client.get("/curate/").status_code == 403
    assert client.get("/curate/stories").status_code == 403
    assert client.post(f"/curate/stories/{story.id}/publish").status_code == 403
    assert client.get(f"/curate/stories/{story.id}/edit").status_code == 403
    assert story.status == "submitted"


def test_a_story_already_published_cannot_be_withdrawn_by_its_contributor(app, client, make_user, make_story, sign_in):
    owner = sign_in(make_user())
    story = make_story(owner, "published")
    assert client.post(f"/my/stories/{story.slug}/withdraw").status_code == 403
    assert story.status == "published"


# Nothing lost ---------------------------------------------------------------------------

class FormValues(HTMLParser):
    """The values a browser would send for the story form on a page."""

    def __init__(self):
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._textarea = None
        self._select = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("enctype") == "multipart/form-data":
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "file", "password"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.values.append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def form_values(page: str) -> dict:
    parser = FormValues()
    parser.feed(page)
    values: dict = {}
    for name, value in parser.values:
        values.setdefault(name, []).append(value)
    return values


@pytest.fixture
def csrf_app(app_config):
    """An app with CSRF protection on, as in production."""
    protected = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    protected.test_client_class = FreshClient
    with protected.app_context():
        seed.load_action_areas(SYSTEM)
        database.commit(protected)
        yield protected
        db.session.remove()
        db.engine.dispose()


def new_user(app, email="writer@example.org"):
    from kb.services import users

    user = users.create_user(SYSTEM, email, PASSWORD, display_name="Writer")
    database.commit(app)
    return user


TYPED = {"title": "Libraries open late", "kind": "case_study", "summary": "Opening hours followed the readers.",
         "body": "A long story typed over **an hour**.", "published_on": ["2", "3", "2019"],
         "organisations-0": "Leeds Libraries", "links-0-url": "https://example.org/libraries",
         "links-0-title": "The write-up", "suggested_areas": ["culture"], "suggested_tags": "libraries, opening hours",
         "action": "submit"}


def assert_everything_typed_is_on(page: str) -> None:
    values = form_values(page)
    for name, value in TYPED.items():
        if name != "action":
            assert values.get(name) == (value if isinstance(value, list) else [value]), name


def test_a_stale_csrf_token_shows_the_form_again_with_everything_typed(csrf_app):
    user = new_user(csrf_app)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    response = client.post("/stories/new", data={**TYPED, "csrf_token": "stale-token"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "page had been open too long" in page
    assert_everything_typed_is_on(page)
    assert db.session.scalars(db.select(Story)).first() is None
    again = client.post("/stories/new", data=form_values(page) | {"action": "submit"})
    assert again.status_code == 303
    story = db.session.scalars(db.select(Story)).one()
    assert (story.title, story.status, story.submitted_by_id) == ("Libraries open late", "submitted", user.id)
    assert story.links[0].url == "https://example.org/libraries"


def test_an_expired_session_keeps_everything_typed_and_saves_once_signed_in(csrf_app):
    user = new_user(csrf_app)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    form_page = client.get("/stories/new").get_data(as_text=True)
    token = form_values(form_page)["csrf_token"][0]
    client.delete_cookie("session")  # the session expired while they were writing
    response = client.post("/stories/new", data={**TYPED, "csrf_token": token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "You have been signed out" in page and "Sign in to save your story" in page
    assert_everything_typed_is_on(page)
    assert db.session.scalars(db.select(Story)).first() is None

    wrong = client.post("/stories/new", data=form_values(page) | {"email": user.email, "password": "wrong password",
                                                                 "action": "submit"})
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "Enter a correct email address and password" in page
    assert_everything_typed_is_on(page)

    signed_in = client.post("/stories/new", data=form_values(page) | {"email": user.email, "password": PASSWORD,
                                                                     "action": "submit"})
    assert signed_in.status_code == 303
    story = db.session.scalars(db.select(Story)).one()
    assert (story.title, story.status, story.submitted_by_id) == ("Libraries open late", "submitted", user.id)
    assert client.get("/my/stories").status_code == 200


def test_an_expired_session_while_editing_saves_the_edit_once_signed_in(csrf_app):
    from kb.services import stories

    user = new_user(csrf_app)
    story = stories.create_story(user, {"title": "Draft to finish"})
    database.commit(csrf_app)
    client = csrf_app.test_client()
    response = client.post(f"/my/stories/{story.slug}/edit", data={"title": "Draft to finish", "summary": "Finished"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Finished" in page and f'action="/my/stories/{story.slug}/edit"' in page
    done = client.post(f"/my/stories/{story.slug}/edit",
                       data=form_values(page) | {"email": user.email, "password": PASSWORD, "action": "save"})
    assert done.status_code == 303
    assert story.summary == "Finished"


def test_signing_in_as_someone_else_does_not_hand_them_the_story(csrf_app):
    from kb.services import stories

    owner, other = new_user(csrf_app), new_user(csrf_app, "other@example.org")
    story = stories.create_story(owner, {"title": "Owner's draft"})
    database.commit(csrf_app)
    client = csrf_app.test_client()
    page = client.post(f"/my/stories/{story.slug}/edit", data={"title": "Taken"}).get_data(as_text=True)
    response = client.post(f"/my/stories/{story.slug}/edit",
                           data=form_values(page) | {"email": other.email, "password": PASSWORD})
    assert response.status_code == 404
    assert story.title == "Owner's draft"


def test_sign_out_and_other_forms_need_a_csrf_token(csrf_app):
    user = new_user(csrf_app)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert client.post("/account/sign-out").status_code == 400
    assert client.post("/account/password", data={"current_password": PASSWORD}).status_code == 400
    response = client.post("/my/stories/anything/withdraw")
    assert response.status_code == 303 and response.headers["Location"] == "/my/stories"
