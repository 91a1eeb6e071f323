"""Issue 20 in a real browser (Chromium through Playwright, a real uvicorn server): after sign-in the
browser stays on this service whatever `next` says (backslash, tab, `//`, encoded forms); a form
sent before its script runs never puts the token in a URL; /docs and the pages work under the
service's own Content-Security-Policy (the Tab records a page without it, and every CSP violation)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from api.main import create_app
from tests.api.conftest import SAMPLE, LiveServer, prepare, settings_for
from tests.web.browser import Tab


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-security")
    env = prepare(f"sqlite:///{folder / 'comptune.db'}", SAMPLE)
    with LiveServer(create_app(settings_for(env.url))) as server:
        yield server.url, env
    env.sessions.kw["bind"].dispose()


@pytest.mark.parametrize("query", ["%2F%5Cevil.example%2F", "%2F%09%2Fevil.example%2F", "%2F%2Fevil.example%2F",
                                   "%5C%5Cevil.example", "%2F%5C%2Fevil.example", "https%3A%2F%2Fevil.example%2F",
                                   "%2F%0A%2Fevil.example", "javascript%3Aalert(1)"])
def test_sign_in_never_leaves_the_service(browser, site, query):
    url, env = site
    tab = Tab(browser, url)
    tab.page.goto(f"/signin?next={query}")
    tab.page.fill("#token", env.tokens["viewer"])
    tab.page.click("button[type=submit]")
    expect(tab.page.locator("#who-name")).to_be_visible()
    landed = urlparse(tab.page.url)
    assert landed.hostname == "127.0.0.1" and landed.path == "/", tab.page.url
    tab.close()  # no request left 127.0.0.1 (the Tab refuses and records any)


def test_sign_in_returns_to_a_page_of_the_service(browser, site):
    url, env = site
    tab = Tab(browser, url)
    tab.page.goto("/signin?next=%2Falarms%3Fmarket%3Dsouth")
    tab.page.fill("#token", env.tokens["viewer"])
    tab.page.click("button[type=submit]")
    expect(tab.page).to_have_url(re.compile(r"/alarms\?market=south$"))
    tab.close()


def test_a_form_sent_before_its_script_runs_keeps_the_token_out_of_urls(browser, site):
    url, env = site
    token = env.tokens["viewer"]
    tab = Tab(browser, url)
    seen: list[str] = []
    tab.page.on("request", lambda request: seen.append(request.url))
    tab.page.route("**/static/pages/signin.js", lambda route: route.abort())  # the script never runs
    tab.page.goto("/signin?next=%2Freviews")
    tab.page.fill("#token", token)
    tab.page.click("button[type=submit]")
    expect(tab.page).to_have_url(re.compile(r"/signin\?reason="))
    assert token not in tab.page.url and all(token not in u for u in seen), seen
    assert "next=%2Freviews" in tab.page.url
    tab.page.unroute("**/static/pages/signin.js")
    tab.page.reload()
    expect(tab.page.locator("#reason")).to_contain_text("before the page was ready")
    tab.errors.clear()  # the aborted script is logged as a failed load, on purpose
    tab.close()


def test_the_api_docs_work_under_the_policy(browser, site):
    url, _ = site
    tab = Tab(browser, url)
    response = tab.page.goto("/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(tab.page.locator(".opblock").first).to_be_visible(timeout=30_000)
    expect(tab.page.locator(".opblock-summary-path", has_text="/v1/reviews").first).to_be_visible()
    tab.close()  # no CSP violation, no JavaScript error


def test_the_sign_in_page_works_under_the_policy(browser, site):
    url, env = site
    tab = Tab(browser, url)
    tab.page.goto("/signin?reason=expired")
    expect(tab.page.locator("#reason")).to_contain_text("You were signed out: expired")
    tab.page.fill("#token", "ct_not-a-token")
    tab.page.click("button[type=submit]")
    expect(tab.page.locator('[data-error-for="token"]')).not_to_be_empty()
    tab.close()
