"""The browser check's own guards, on pages served here (no Airflow): it must fail on an extra link that
is relative, leads nowhere, or is shown where no URL is known, and catch an uncaught JavaScript error.
Part of `make e2e` (Debian's Chromium); a few seconds."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_FLAGS, UICheck

pytestmark = pytest.mark.e2e


def link(href: str) -> str:
    return f'<h2>Extra Links</h2><a href="{href}" target="_blank" rel="noopener">View flipbook</a>'


@pytest.fixture(scope="module")
def site():
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write((body or "<h1>Not found</h1>").encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    pages.update(
        {
            "/good": link(f"{base}/flippingbook/view/1/"),
            "/flippingbook/view/1/": "<h1>A flipbook</h1>",
            "/relative": link("/ui-test-ipaper/"),
            "/broken": link(f"{base}/flippingbook/view/gone/"),
            "/none": "<h2>Extra Links</h2>",
            "/script-error": "<script>throw new Error('boom from the page')</script>",
        }
    )
    yield base
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `make e2e` installs Debian's chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.mark.parametrize(
    ("path", "task_id", "problem"),
    [
        ("/good", "upload_flippingbook", None),
        ("/none", "upload_ipaper", None),
        ("/relative", "upload_flippingbook", "points at '/ui-test-ipaper/'"),
        ("/broken", "upload_flippingbook", "answers 404"),
        ("/none", "upload_flippingbook", "no 'View flipbook' link"),
        ("/good", "upload_ipaper", "where no URL is known"),
    ],
)
def test_the_link_check_fails_on_every_broken_link(site, browser, tmp_path, path, task_id, problem):
    check = UICheck({"api": site, "headers": {}, "home": tmp_path, "sandbox": site}, tmp_path, {})
    page = check.new_page(browser)
    page.goto(site + path)
    check.check_link(page, task_id)
    page.close()
    if problem is None:
        assert check.report.problems == []
    else:
        assert len(check.report.problems) == 1 and problem in check.report.problems[0], check.report.problems


def test_an_uncaught_javascript_error_is_caught(site, browser, tmp_path):
    check = UICheck({"api": site, "headers": {}, "home": tmp_path, "sandbox": site}, tmp_path, {})
    page = check.new_page(browser)
    page.goto(site + "/script-error")
    page.wait_for_load_state("load")
    page.close()
    assert any("boom from the page" in error for error in check.report.javascript_errors)
