"""The app as a whole: templates found from the package, friendly error pages."""
from pathlib import Path

import pytest

import kb


def test_installed_app_finds_its_templates_and_static_files(app):
    assert Path(kb.TEMPLATE_FOLDER, "layout.html").exists()
    assert app.jinja_env.get_template("home.html") is not None
    assert app.jinja_env.get_template("govuk_frontend_jinja/template.html") is not None
    assert Path(app.static_folder, "favicon.svg").exists()


def test_an_unexpected_error_gives_the_friendly_500_page_without_a_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_every_page_has_a_skip_link_and_a_main_landmark(seeded_app, client):
    for path in ("/", "/about", "/areas/networks", "/stories/ken-eastwood-on-localgovcamp", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        assert 'href="#main-content"' in page
        assert 'id="main-content"' in page


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_lets_readers_and_writers_of_several_processes_work_at_once(app):
    from sqlalchemy import text

    from kb.extensions import db

    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 15000
