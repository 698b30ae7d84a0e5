"""Builds things through the UI's own forms, as a person would, for the page tests."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from ferry.control.services.definitions import builtin_id
from tests.web.conftest import Browser


def text_of(response: httpx.Response) -> str:
    """The page's visible text, squeezed: for checking what a person reads."""
    body = re.sub(r"<(script|style|template)\b.*?</\1>", " ", response.text, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", body.replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&"))


def new_workspace(browser: Browser) -> str:
    done = browser.post("/settings/workspaces", {"name": f"ws-{uuid.uuid4().hex[:6]}"}, follow_redirects=True)
    assert done.status_code == 200, done.text
    found = re.search(r"id <code>([0-9a-f-]+)</code>", done.text)
    assert found, text_of(done)
    return found.group(1)


def new_actor(browser: Browser, kind: str, connector: str, name: str, config: dict[str, Any]) -> str:
    """Creates a source or destination from its form; `config` holds form fields without `cfg.`."""
    fields = {"definition": builtin_id(kind, connector), "name": name}
    fields.update({f"cfg.{k}": v for k, v in config.items()})
    done = browser.post(f"/{kind}s/new", fields, follow_redirects=True)
    assert done.status_code == 200, text_of(done)
    found = re.search(rf"/{kind}s/([0-9a-f-]{{36}})\?saved=1", str(done.url))
    assert found, text_of(done)
    return found.group(1)


def new_connection(
    browser: Browser, source: str, destination: str, streams: dict[int, dict[str, str]]
) -> str:
    fields: dict[str, Any] = {"source": source, "destination": destination, "schedule_type": "manual"}
    for index, settings in streams.items():
        fields[f"s.{index}.selected"] = "on"
        fields.update({f"s.{index}.{k}": v for k, v in settings.items()})
    done = browser.post("/connections/new", fields, follow_redirects=True)
    found = re.search(r"/connections/([0-9a-f-]{36})$", str(done.url))
    assert found, text_of(done)
    return found.group(1)
