"""The dashboard shell: public pages, every script and stylesheet served, no secret in the HTML."""
from __future__ import annotations

import re

import pytest

from hub.app import create_app
from hub.config import Config

SECRET_KEY = "hub_dashboard-test-key-that-must-never-appear"


@pytest.fixture
def web(tmp_path):
    app = create_app(Config.for_tests(tmp_path, api_keys=[SECRET_KEY]))
    yield app.test_client()
    app.extensions["hub"].store.dispose()


def page_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/dashboard/[^"]+)"', html)


def module_imports(source: str) -> list[str]:
    return re.findall(r'^import .* from "\./([\w.]+)";$', source, flags=re.MULTILINE)


def test_root_redirects_to_the_dashboard_without_a_key(web):
    response = web.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")


def test_dashboard_is_public_and_asks_for_the_key(web):
    response = web.get("/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="login-form"' in html and 'type="password"' in html
    assert SECRET_KEY not in html
    assert web.get("/api/sessions").status_code == 401  # the page is public, the data is not


def served_assets(web) -> dict[str, str]:
    """Every file the page loads, following the JS modules' imports: {path: text}; asserts each is served."""
    pending, assets = page_assets(web.get("/dashboard").get_data(as_text=True)), {}
    while pending:
        path = pending.pop()
        if path in assets:
            continue
        response = web.get(path)
        assert response.status_code == 200, path
        assets[path] = response.get_data(as_text=True)
        if path.endswith(".js"):
            assert response.mimetype == "text/javascript"
            pending += [f"/static/dashboard/{name}" for name in module_imports(assets[path])]
    return assets


def test_every_script_module_and_stylesheet_is_served(web):
    assets = served_assets(web)
    names = {path.rsplit("/", 1)[1] for path in assets}
    assert {"app.js", "api.js", "dom.js", "sessions.js", "deliveries.js", "dashboard.css"} <= names


def test_page_runs_no_inline_script_and_sends_a_strict_policy(web):
    response = web.get("/dashboard")
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)  # inline handlers would break under the policy
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy


def test_scripts_never_turn_strings_into_html(web):
    for path, source in served_assets(web).items():
        assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write", source), path


def test_sandbox_engine_is_offered_only_when_enabled(tmp_path):
    enabled = create_app(Config.for_tests(tmp_path / "a", sandbox=True)).test_client()
    disabled = create_app(Config.for_tests(tmp_path / "b", sandbox=False)).test_client()
    assert 'value="sandbox"' in enabled.get("/dashboard").get_data(as_text=True)
    assert 'value="sandbox"' not in disabled.get("/dashboard").get_data(as_text=True)


def test_missing_static_file_is_404(web):
    assert web.get("/static/dashboard/nope.js").status_code == 404
