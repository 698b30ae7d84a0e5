"""End to end in headless Chromium against a real `ferry serve`: a person's first sync, start to finish.

Sign in, create a workspace, set up a `file` source (two CSV streams) and a `duckdb` destination
from their spec forms, see a failed connection test and its message, connect them with two streams
in different sync modes, sync, see the right counts, read and search the log, download it, and see
a failed sync explain itself. Every page is saved under artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.control.conftest import ADMIN_ID, ADMIN_SECRET, Server, stop_server
from tests.web.conftest import CHROMIUM_ARGS, chromium_or_skip, screenshot, serve

# One worker runs the whole module, so its server starts once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("web-browser")]
ORDERS = "id,customer,amount\n1,ada,10.5\n2,bob,20\n3,cy,7.25\n4,di,3\n5,ed,99\n"
ITEMS = "sku,label\nA-1,anchor\nB-2,buoy\nC-3,cleat\n"


@pytest.fixture(scope="module")
def ui_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> Iterator[Server]:
    running = serve(tmp_path_factory.mktemp("ui") / "home", "sqlite", request, repo_root)
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def test_first_sync_in_the_browser(ui_server: Server, page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    data = tmp_path / "data"
    data.mkdir()
    (data / "orders.csv").write_text(ORDERS)
    (data / "items.csv").write_text(ITEMS)
    warehouse = tmp_path / "warehouse.duckdb"
    base = ui_server.url

    _sign_in(page, base)
    _create_workspace(page)
    _create_file_source(page, data)
    _create_duckdb_destination(page, warehouse)
    connection_url = _create_connection(page)

    page.get_by_role("button", name="Sync now").click()
    history = page.locator("table.history tbody tr").first
    expect(history.locator(".badge")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("svg.chart")).to_be_visible()
    screenshot(page, "09-connection-after-sync")

    history.get_by_role("link").first.click()
    expect(page.locator("h1")).to_contain_text("Job")
    expect(page.locator('[data-stream="orders"] [data-committed]')).to_have_text("5")
    expect(page.locator('[data-stream="items"] [data-committed]')).to_have_text("3")
    expect(page.locator("#job-records")).to_have_text("8")
    expect(page.locator("#log-lines")).to_contain_text("attempt succeeded")
    screenshot(page, "10-job")

    page.get_by_label("Search the log").fill("generation")
    expect(page.locator("ol.log-matches mark").first).to_have_text("generation")
    screenshot(page, "11-job-log-search")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download log").click()
    assert "attempt succeeded" in Path(download.value.path()).read_text()

    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM main.orders").fetchone() == (5,)
        assert con.execute("SELECT count(*) FROM main.items").fetchone() == (3,)

    (data / "items.csv").unlink()
    page.goto(connection_url)
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("table.history tbody tr").first.locator(".badge")).to_have_text(
        "failed", timeout=60_000
    )
    expect(page.locator("#last-failure")).to_contain_text("The last sync failed: Configuration error")
    screenshot(page, "12-connection-failed")
    page.locator("table.history tbody tr").first.get_by_role("link").first.click()
    failure = page.locator("section.failure")
    expect(failure).to_contain_text("Failed:")
    expect(failure).to_contain_text("items.csv")
    screenshot(page, "13-job-failed")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Create an API token").click()
    expect(page.get_by_label("New API token")).to_have_value(re.compile(r"^ferry_"))
    screenshot(page, "14-settings")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(ui_server.url + "/connections")
    expect(page.get_by_role("link", name="Shop CSV files → Warehouse")).to_be_visible()
    screenshot(page, "15-connections-phone")
    page.goto(connection_url)
    expect(page.get_by_role("button", name="Sync now")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, "the page scrolls sideways"
    screenshot(page, "16-connection-phone")


def _sign_in(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/connections")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    screenshot(page, "01-login")
    # By keyboard only: the client id field has the focus, Tab moves on, Enter sends.
    page.keyboard.type(ADMIN_ID)
    page.keyboard.press("Tab")
    page.keyboard.type("not the secret")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("wrong client secret")
    page.get_by_label("Client id").fill(ADMIN_ID)
    page.get_by_label("Client secret").fill(ADMIN_SECRET)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Create a workspace")).to_be_visible()


def _create_workspace(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Workspace name").fill("Harbour")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("status")).to_contain_text("Workspace created")


def _create_file_source(page: Any, data: Path) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Catalogue").click()
    page.get_by_label("Search connectors").fill("fil")
    # The search narrows the catalogue as one types: the file source and the local-files destination.
    expect(page.locator("#catalogue-results .connector")).to_have_count(2)
    screenshot(page, "02-catalogue-search")
    page.get_by_role("link", name="Set up a file source").click()
    page.locator("#f-name").fill("Shop CSV files")
    first = page.locator("fieldset.item").nth(0)
    first.get_by_label("Name").fill("orders")
    first.get_by_label("Path").fill(str(data / "orders.csv"))
    first.get_by_label("Primary key").fill("id")
    page.get_by_role("button", name="Add stream").click()
    second = page.locator("fieldset.item").nth(1)
    expect(second.locator(":scope > legend")).to_have_text("Stream 2")
    second.get_by_label("Name").fill("items")
    second.get_by_label("Path").fill(str(data / "item.csv"))  # a typo: the check must say so

    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#check-result")
    expect(result).to_contain_text("Connection test failed")
    expect(result).to_contain_text("file not found")
    expect(result).to_contain_text("item.csv")
    screenshot(page, "03-source-check-failed")

    second.get_by_label("Path").fill(str(data / "items.csv"))
    page.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("Connection test passed")
    page.get_by_role("button", name="Create source").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    screenshot(page, "04-source-saved")


def _create_duckdb_destination(page: Any, warehouse: Path) -> None:
    from playwright.sync_api import expect

    page.goto(page.url.split("/sources")[0] + "/catalogue?kind=destination")
    page.get_by_role("link", name="Set up a duckdb destination").click()
    page.locator("#f-name").fill("Warehouse")
    page.get_by_label("Database file").fill(str(warehouse))
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#check-result")).to_contain_text("Connection test passed")
    screenshot(page, "05-destination-form")
    page.get_by_role("button", name="Create destination").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Destinations").click()
    expect(page.get_by_role("link", name="Warehouse")).to_be_visible()
    screenshot(page, "06-destinations")


def _create_connection(page: Any) -> str:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Connections").click()
    page.get_by_role("link", name="New connection").click()
    page.get_by_label("Source").select_option(label="Shop CSV files (file)")
    page.get_by_label("Destination").select_option(label="Warehouse (duckdb)")
    page.get_by_role("button", name="Discover streams").click()
    orders_mode = page.get_by_label("Sync mode of orders")
    expect(orders_mode).to_be_visible()
    offered = orders_mode.locator("option").all_inner_texts()
    assert "Incremental | Append + Deduped" in offered
    assert not any("Update" in o or "Soft delete" in o for o in offered), offered  # duckdb cannot
    orders_mode.select_option(label="Incremental | Append + Deduped")
    page.get_by_label("Sync mode of items").select_option(label="Full refresh | Overwrite")
    items_row = page.locator("tr[data-stream-row]").filter(has_text="items")
    expect(items_row.locator("[data-cursor-cell]")).to_contain_text("not used")
    screenshot(page, "07-connection-setup")
    page.get_by_role("button", name="Create connection").click()
    expect(page.get_by_role("button", name="Sync now")).to_be_visible()
    screenshot(page, "08-connection")
    url: str = page.url
    return url
