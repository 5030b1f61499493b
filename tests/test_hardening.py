"""Hostile and odd input to the running app: values no column can hold, and the
headers every response carries."""
from __future__ import annotations

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

    monkeypatch.setenv("KB_SECRET_KEY", "x" * 32)
    production = create_app({**app_config, "ENV_NAME": "production"})
    with production.app_context():
        headers = production.test_client().get("/about").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_draft_attachment_is_private_and_never_stored_by_a_cache(app, client, make_user, sign_in):
    from pdfs import make_pdf

    from kb import database
    from kb.services import attachments, stories

    owner = sign_in(make_user())
    story = stories.create_story(owner, {"title": "Draft with a PDF"})
    item = attachments.add_attachment(owner, story, attachments.store_upload("report.pdf", make_pdf("Hi")))
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
