"""The UI over HTTP against a real `ferry serve` (SQLite and Postgres stores): sessions, CSRF, secrets,
roles, forms and their errors, the job page's log (live tail, search, download)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ferry.cdk.spec import MASK
from ferry.control.services.definitions import builtin_id
from tests.control.conftest import ADMIN_ID, ADMIN_SECRET, Server
from tests.web.conftest import Browser
from tests.web.helpers import new_actor, new_connection, new_workspace, text_of

# One worker runs the whole module, so each of its servers starts once.
pytestmark = pytest.mark.xdist_group("web-pages")
API_KEY, TOKEN = "sk-live-0123456789", "tok-abcdefghij"


def test_pages_send_a_visitor_to_sign_in(visitor: Browser) -> None:
    for path in ("/", "/connections", "/catalogue", "/jobs/1", "/settings"):
        response = visitor.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    assert (
        visitor.get("/connections", follow_redirects=False).headers["location"]
        == "/login?next=%2Fconnections"
    )
    htmx = visitor.get("/connections/x/activity", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.headers["HX-Redirect"].startswith("/login")


def test_sign_in_sets_a_guarded_session_cookie(visitor: Browser) -> None:
    visitor.get("/login")
    wrong = visitor.post("/login", {"client_id": ADMIN_ID, "client_secret": "nope"})
    assert wrong.status_code == 401
    assert "wrong client secret" in text_of(wrong)
    assert "ferry_session" not in wrong.headers.get("set-cookie", "")

    done = visitor.post("/login", {"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET, "next": "/settings"})
    assert done.status_code == 303
    assert done.headers["location"] == "/settings"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("ferry_session="))
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    assert visitor.get("/settings").status_code == 200

    visitor.get("/login")
    outside = visitor.post(
        "/login", {"client_id": ADMIN_ID, "client_secret": ADMIN_SECRET, "next": "//evil.example/"}
    )
    assert outside.headers["location"] == "/connections"

    visitor.post("/logout", follow_redirects=False)
    assert visitor.get("/settings", follow_redirects=False).status_code == 303


def test_form_posts_need_the_csrf_token(signed_in: Browser, web_server: Server) -> None:
    before = signed_in.get("/settings").text.count("<option")
    missing = signed_in.http.post("/settings/workspaces", data={"name": "sneaky"})
    assert missing.status_code == 403
    assert "security token" in text_of(missing)

    other = Browser(web_server.url)
    other.login()
    forged = signed_in.http.post("/settings/workspaces", data={"name": "sneaky", "csrf_token": other.csrf})
    assert forged.status_code == 403
    other.close()

    header = signed_in.http.post(
        "/settings/workspaces", data={"name": "by-htmx"}, headers={"X-CSRF-Token": signed_in.csrf}
    )
    assert header.status_code == 303
    assert "sneaky" not in signed_in.get("/settings").text
    assert signed_in.get("/settings").text.count("<option") >= before


def test_pages_carry_security_headers_and_assets_are_served(signed_in: Browser) -> None:
    page = signed_in.get("/catalogue")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["server-timing"].startswith("app;dur=")
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert any("htmx-2.0.11.min.js" in s for s in scripts)
    for url in scripts + re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text):
        asset = signed_in.get(url)
        assert asset.status_code == 200, url
        assert "immutable" in asset.headers["cache-control"]
    assert signed_in.get("/static/../../etc/passwd").status_code == 404
    assert signed_in.get("/static/nope.js").status_code == 404


def test_catalogue_lists_and_searches_connectors(signed_in: Browser) -> None:
    new_workspace(signed_in)
    every = text_of(signed_in.get("/catalogue"))
    for name in ("file", "sample-data", "postgres", "duckdb", "local-files", "test-secret"):
        assert name in every
    found = signed_in.get("/catalogue", params={"q": "DUCK"})
    assert re.findall(r"Set up a (\S+) (\w+)", found.text) == [("duckdb", "destination")]
    sources = signed_in.get("/catalogue", params={"kind": "source"})
    assert "Set up a duckdb" not in sources.text
    assert "Set up a file source" in sources.text


def test_secret_fields_are_masked_and_kept(signed_in: Browser) -> None:
    new_workspace(signed_in)
    source = new_actor(
        signed_in, "source", "test-secret", "vault", {"api_key": API_KEY, "rows": "2", "options.token": TOKEN}
    )
    edit = signed_in.get(f"/sources/{source}")
    assert API_KEY not in edit.text
    assert TOKEN not in edit.text
    assert re.search(rf'name="cfg.api_key" type="password" value="{re.escape(MASK)}"', edit.text)

    form = {"actor": source, "definition": builtin_id("source", "test-secret"), "name": "vault"}
    masked = {**form, "cfg.api_key": MASK, "cfg.rows": "3", "cfg.options.token": MASK}
    # The plug-in refuses to run when it gets the mask, so a pass proves the stored key was used.
    check = signed_in.post("/sources/check", masked)
    assert "Connection test passed" in check.text, text_of(check)

    saved = signed_in.post(f"/sources/{source}", masked, follow_redirects=True)
    assert "Saved." in saved.text
    assert 'name="cfg.rows" type="number" step="1" inputmode="numeric" value="3"' in saved.text
    assert "Connection test passed" in signed_in.post("/sources/check", masked).text

    typed = {**form, "cfg.api_key": "sk-new-secret-value", "cfg.rows": "-4"}
    refused = signed_in.post(f"/sources/{source}", typed)
    assert refused.status_code == 400
    assert "rows" in text_of(refused)
    assert "sk-new-secret-value" not in refused.text
    assert "Connection test passed" in signed_in.post("/sources/check", masked).text


def test_a_failed_check_shows_the_connectors_message(signed_in: Browser, tmp_path: Path) -> None:
    new_workspace(signed_in)
    form = {
        "definition": builtin_id("destination", "duckdb"),
        "cfg.path": str(tmp_path / "a-file" / "x.duckdb"),
    }
    (tmp_path / "a-file").write_text("not a directory")
    failed = signed_in.post("/destinations/check", form)
    assert failed.status_code == 200
    assert "Connection test failed" in failed.text
    assert "a-file" in text_of(failed)
    missing = signed_in.post("/destinations/check", {"definition": builtin_id("destination", "duckdb")})
    assert "missing the required field 'path'" in text_of(missing)


def test_form_errors_name_the_field(signed_in: Browser) -> None:
    new_workspace(signed_in)
    form = {"definition": builtin_id("source", "sample-data"), "name": "", "cfg.count": "many"}
    refused = signed_in.post("/sources/new", form)
    assert refused.status_code == 400
    text = text_of(refused)
    assert "name is empty" in text
    form["name"] = "samples"
    refused = signed_in.post("/sources/new", form)
    assert "count" in text_of(refused)
    assert re.search(r'id="f-cfg-count"[^>]*aria-invalid="true"', refused.text)


def test_a_reader_sees_but_cannot_change(signed_in: Browser, web_server: Server) -> None:
    workspace = new_workspace(signed_in)
    made = signed_in.post("/settings/users", {"name": "rita", "role": "reader"})
    client_id = re.search(r'id="new-client-id">([^<]+)<', made.text)
    secret = re.search(r'id="new-client-secret">([^<]+)<', made.text)
    assert client_id, text_of(made)
    assert secret, text_of(made)

    reader = Browser(web_server.url)
    assert reader.login(client_id.group(1), secret.group(1)).status_code == 200
    assert workspace in reader.get("/settings").text
    refused = reader.post(
        "/sources/new", {"definition": builtin_id("source", "sample-data"), "name": "nope", "cfg.count": "1"}
    )
    assert refused.status_code == 403
    assert "needs 'editor'" in text_of(refused)
    assert "Give someone access" not in reader.get("/settings").text
    reader.close()


def test_connection_setup_offers_valid_modes_and_reports_errors(signed_in: Browser, tmp_path: Path) -> None:
    new_workspace(signed_in)
    source = new_actor(signed_in, "source", "sample-data", "samples", {"count": "5"})
    destination = new_actor(signed_in, "destination", "duckdb", "duck", {"path": str(tmp_path / "w.duckdb")})
    setup = signed_in.get("/connections/new", params={"source": source, "destination": destination})
    assert setup.status_code == 200
    assert re.findall(r'name="s\.(\d+)\.selected"', setup.text) == ["0", "1", "2"]
    modes = set(re.findall(r'<option value="([a-z_]+)" data-cursor', setup.text))
    assert modes == {
        "full_refresh_overwrite",
        "full_refresh_overwrite_deduped",
        "full_refresh_append",
        "incremental_append",
        "incremental_deduped_history",
    }

    fields = {
        "source": source,
        "destination": destination,
        "schedule_type": "cron",
        "cron_expression": "* * *",
    }
    refused = signed_in.post("/connections/new", {**fields, "s.0.selected": "on"})
    assert refused.status_code == 400
    assert "cron expression" in text_of(refused)
    assert 'name="s.0.selected" value="on" checked' in refused.text.replace('id="s.0.selected" ', "")
    none = signed_in.post("/connections/new", {**fields, "schedule_type": "manual"})
    assert "at least one stream" in text_of(none)

    connection = new_connection(
        signed_in,
        source,
        destination,
        {0: {"mode": "incremental_deduped_history"}, 2: {"mode": "full_refresh_append"}},
    )
    page = text_of(signed_in.get(f"/connections/{connection}"))
    assert "Incremental | Append + Deduped" in page
    assert "Full refresh | Append" in page
    listed = signed_in.get("/connections", params={"q": "samples"})
    assert f"/connections/{connection}" in listed.text
    assert f"/connections/{connection}" not in signed_in.get("/connections", params={"q": "zzz"}).text


def test_job_page_tails_searches_and_downloads_the_log(signed_in: Browser, tmp_path: Path) -> None:
    new_workspace(signed_in)
    source = new_actor(signed_in, "source", "test-web-slow", "slow", {"rows": "8", "delay": "0.4"})
    destination = new_actor(signed_in, "destination", "duckdb", "duck", {"path": str(tmp_path / "w.duckdb")})
    connection = new_connection(signed_in, source, destination, {0: {"mode": "full_refresh_overwrite"}})
    signed_in.post(f"/connections/{connection}/sync", follow_redirects=True)
    activity = signed_in.get(f"/connections/{connection}/activity")
    assert 'hx-trigger="every 2s"' in activity.text
    job = int(re.search(r'data-job="(\d+)"', activity.text).group(1))

    deadline, seen, offset, attempt = time.monotonic() + 30, "", 0, None
    while time.monotonic() < deadline and "beat 3 of 8" not in seen:
        page = signed_in.get(f"/jobs/{job}")
        poller = re.search(r"/jobs/\d+/live\?attempt=(\d+)&amp;offset=(\d+)", page.text)
        if poller:
            attempt, offset = poller.group(1), int(poller.group(2))
            live = signed_in.get(f"/jobs/{job}/live", params={"attempt": attempt, "offset": offset})
            assert 'hx-swap-oob="beforeend:#log-lines"' in live.text or "beat" not in live.text
            seen += page.text + live.text
        time.sleep(0.3)
    assert attempt is not None, "the job page never showed a running attempt"
    assert "beat 3 of 8" in seen

    deadline = time.monotonic() + 30
    while "succeeded" not in text_of(signed_in.get(f"/connections/{connection}/activity")):
        assert time.monotonic() < deadline, "the slow sync did not finish"
        time.sleep(0.3)
    done = signed_in.get(f"/jobs/{job}/live", params={"attempt": attempt, "offset": offset})
    assert done.headers.get("HX-Refresh") == "true"

    page = signed_in.get(f"/jobs/{job}")
    assert "data-committed>8<" in page.text
    found = signed_in.get(f"/jobs/{job}/log", params={"q": "BEAT 5"})
    assert "<mark>beat 5</mark>" in found.text
    assert "1 line matches" in text_of(found)
    download = signed_in.get(f"/jobs/{job}/log/download")
    assert download.headers["content-disposition"] == f'attachment; filename="ferry-job-{job}-attempt-1.log"'
    assert download.text.count("beat ") == 8
    assert signed_in.get(f"/jobs/{job}", params={"attempt": 7}).status_code == 404
    assert signed_in.get("/jobs/999999").status_code == 404


def test_cancel_a_running_job(signed_in: Browser, tmp_path: Path) -> None:
    new_workspace(signed_in)
    source = new_actor(signed_in, "source", "test-web-slow", "slow", {"rows": "50", "delay": "0.2"})
    destination = new_actor(signed_in, "destination", "duckdb", "duck", {"path": str(tmp_path / "w.duckdb")})
    connection = new_connection(signed_in, source, destination, {0: {"mode": "full_refresh_overwrite"}})
    signed_in.post(f"/connections/{connection}/sync")
    again = signed_in.post(f"/connections/{connection}/sync")
    assert again.status_code == 409
    assert "already running" in text_of(again)
    job = int(re.search(r'data-job="(\d+)"', again.text).group(1))
    cancelled = signed_in.post(f"/jobs/{job}/cancel", follow_redirects=True)
    assert 'id="job-status"><span class="badge badge-cancelled">' in cancelled.text


def test_edit_switch_and_delete(signed_in: Browser, tmp_path: Path) -> None:
    first = new_workspace(signed_in)
    source = new_actor(signed_in, "source", "sample-data", "samples", {"count": "3"})
    destination = new_actor(signed_in, "destination", "duckdb", "duck", {"path": str(tmp_path / "w.duckdb")})
    connection = new_connection(signed_in, source, destination, {1: {"mode": "full_refresh_append"}})

    edited = signed_in.post(
        f"/connections/{connection}/edit",
        {
            "name": "nightly samples",
            "s.1.selected": "on",
            "s.1.mode": "incremental_append",
            "schedule_type": "basic",
            "units": "2",
            "time_unit": "hours",
            "namespace_definition": "custom_format",
            "namespace_format": "raw_${SOURCE_NAMESPACE}",
            "status": ["inactive", "active"],
        },
        follow_redirects=True,
    )
    page = text_of(edited)
    assert "Saved." in page
    assert "nightly samples" in page
    assert "every 2 hours" in page
    assert "Incremental | Append" in page
    form = signed_in.get(f"/connections/{connection}/edit").text
    assert 'value="raw_${SOURCE_NAMESPACE}"' in form

    second = new_workspace(signed_in)
    assert f"/connections/{connection}" not in signed_in.get("/connections").text
    switched = signed_in.post("/workspace", {"workspace": first}, follow_redirects=True)
    assert f"/connections/{connection}" in switched.text
    assert second in signed_in.get("/settings").text

    deleted = signed_in.post(f"/sources/{source}/delete", follow_redirects=True)
    assert str(deleted.url).endswith("/sources")
    assert f"/sources/{source}" not in deleted.text
    assert f"/connections/{connection}" not in signed_in.get("/connections").text
    assert signed_in.get(f"/connections/{connection}").status_code == 404
