"""The dashboard's API keys view in headless Chromium against the real hub: create (shown once), list, delete."""
from __future__ import annotations

import re

import requests

from tests.browser.test_dashboard import DESKTOP, browser, hub, open_dashboard, screenshot  # noqa: F401  (fixtures)


def test_operator_creates_a_key_for_one_session_and_deletes_it(browser, hub):  # noqa: F811
    from playwright.sync_api import expect

    for session_id in ("shop", "caja"):
        assert hub.post("/api/sessions", json={"sessionId": session_id, "engine": "sandbox"}).status_code == 201
    page = open_dashboard(browser, hub, DESKTOP)
    page.click("a[data-view=keys]")
    expect(page.locator("#no-keys")).to_be_visible()
    page.fill("#key-form input[name=name]", "billing system")
    page.check("#key-sessions input[value=shop]")
    page.fill("#key-form input[name=rateLimit]", "20/s burst 40")
    page.click("#key-form button[type=submit]")
    secret = page.locator("#key-secret")
    expect(secret).to_contain_text("not shown again")
    key = re.search(r"hubk_\S+", secret.text_content()).group(0)
    row = page.locator("#key-rows tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("billing system")
    expect(row).to_contain_text("20/s burst 40")
    expect(row).to_contain_text(key[:11])
    assert key not in row.text_content()
    screenshot(page, "desktop-keys")

    as_key = requests.get(hub.url + "/api/sessions", headers={"X-API-Key": key}, timeout=10)
    assert [session["sessionId"] for session in as_key.json()["sessions"]] == ["shop"]

    page.reload()  # the key is shown once: not after a reload
    page.click("a[data-view=keys]")
    expect(page.locator("#key-rows tr")).to_have_count(1)
    expect(page.locator("#key-secret")).to_be_hidden()
    page.click("#key-rows tr button.danger")
    expect(page.locator("#key-rows tr")).to_have_count(0)
    assert requests.get(hub.url + "/api/sessions", headers={"X-API-Key": key}, timeout=10).status_code == 403
    page.close()


def test_a_key_needs_a_session(browser, hub):  # noqa: F811
    from playwright.sync_api import expect

    assert hub.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox"}).status_code == 201
    page = open_dashboard(browser, hub, DESKTOP)
    page.click("a[data-view=keys]")
    expect(page.locator("#key-sessions input[value=shop]")).to_have_count(1)
    page.fill("#key-form input[name=name]", "nothing")
    page.click("#key-form button[type=submit]")
    expect(page.locator("#toasts")).to_contain_text("Tick at least one session")
    assert hub.get("/api/keys").json()["keys"] == []
    page.close()
