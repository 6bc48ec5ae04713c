"""The dashboard in headless Chromium against the real hub (gunicorn) on the sandbox.

Screenshots (desktop and phone size) are saved in test-artifacts/ for a human to look at.
Needs Debian's chromium (`apt-get install chromium`); skipped without it unless
HUB_REQUIRE_SYSTEM_TESTS=1, then it fails.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
import segno

from tests.integration.hubproc import API_KEY, ROOT, HubProcess
from tests.receivers import Receiver

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("HUB_REQUIRE_SYSTEM_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def hub(tmp_path):
    with HubProcess(tmp_path) as hub:
        yield hub


def open_dashboard(browser, hub, viewport):
    """A new tab on the dashboard, signed in; dialogs (confirm) are accepted."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(WAIT_MS)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(hub.url + "/")
    page.fill("#login-key", API_KEY)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    return page


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header would otherwise land mid-picture
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    segno.make("dashboard preview", error="l").save(buffer, kind="png", scale=4)
    return buffer.getvalue()


def check_phone_layout(page) -> None:
    """At 390x844 every view fits the width (no sideways scrolling); screenshots of each."""
    from playwright.sync_api import expect

    page.set_viewport_size(PHONE)
    for view in ("sessions", "deliveries", "endpoints", "keys"):
        page.click(f"a[data-view={view}]")
        expect(page.locator(f"#view-{view}")).to_be_visible()
        screenshot(page, f"phone-{view}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], view
    page.set_viewport_size(DESKTOP)


def test_wrong_key_is_refused_on_the_login_screen(browser, hub):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=DESKTOP)
    page.goto(hub.url + "/dashboard")
    page.fill("#login-key", "not-the-key")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text(re.compile("not valid"))
    expect(page.locator("#app")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    page.close()


def test_operator_links_a_session_and_follows_its_deliveries(browser, hub, tmp_path):
    from playwright.sync_api import expect

    page = open_dashboard(browser, hub, DESKTOP)
    page.evaluate("window.notReloaded = true")  # a page reload would wipe this
    expect(page.locator("a[data-view=cluster]")).to_have_count(0)  # one process on SQLite: no Cluster view

    # Create a sandbox session: it waits for a scan and the QR is shown as an image.
    expect(page.locator("#new-session")).to_have_attribute("open", "")  # no sessions yet: the form is open
    page.fill("#create-form [name=sessionId]", "tienda")
    page.select_option("#create-form [name=engine]", "sandbox")
    page.click("#create-form button[type=submit]")
    status = page.locator("#detail-status")
    expect(status).to_have_text("qr")
    expect(page.locator("#qr-image")).to_be_visible()
    page.wait_for_function("() => document.getElementById('qr-image').naturalWidth > 100")
    screenshot(page, "desktop-qr")

    # Linking by phone number instead shows an 8-character pairing code.
    page.fill("#pair-form [name=phone]", "+51 987 654 321")
    page.click("#pair-form button[type=submit]")
    expect(page.locator("#pair-code")).to_have_text(re.compile(r"[0-9A-F]{4}-[0-9A-F]{4}$"))

    # Scan from the sandbox console: the live stream turns the status to connected.
    page.click("[data-sandbox=scan]")
    expect(status).to_have_text("connected")
    expect(page.locator("[data-session-id=tienda] .badge")).to_have_text("connected")
    expect(page.locator("#link-card")).to_be_hidden()

    with Receiver() as receiver:
        # A webhook for the session, then a customer message with an image from the console.
        page.fill("#webhook-form [name=url]", receiver.url)
        page.check("#webhook-form [name=events][value=message-received]")
        page.click("#webhook-form button[type=submit]")
        expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
        expect(page.locator("#webhook-list")).to_contain_text(receiver.url)

        photo = tmp_path / "foto.png"
        photo.write_bytes(png_bytes())
        page.fill("#inbound-form [name=text]", "Hola <b>desde</b> el navegador")
        page.set_input_files("#inbound-form [name=file]", str(photo))
        page.click("#inbound-form button[type=submit]")
        message = page.locator("#message-list .message.in").first
        expect(message).to_contain_text("Hola <b>desde</b> el navegador")  # shown as text, not markup
        page.wait_for_function("() => document.querySelector('#message-list img.media')?.naturalWidth > 0")
        hub.wait_for(lambda: receiver.requests, timeout=10)
        screenshot(page, "desktop-session")

        # The delivery log shows it delivered; its details list the attempt; replay sends it again.
        page.click("a[data-view=deliveries]")
        row = page.locator("#delivery-rows tr", has_text="message-received").first
        expect(row.locator(".badge")).to_have_text("delivered")
        row.get_by_role("button", name="Details").click()
        expect(page.locator("#attempt-rows")).to_contain_text("200")
        expect(page.locator("#dialog-event")).to_contain_text("desde")
        screenshot(page, "desktop-delivery-details")
        page.click("#dialog-replay")
        hub.wait_for(lambda: len(receiver.requests) >= 2, timeout=10)
        first, again = receiver.requests[0], receiver.requests[1]
        assert again["headers"]["webhook-id"] == first["headers"]["webhook-id"]
        page.keyboard.press("Escape")

        # Bulk replay of everything the endpoint got in the last 24 h.
        page.select_option("#delivery-filters [name=endpointId]", index=1)
        page.click("#bulk-replay")
        hub.wait_for(lambda: len(receiver.requests) >= 3, timeout=10)
        screenshot(page, "desktop-deliveries")

    # Health and chart of the endpoints.
    page.click("a[data-view=endpoints]")
    expect(page.locator("#endpoint-rows")).to_contain_text(receiver.url)
    page.wait_for_function("() => document.querySelectorAll("
                           "'#chart rect.delivered[height]:not([height=\"0\"])').length > 0")
    screenshot(page, "desktop-endpoints")

    check_phone_layout(page)

    # A change made elsewhere (the phone removes the device) reaches the page live too.
    page.click("a[data-view=sessions]")
    assert hub.post("/api/sandbox/tienda/logout").status_code == 200
    expect(status).to_have_text("logged_out")
    assert page.evaluate("window.notReloaded") is True

    page.click("[data-action=delete]")  # confirm() is accepted
    expect(page.locator("[data-session-id=tienda]")).to_have_count(0)
    assert hub.get("/api/sessions/tienda").status_code == 404
    page.close()


def test_operator_edits_session_settings(browser, hub):
    from playwright.sync_api import expect

    assert hub.post("/api/sessions", json={"sessionId": "caja", "engine": "sandbox"}).status_code == 201
    page = open_dashboard(browser, hub, DESKTOP)
    expect(page.locator("#detail-title")).to_have_text("caja")
    form = page.locator("#settings-form")
    form.locator("[name=description]").fill("Caja Lima")
    form.locator("[name=rejectCalls]").check()
    form.locator("[name=rejectCallMessage]").fill("No atendemos llamadas, escríbenos.")
    form.locator("[name=sendRate]").fill("30")
    form.locator("button[type=submit]").click()
    expect(page.locator("#detail-facts")).to_contain_text("Caja Lima")
    settings = hub.get("/api/sessions/caja").json()["session"]["settings"]
    assert settings["rejectCalls"] is True and settings["sendRate"] == 30 and settings["dailyLimit"] is None
    assert settings["rejectCallMessage"] == "No atendemos llamadas, escríbenos."

    # A zero rate is refused by the hub and shown; nothing changes.
    form.locator("[name=sendRate]").evaluate("input => input.removeAttribute('min')")
    form.locator("[name=sendRate]").fill("0")
    form.locator("button[type=submit]").click()
    expect(page.locator("#toasts .toast.error")).to_contain_text("sendRate")
    assert hub.get("/api/sessions/caja").json()["session"]["settings"]["sendRate"] == 30

    # A reload shows what is stored.
    page.reload()
    expect(page.locator("#detail-title")).to_have_text("caja")
    expect(form.locator("[name=rejectCalls]")).to_be_checked()
    expect(form.locator("[name=sendRate]")).to_have_value("30")
    screenshot(page, "desktop-settings")
    page.close()


def test_recent_messages_show_quotes_reactions_edits_and_deletions(browser, hub):
    """The console's customer actions, and the session's own, show on the messages they act on."""
    from playwright.sync_api import expect

    assert hub.post("/api/sessions", json={"sessionId": "tienda", "engine": "sandbox", "start": True}).ok
    assert hub.post("/api/sandbox/tienda/scan", json={}).ok
    customer = "51987654321"
    asked = hub.post("/api/sandbox/tienda/inbound", json={"from": customer, "text": "¿Hay talla M?"}).json()
    answer = hub.post("/api/whatsapp/send", json={"sessionId": "tienda", "to": customer, "message": "Sí, hay",
                                                  "replyTo": asked["messageId"]}).json()
    page = open_dashboard(browser, hub, DESKTOP)
    expect(page.locator("#detail-title")).to_have_text("tienda")
    reply = page.locator(f'[data-message-id="{answer["messageId"]}"]')
    expect(reply.locator(".quote")).to_have_text("¿Hay talla M?")

    form = page.locator("#phone-action-form")  # the customer reacts to the answer, then edits their question
    form.locator("[name=action]").select_option("react")
    form.locator("[name=messageId]").fill(answer["messageId"])
    form.locator("[name=value]").fill("❤️")
    form.locator("button[type=submit]").click()
    expect(reply.locator(".reaction")).to_have_text("❤️")
    form.locator("[name=action]").select_option("edit")
    form.locator("[name=messageId]").fill(asked["messageId"])
    form.locator("[name=value]").fill("¿Hay talla L?")
    form.locator("button[type=submit]").click()
    question = page.locator(f'[data-message-id="{asked["messageId"]}"]')
    expect(question.locator(".message-text")).to_have_text("¿Hay talla L?")
    expect(question.locator(".edited")).to_be_visible()
    expect(question.locator(".original")).to_contain_text("¿Hay talla M?")

    assert hub.delete(f"/api/sessions/tienda/messages/{answer['messageId']}").ok  # the session deletes its answer
    expect(reply.locator(".message-text")).to_have_text("🚫 Deleted for everyone")
    expect(page.locator("#message-list .message")).to_have_count(2)  # the reaction is not a message of its own
    screenshot(page, "desktop-message-actions")
    page.close()


def test_operator_sees_each_sessions_pace_and_queue_drain(browser, hub):
    from playwright.sync_api import expect

    created = hub.post("/api/sessions", json={"sessionId": "cobros", "engine": "sandbox", "start": True})
    assert created.status_code == 201
    assert hub.post("/api/sandbox/cobros/scan", json={}).status_code == 200
    settings = {"sendRate": 60, "newContactRate": 3600, "dailyLimit": 1000}
    assert hub.request("PATCH", "/api/sessions/cobros", json={"settings": settings}).status_code == 200
    hub.post("/api/sessions/cobros/stop")
    for n in range(5):
        hub.post("/api/whatsapp/send", json={"sessionId": "cobros", "to": "51987654321", "message": f"factura {n}"})
    page = open_dashboard(browser, hub, DESKTOP)
    facts = page.locator("#detail-facts")
    expect(facts).to_contain_text("60/min · 3600 new contacts/h · 1000/day")
    expect(facts).to_contain_text("5 waiting, drains in 4 s")
    expect(page.locator(".session-item[data-session-id=cobros]")).to_contain_text("5 queued")
    screenshot(page, "desktop-session-queue")
    hub.post("/api/sessions/cobros/connect")  # the queue drains at one a second; the page follows it live
    expect(facts).not_to_contain_text("waiting", timeout=20_000)
    expect(page.locator(".session-item[data-session-id=cobros]")).not_to_contain_text("queued")
    assert len(hub.sandbox_sent("cobros")) == 5
    page.close()
