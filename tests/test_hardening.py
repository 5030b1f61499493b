"""Hostile and odd input to the running app: values no column can hold, and the
headers every response carries."""
from __future__ import annotations

import gc

import pytest

BAD_ADDRESSES = [
    "/stories/%00", "/stories/a%00b", "/search?q=%00", "/search?tag=%00x", "/tags/%00",
    "/attachments/99999999999999999999/x", "/curate/stories/99999999999999999999/edit",
    "/attachments/2147483648/x", "/api/v1/stories/%00", "/organisations/%00",
]


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_a_value_no_column_can_hold_gives_400_or_404(app, client, make_user, sign_in, address):
    sign_in(make_user("curator"))
    assert client.get(address).status_code in (400, 404)


def test_a_nul_in_a_form_gives_400(app, client):
    response = client.post("/account/sign-in", data={"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("address", ["/", "/search?q=data", "/api/v1/search?q=data", "/nowhere"])
def test_every_response_carries_the_security_headers(app, client, address):
    headers = client.get(address).headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert "script-src 'self'" in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers


def test_the_page_template_inline_line_runs_only_by_its_nonce(app, client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    page = response.get_data(as_text=True)
    assert page.count("<script") == page.count(f'nonce="{nonce}"') + page.count("<script type=\"module\" src=")
    assert client.get("/").headers["Content-Security-Policy"] != policy


def test_production_adds_hsts(app_config, monkeypatch):
    from kb import create_app
    from kb.extensions import db

    monkeypatch.setenv("KB_SECRET_KEY", "x" * 32)
    production = create_app({**app_config, "ENV_NAME": "production"})
    with production.app_context():
        headers = production.test_client().get("/about").headers
        db.session.remove()
        db.engine.dispose()
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_draft_attachment_is_private_and_never_stored_by_a_cache(app, client, make_user, sign_in):
    from pdfs import make_pdf

    from kb import database
    from kb.services import attachments, stories

    owner = sign_in(make_user())
    story = stories.create_story(owner, {"title": "Draft with a PDF"})
    upload = attachments.store_upload(app, "report.pdf", make_pdf("Hi"))
    item = attachments.add_attachment(owner, story, upload, app=app)
    database.commit(app)
    with client.get(f"/attachments/{item.id}/report.pdf") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("secret", ["x", "s" * 31])
def test_production_refuses_a_secret_key_shorter_than_32_bytes(app_config, monkeypatch, secret):
    from kb import create_app
    from kb.config import ConfigError

    monkeypatch.setenv("KB_SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="32 bytes"):
        create_app({**app_config, "SECRET_KEY": secret, "ENV_NAME": "production"})


@pytest.fixture
def token(app, make_user):
    from kb import database
    from kb.services import tokens

    _, plaintext = tokens.create_token(make_user("curator"), "hardening")
    database.commit(app)
    return plaintext


def post_story(client, token, body, **kwargs):
    return client.post("/api/v1/stories", headers={"Authorization": f"Bearer {token}"}, json=body, **kwargs)


@pytest.mark.parametrize("field, count", [("organisations", 100_000), ("tags", 51), ("people", 51),
                                          ("related", 51), ("suggested_areas", 5)])
def test_an_api_list_past_its_documented_maximum_is_a_422_naming_it(app, client, token, field, count):
    response = post_story(client, token, {"title": "Long lists", field: [f"name {n}" for n in range(count)]})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    from kb.models import Organisation, Story
    from kb.extensions import db

    assert db.session.query(Story).count() == 0 and db.session.query(Organisation).count() == 0


def test_the_documented_maxima_are_in_the_openapi_document(app, client):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    text = str(schema)
    assert "'maxItems': 50" in text and "'maxItems': 4" in text


@pytest.mark.parametrize("depth", [100_000, 9])
def test_deeply_nested_json_is_a_400(app, client, token, depth):
    body = "[" * depth + "]" * depth
    response = client.post("/api/v1/stories", data='{"title": "x", "links": ' + body + "}",
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "nested" in response.get_json()["error"]


def test_a_json_body_over_2_mb_is_a_413(app, client, token):
    response = post_story(client, token, {"title": "Big", "body": "x" * (2 * 1024 * 1024 + 1)})
    assert response.status_code == 413


def test_a_pdf_too_costly_to_read_is_kept_and_flagged(app, make_user):
    from pdfs import inflating_pdf

    from kb import database
    from kb.services import attachments, stories

    app.config.update(PDF_CPU_SECONDS=1, PDF_WALL_SECONDS=20)
    data = inflating_pdf()
    assert len(data) < 200_000
    owner = make_user()
    story = stories.create_story(owner, {"title": "With a costly PDF"})
    item = attachments.add_attachment(owner, story, attachments.store_upload(app, "bomb.pdf", data), app=app)
    database.commit(app)
    assert (item.text_status, item.text) == ("over_limits", "")
    assert attachments.stored_path(app, item.sha256).read_bytes() == data


def corrupt_the_index(app) -> None:
    """Overwrite every segment file of the live index with garbage of the same size."""
    from kb import search
    from kb.search.index import IndexHome

    search.forget_process_state()
    for path in IndexHome(app.config["INDEX_DIR"]).current_path().iterdir():
        if path.suffix not in (".toc",) and path.is_file() and not path.name.endswith(".lock"):
            path.write_bytes(b"\x00\x01garbage" * (path.stat().st_size // 9 + 1))


# Whoosh leaves a file of the damaged segment open when it fails to read it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_corrupt_index_gives_a_search_unavailable_page_and_a_loud_log(app, client, make_story, caplog):
    make_story(title="Kestrel survey")
    corrupt_the_index(app)
    response = client.get("/search?q=kestrel")
    assert response.status_code == 503
    assert "not available" in response.get_data(as_text=True)
    assert any(record.levelname == "CRITICAL" and "kb index rebuild" in record.getMessage() for record in caplog.records)
    assert client.get("/api/v1/search?q=kestrel").status_code == 503
    caplog.clear()  # the logged traceback holds Whoosh's open file ...
    gc.collect()  # ... which is closed here, where its warning is ignored


# Whoosh leaves a file of the damaged segment open when it fails to read it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_verify_reports_a_corrupt_index_and_says_to_rebuild(app, cli, make_story):
    make_story(title="Kestrel survey")
    corrupt_the_index(app)
    result = cli("index", "verify")
    assert result.exit_code == 2
    assert "kb index rebuild" in result.output and "Traceback" not in result.output
    del result  # its exception holds Whoosh's open file ...
    gc.collect()  # ... which is closed here, where its warning is ignored
    assert cli("index", "rebuild").exit_code == 0
    assert cli("index", "verify").exit_code == 0


def test_a_database_failure_during_a_search_is_a_503_logged_as_a_database_error(app, client, make_story, caplog):
    from sqlalchemy import text

    from kb.extensions import db

    make_story(title="Kestrel survey", organisations=["Moor Council"])
    make_story(title="Kestrel count", organisations=["Moor Council"])
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE story_organisations RENAME TO story_organisations_away"))
    try:
        response = client.get("/search?q=kestrel")
    finally:
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE story_organisations_away RENAME TO story_organisations"))
    assert response.status_code == 503
    assert "not available" in response.get_data(as_text=True)
    logged = [record.getMessage() for record in caplog.records if record.levelname in ("ERROR", "CRITICAL")]
    assert "The database failed during a search" in logged
    assert not any("kb index rebuild" in message for message in logged)
