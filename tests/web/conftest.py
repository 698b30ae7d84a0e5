"""Fixtures for the web UI: a real `ferry serve`, a signed-in HTTP client, and headless Chromium.

The browser is Debian's `chromium` driven by Playwright (`playwright install` is never needed). Without
it the browser tests are skipped, except under CI=true, where they fail: `make test` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.control import conftest as control
from tests.control.conftest import ADMIN_ID, ADMIN_SECRET, Server, database_url, start_server, stop_server
from tests.web import slow_plugin

postgres_url = control.postgres_url
"""The control tests' fixture: a fresh Postgres database for this run (skipped without a server)."""

CHROMIUM = os.environ.get("FERRY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def serve(home: Path, backend: str, request: pytest.FixtureRequest, repo_root: Path) -> Server:
    """`ferry serve` on a fresh home, with the test plug-ins (test-secret, test-web-slow) installed."""
    slow_plugin.install(home.parent / "site")
    env = {"FERRY_ADMIN_CLIENT_ID": ADMIN_ID, "FERRY_ADMIN_CLIENT_SECRET": ADMIN_SECRET}
    if backend == "postgres":
        env["FERRY_DATABASE_URL"] = database_url(backend, request, home)
    return start_server(home, env, repo_root)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def web_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> Iterator[Server]:
    """A `ferry serve` per store backend for a test module."""
    home = tmp_path_factory.mktemp(f"web-{request.param}") / "home"
    running = serve(home, request.param, request, repo_root)
    yield running
    stop_server(running)


class Browser:
    """An httpx client that behaves like a browser: cookies, and the CSRF token of the last page."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        self.csrf = ""

    def get(self, path: str, **kw: Any) -> httpx.Response:
        response = self.http.get(path, **kw)
        self._remember(response)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        fields = {"csrf_token": self.csrf, **(data or {})}
        response = self.http.post(path, data=fields, **kw)
        self._remember(response)
        return response

    def _remember(self, response: httpx.Response) -> None:
        found = _CSRF.search(response.text) if "html" in response.headers.get("content-type", "") else None
        if found:
            self.csrf = found.group(1)

    def login(self, client_id: str = ADMIN_ID, secret: str = ADMIN_SECRET) -> httpx.Response:
        self.get("/login")
        return self.post("/login", {"client_id": client_id, "client_secret": secret}, follow_redirects=True)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def visitor(web_server: Server) -> Iterator[Browser]:
    """A browser-like client that has not signed in."""
    client = Browser(web_server.url)
    yield client
    client.close()


@pytest.fixture
def signed_in(visitor: Browser) -> Browser:
    assert visitor.login().status_code == 200
    return visitor


def chromium_or_skip() -> str:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).is_file():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium is needed under CI at {CHROMIUM}: apt-get install chromium")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


def screenshot(page: Any, name: str) -> Path:
    """Saves the whole page as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
