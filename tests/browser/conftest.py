"""Browser tests: a real Chromium, driven by Playwright, against a live server.

Fixtures:
  browser      one Chromium for the whole session
  live_server  the base URL of ``seeded_app`` served from a thread
  page         a fresh browser context and page per test, with ``base_url``
               set, so ``page.goto("/")`` works; fails the test if the page
               raised a JavaScript error or broke the Content-Security-Policy
  axe          ``axe(page)`` fails the test on any WCAG 2.2 A/AA fault

The tests are skipped, with the reason, when Chromium, Playwright, axe-core or
the built assets are missing, unless ``KB_REQUIRE_BROWSER=1`` (as in CI),
which turns every such skip into a failure. ``KB_CHROMIUM`` chooses the
Chromium binary (default ``/usr/bin/chromium``).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from .axe import AXE_JS, ROOT, assert_accessible

HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("KB_CHROMIUM", "/usr/bin/chromium"))
BUILT_ASSETS = [ROOT / "kb" / "static" / "build" / "kb.css", ROOT / "kb" / "static" / "build" / "govuk-frontend.min.js"]

# Chromium otherwise keeps trying to reach the network (updates, sync, QUIC).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def missing_prerequisites() -> list[str]:
    """What the browser tests need and cannot find; empty when all is there."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        missing.append(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set KB_CHROMIUM)")
    if not AXE_JS.is_file():
        missing.append(f"no {AXE_JS.relative_to(ROOT)} (npm ci --no-audit --no-fund)")
    for asset in BUILT_ASSETS:
        if not asset.is_file():
            missing.append(f"no {asset.relative_to(ROOT)} (bash scripts/build-assets.sh)")
    return missing


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _browser_prerequisites():
    missing = missing_prerequisites()
    if missing:
        reason = "browser tests need: " + "; ".join(missing)
        if os.environ.get("KB_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (KB_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(_browser_prerequisites):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def live_server(seeded_app):
    """Serve ``seeded_app`` on a free port; yield its base URL."""
    server = make_server("127.0.0.1", 0, seeded_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="kb-live-server", daemon=True)
    thread.start()
    # Links in the emails it writes (as .eml files, see inbox.py) lead here.
    seeded_app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def page(browser, live_server):
    """A page in a fresh context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    js_errors: list[str] = []
    csp_violations: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    page.on("console", lambda message: csp_violations.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    try:
        yield page
    finally:
        context.close()
    if js_errors:
        pytest.fail("JavaScript errors on the page:\n" + "\n".join(js_errors), pytrace=False)
    if csp_violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(csp_violations), pytrace=False)


@pytest.fixture
def axe():
    """``axe(page)``: fail unless axe-core finds the page accessible."""
    return assert_accessible
