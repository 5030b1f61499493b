"""A real ``kb serve`` (gunicorn, several worker processes) on the shared corpus:
answers under concurrent load equal a single client's."""
from __future__ import annotations

import json
import re
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import generate  # noqa: E402
from bench.live import LiveServer, make_instance  # noqa: E402

SEARCHES = ["open data", "agile procurement", "user research", "digital inclusion", "cloud hosting",
            "housing", "service design", "health"]


@pytest.fixture(scope="module")
def corpus_instance(tmp_path_factory):
    """An instance holding every story of the shared corpus (SQLite), indexed."""
    return make_instance(tmp_path_factory.mktemp("served"), stories=generate(2276))


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def api_search(base: str, q: str) -> tuple[int, str]:
    status, body = fetch(f"{base}/api/v1/search?{urllib.parse.urlencode({'q': q, 'per_page': 50})}")
    if status == 200:
        found = json.loads(body)
        # Links name the server, whose port changes with each start.
        body = json.dumps({k: found[k] for k in ("total", "results", "facets")}, sort_keys=True).replace(base, "")
    return status, body


def test_twenty_clients_right_after_a_start_get_what_one_client_gets(corpus_instance):
    server = LiveServer(corpus_instance, workers=4)
    with server:
        expected = {q: api_search(server.url, q) for q in SEARCHES}
        assert all(status == 200 for status, _ in expected.values())
        assert json.loads(expected["open data"][1])["total"] > 500
        server.restart()
        asked = SEARCHES * 15
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda q: (q, api_search(server.url, q)), asked))
        log = server.output()
        # Read before the fork, inherited by every worker (plain data, no open file).
        warmed = re.findall(r"kb serve: search read (\d+) documents and (\d+) words", log)
        assert warmed and int(warmed[-1][0]) >= 2276 and int(warmed[-1][1]) > 0
    wrong = [(q, status) for q, (status, body) in answers if (status, body) != expected[q]]
    assert not wrong, f"{len(wrong)} of {len(answers)} answers differ, e.g. {wrong[:5]}\n{log[-3000:]}"


def test_a_short_read_of_postings_is_refused_and_never_kept(app, monkeypatch):
    from whoosh.codec.whoosh3 import W3LeafMatcher

    from kb import database, search
    from kb.errors import Unavailable
    from kb.policy import SYSTEM
    from kb.search import postings
    from kb.services import stories

    for n in range(3):  # one commit, one segment: postings in a block, not inlined
        story = stories.create_story(SYSTEM, {"title": f"Kestrel survey {n}", "kind": "talk", "summary": "s"})
        stories.submit_story(SYSTEM, story)
        stories.publish_story(SYSTEM, story)
    database.commit(app)
    search.forget_process_state()
    read_ids = W3LeafMatcher._read_ids

    def short_read(matcher):  # as when another process moved a shared file offset
        read_ids(matcher)
        matcher._ids = matcher._ids[:1]

    monkeypatch.setattr(W3LeafMatcher, "_read_ids", short_read)
    with pytest.raises(Unavailable) as refused:  # a 503 page, not wrong results
        search.search_stories(app, "kestrel", snippets=False)
    assert isinstance(refused.value.__cause__, postings.PostingsReadError)
    monkeypatch.setattr(W3LeafMatcher, "_read_ids", read_ids)
    assert search.search_stories(app, "kestrel", snippets=False).total == 3


@pytest.fixture
def accounts_instance(tmp_path, db_url):
    """An instance (on each database) with one account, for a real server."""
    from kb import create_app, database
    from kb.extensions import db
    from kb.policy import SYSTEM
    from kb.services import users

    env = make_instance(tmp_path / "accounts", db_url)
    app = create_app({"INSTANCE_PATH": env["KB_INSTANCE_PATH"], "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        users.create_user(SYSTEM, "target@example.org", "correct horse battery staple")
        database.commit(app)
        db.session.remove()
        db.engine.dispose()
    return env


def csrf_token(session, url: str) -> str:
    import re

    page = session.get(url, timeout=60).text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_failed_sign_ins_are_counted_across_every_worker(accounts_instance):
    import requests

    with LiveServer({**accounts_instance, "KB_SECRET_KEY": "k" * 32}, workers=3) as server:
        statuses = []
        for _ in range(14):
            with requests.Session() as browser:  # a new connection each time: any worker may answer
                token = csrf_token(browser, f"{server.url}/account/sign-in")
                statuses.append(browser.post(f"{server.url}/account/sign-in", timeout=60, data={
                    "csrf_token": token, "email": "target@example.org", "password": "wrong password"}).status_code)
        pids = {line.split("[")[2].split("]")[0] for line in server.output().splitlines() if "Booting worker" in line}
    assert len(pids) == 3
    assert statuses == [422] * 10 + [429] * 4


def test_servers_side_by_side_leave_no_shared_control_socket(accounts_instance, tmp_path):
    """gunicorn's control socket is one path per user: kb turns it off, so two
    servers (or a test run beside a live one) never take it from each other."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**accounts_instance, "HOME": str(home)}
    with LiveServer(env, workers=1) as first, LiveServer(env, workers=1, log_path=tmp_path / "second.log") as second:
        assert fetch(first.url + "/")[0] == fetch(second.url + "/")[0] == 200
        assert not (home / ".gunicorn").exists()


def test_signing_out_ends_copied_cookies_on_every_worker_and_headers_are_served(accounts_instance):
    """Through gunicorn with several workers: a session and a remember-me cookie
    copied before sign-out open nothing after it, whichever worker answers; and
    the served responses carry the security headers."""
    import requests

    def account_status(cookies) -> int | str:
        """200, or where the account page sends the visitor."""
        with requests.Session() as other:  # a new connection each time: any worker may answer
            other.cookies.update(cookies)
            response = other.get(f"{server.url}/account", timeout=60, allow_redirects=False)
            return response.headers["Location"].split("?")[0] if response.is_redirect else response.status_code

    with LiveServer({**accounts_instance, "KB_SECRET_KEY": "k" * 32}, workers=3) as server:
        with requests.Session() as browser:
            token = csrf_token(browser, f"{server.url}/account/sign-in")
            signed_in = browser.post(f"{server.url}/account/sign-in", timeout=60, data={
                "csrf_token": token, "email": "target@example.org", "password": "correct horse battery staple",
                "remember": "y"})
            assert signed_in.status_code == 200
            copied = browser.cookies.get_dict()
            remember_only = {k: v for k, v in copied.items() if k == "remember_token"}
            assert remember_only, "remember me sets its cookie"
            assert [account_status(copied) for _ in range(6)] == [200] * 6
            assert [account_status(remember_only) for _ in range(3)] == [200] * 3

            headers = browser.get(f"{server.url}/", timeout=60).headers
            assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
            assert "unsafe-inline" not in headers["Content-Security-Policy"]
            assert headers["X-Frame-Options"] == "DENY"
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["Referrer-Policy"]

            token = csrf_token(browser, f"{server.url}/account")
            assert browser.post(f"{server.url}/account/sign-out", data={"csrf_token": token},
                                timeout=60).status_code == 200
        assert [account_status(copied) for _ in range(6)] == ["/account/sign-in"] * 6
        assert [account_status(remember_only) for _ in range(3)] == ["/account/sign-in"] * 3


COSTLY = ["cou*", "dig* ser*", "pub* AND com*", " ".join(["council data service community digital"] * 60)]


def test_costly_searches_at_once_leave_ordinary_pages_answering(corpus_instance):
    """Costly searches from several clients at once, beside ordinary pages: every
    ordinary page answers, every costly search gets results or kb's polite 429
    page, none a 5xx."""
    from kb.search.budget import BUSY_MESSAGE

    with LiveServer(corpus_instance, workers=3) as server:
        costly = [f"{server.url}/search?{urllib.parse.urlencode({'q': q})}" for q in COSTLY]
        costly += [f"{server.url}/api/v1/search?{urllib.parse.urlencode({'q': q})}" for q in COSTLY]
        ordinary = [f"{server.url}/", f"{server.url}/search?q=open+data", f"{server.url}/stories/story-5",
                    f"{server.url}/api/v1/search?q=health"]
        with ThreadPoolExecutor(12) as pool:
            costly_answers = [pool.submit(fetch, url) for url in costly * 3]
            ordinary_answers = [pool.submit(fetch, url) for url in ordinary * 4]
            costly_answers = [future.result() for future in costly_answers]
            ordinary_answers = [future.result() for future in ordinary_answers]
        log = server.output()
    assert [status for status, _ in ordinary_answers] == [200] * len(ordinary_answers), log[-3000:]
    assert {status for status, _ in costly_answers} <= {200, 429}, log[-3000:]
    assert any(status == 200 and "result-count" in body for status, body in costly_answers)
    refused = [body for status, body in costly_answers if status == 429]
    assert all(BUSY_MESSAGE.split(".")[0] in body.replace("&#39;", "'") for body in refused)


def test_a_costly_search_past_the_node_limit_gets_a_polite_429_and_others_still_answer(corpus_instance):
    """While this process holds the node's one place for a costly search, the
    server refuses another costly search (page and API) and answers the rest."""
    from kb.search import budget

    folder = corpus_instance["KB_INSTANCE_PATH"]
    with LiveServer(corpus_instance, workers=2) as server, budget.costly_slot(folder, 1) as placed:
        assert placed
        page = fetch(f"{server.url}/search?q=cou%2A")
        api = fetch(f"{server.url}/api/v1/search?q=dig%2A")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/search?q=ser%2A", timeout=120)
        retry_after = refused.value.headers["Retry-After"]
        refused.value.close()
        ordinary = fetch(f"{server.url}/search?q=open+data")
    assert page[0] == 429 and "Please try again in a minute" in page[1] and "govuk-" in page[1]
    assert "The service is busy" in page[1] and retry_after == "30"
    assert api[0] == 429 and json.loads(api[1])["error"] == budget.BUSY_MESSAGE
    assert ordinary[0] == 200
    with LiveServer(corpus_instance, workers=2) as server:
        assert fetch(f"{server.url}/search?q=cou%2A")[0] == 200
