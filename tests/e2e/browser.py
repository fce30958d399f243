"""The browser check of `make e2e`: a new user's first contact with the provider in the Airflow UI, in
Debian's Chromium driven by Playwright, against the `airflow standalone` of tests/e2e/test_standalone.py.

Each connection type is made through the UI's Add form with every extra left empty; the DAG
``ui_connections`` (tests/e2e/dags) then uploads through them and writes a Papyrs page; for each task
the check opens the log, the XCom tab and the extra link. It fails on a failed task, an extra link
that is not an absolute URL or does not open (HTTP status >= 400), and an uncaught JavaScript error.
Screenshots go to ``.e2e/browser/``.

Only Debian's /usr/bin/chromium is used (`make e2e` installs it with apt-get); never a browser that
Playwright downloads. The flags are the ones that work on a closed network.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DAG_ID = "ui_connections"
# What the Add form gets: the standard fields only (the sandbox's host and credentials).
STANDARD_FIELDS = ("host", "login", "password")
# The link each task should show, and where it must lead (None: no link, on purpose).
EXPECTED_LINKS = {
    "upload_flippingbook": ("View flipbook", "/flippingbook/view/"),
    "upload_flipsnack": ("View flipbook", "/flipsnack/viewer/"),
    "upload_ipaper": ("View flipbook", None),  # no viewer_base_url: the link is left out
    "papyrs_page": ("Open page", "/papyrs/"),
}
# Expected in each task's log: what was published where.
EXPECTED_LOG = {
    "upload_flippingbook": "Converted (",
    "upload_flipsnack": "Converted (",
    "upload_ipaper": "sets no viewer_base_url, so no link is shown",
    "papyrs_page": "Created Papyrs page",
}


@dataclass
class BrowserReport:
    """What the check saw; ``problems`` must stay empty."""

    screenshots: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    javascript_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class UICheck:
    """One browser session against the deployment: ``deployment`` is test_standalone's fixture value."""

    def __init__(self, deployment: dict[str, Any], out: Path, hook_names: dict[str, str]) -> None:
        self.api, self.headers, self.home = deployment["api"], deployment["headers"], deployment["home"]
        self.sandbox = deployment["sandbox"]
        self.out = out
        self.hook_names = hook_names
        self.report = BrowserReport()

    # -- set-up -------------------------------------------------------------------------------

    def run(self, trigger_and_wait: Any) -> BrowserReport:
        from playwright.sync_api import sync_playwright

        started = time.monotonic()
        shutil.rmtree(self.out, ignore_errors=True)
        self.out.mkdir(parents=True)
        connections = requests.get(f"{self.sandbox}/_sandbox/connections", timeout=10).json()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = self.new_page(browser)
                self.login(page)
                for conn_type, conn in connections.items():
                    self.add_connection(page, conn_type, conn)
                run = trigger_and_wait(DAG_ID, {})
                if run["state"] != "success":
                    self.report.problems.append(f"{DAG_ID} run {run['dag_run_id']}: {run['state']}")
                for task_id in EXPECTED_LINKS:
                    self.check_task(page, run["dag_run_id"], task_id)
            finally:
                browser.close()
        self.report.problems += [f"JavaScript error: {e}" for e in self.report.javascript_errors]
        self.report.seconds = round(time.monotonic() - started, 1)
        (self.out / "report.json").write_text(json.dumps(self.report.__dict__, indent=2))
        return self.report

    def new_page(self, browser: Any) -> Any:
        """A tab whose uncaught JavaScript errors (and console errors) go into the report."""
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: self.report.javascript_errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                message.type == "error" and self.report.console_errors.append(f"{page.url}: {message.text}")
            ),
        )
        return page

    def shot(self, page: Any, name: str, element: Any = None) -> None:
        path = self.out / f"{len(self.report.screenshots) + 1:02d}-{name}.png"
        (element or page).screenshot(path=str(path), **({} if element else {"full_page": True}))
        self.report.screenshots.append(path.name)

    def login(self, page: Any) -> None:
        password = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())[
            "admin"
        ]
        page.goto(f"{self.api}/")
        page.locator("input[name=username]").fill("admin")
        page.locator("input[name=password]").fill(password)
        page.locator("button[type=submit]").click()
        page.wait_for_url(f"{self.api}/", timeout=30_000)
        # The login page asks for the user before anyone is logged in: its 401 is expected.
        self.report.console_errors.clear()

    def add_connection(self, page: Any, conn_type: str, conn: dict[str, Any]) -> None:
        """The Add form as a user fills it: id, type, host and credentials; every extra left empty."""
        conn_id = f"ui_{conn_type}"
        page.goto(f"{self.api}/connections")
        page.get_by_role("button", name="Add Connection").click()
        dialog = page.get_by_role("dialog")
        dialog.locator("input[name=connection_id]").fill(conn_id)
        kind = dialog.get_by_role("combobox")
        kind.fill(self.hook_names[conn_type])
        page.get_by_role("option", name=self.hook_names[conn_type], exact=True).click()
        for name in STANDARD_FIELDS:
            if conn.get(name):
                dialog.locator(f"input[name={name}]").fill(str(conn[name]))
        dialog.get_by_role("button", name="Extra Fields", exact=True).click()
        dialog.locator("[name^=element_]").first.wait_for()
        self.shot(page, f"add-{conn_type}", dialog)
        dialog.get_by_role("button", name="Save").click()
        dialog.wait_for(state="detached")
        saved = requests.get(f"{self.api}/api/v2/connections/{conn_id}", headers=self.headers, timeout=10)
        if saved.status_code != 200:
            self.report.problems.append(f"{conn_id}: not saved by the Add form (HTTP {saved.status_code})")
            return
        extras = json.loads(saved.json().get("extra") or "{}")
        if any(value not in (None, "") for value in extras.values()):
            self.report.problems.append(f"{conn_id}: the form saved extras nobody typed: {extras}")

    # -- what a user looks at -------------------------------------------------------------------

    def check_task(self, page: Any, run_id: str, task_id: str) -> None:
        """The task's log, its XCom (Storage > XCom) and its extra link (Details > Extra Links)."""
        base = f"{self.api}/dags/{DAG_ID}/runs/{run_id}/tasks/{task_id}"
        state = requests.get(
            f"{self.api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}",
            headers=self.headers,
            timeout=30,
        ).json()["state"]
        if state != "success":
            self.report.problems.append(f"{task_id}: {state}")
        page.goto(base)
        if not self.shows(page, EXPECTED_LOG[task_id]):
            self.report.problems.append(f"{task_id}: the log shows no {EXPECTED_LOG[task_id]!r}")
        self.shot(page, f"{task_id}-log")
        page.goto(f"{base}/xcom")
        if not self.shows(page, "return_value"):
            self.report.problems.append(f"{task_id}: the XCom tab shows no return_value")
        self.shot(page, f"{task_id}-xcom")
        page.goto(f"{base}/details")
        self.shows(page, "Extra Links")
        self.check_link(page, task_id)

    @staticmethod
    def shows(page: Any, text: str) -> bool:
        try:
            page.get_by_text(text, exact=False).first.wait_for(timeout=30_000)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError; reported by the caller
            return False
        return True

    def check_link(self, page: Any, task_id: str) -> None:
        name, leads_to = EXPECTED_LINKS[task_id]
        page.wait_for_load_state("networkidle")
        link = page.get_by_role("link", name=name, exact=True)
        self.shot(page, f"{task_id}-details")
        if leads_to is None:
            if link.count():
                href = link.first.get_attribute("href")
                self.report.problems.append(f"{task_id}: shows {name!r} ({href}) where no URL is known")
            return
        if not link.count():
            self.report.problems.append(f"{task_id}: no {name!r} link")
            return
        href = link.first.get_attribute("href") or ""
        self.report.links[task_id] = href
        if not re.match(r"https?://[^/]+/", href) or leads_to not in href:
            self.report.problems.append(f"{task_id}: {name!r} points at {href!r}")
            return
        with page.context.expect_page() as opened:  # the UI opens extra links in a new tab
            link.first.click()
        target = opened.value
        response = target.goto(href)  # the new tab's own load has no response object to read
        if response is None or response.status >= 400:
            status = response.status if response is not None else "no answer"
            self.report.problems.append(f"{task_id}: {name!r} ({href}) answers {status}")
        self.shot(target, f"{task_id}-link")
        target.close()
