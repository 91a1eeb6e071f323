"""The browser side of the workbench tests: Debian's Chromium driven by Playwright, a tab that
refuses (and records) every request outside 127.0.0.1 and every JavaScript or CSP error, and
checks that every page comes with the service's Content-Security-Policy of 'self' (issue 20:
api/middleware.py sends it), so an inline script or style fails the test here.

Chromium comes from Debian (`apt-get install chromium`, done by scripts/ci_services.sh); Playwright
never downloads a browser. Without a chromium binary the tests skip, except under CI=true, where
they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "out" / "screenshots"
CSP = "default-src 'self'; frame-ancestors 'none'"
CSP_PARTS = {"default-src 'self'", "frame-ancestors 'none'"}  # what every page's policy must hold at least


def policy(headers: dict) -> set[str]:
    return {part.strip() for part in headers.get("content-security-policy", "").split(";") if part.strip()}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("COMPTUNE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def launch(playwright):
    path = chromium_path()
    if path is None:
        message = "no chromium binary (apt-get install chromium; scripts/ci_services.sh does it in CI)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " — under CI the browser test must run")
        pytest.skip(message)
    return playwright.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"])


class Tab:
    """A browser tab on the test server: requests outside 127.0.0.1 refused and recorded, a page
    without the service's CSP recorded, JavaScript errors and CSP violations recorded."""

    def __init__(self, browser, base_url: str, *, viewport: dict = DESKTOP, allow: tuple[int, ...] = (401, 403, 409, 422)):
        self.context = browser.new_context(base_url=base_url, viewport=viewport, accept_downloads=True)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.allow = allow
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text)
                     if msg.type == "error" and not self._expected(msg) else None)

    def _expected(self, msg) -> bool:
        # the browser logs every 4xx answer a test provokes on purpose; sweeps are listed only by
        # a service that has the list (405 before it)
        if "Failed to load resource" not in msg.text:
            return False
        return bool(re.search(r"status of (%s|405)" % "|".join(map(str, self.allow)), msg.text))

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", None):
            self.outside.append(route.request.url)
            return route.abort()
        if route.request.resource_type != "document":
            return route.continue_()
        response = route.fetch(max_redirects=0)  # the browser follows a redirect itself (its URL changes)
        headers = dict(response.headers)
        # every page, /signin and /docs included, comes with the service's own policy (api/middleware.py)
        if "text/html" in headers.get("content-type", "") and not CSP_PARTS <= policy(headers):
            self.errors.append(f"{route.request.url}: no CSP of 'self' (got {headers.get('content-security-policy')!r})")
        return route.fulfill(response=response, headers=headers)

    def sign_in(self, token: str, *, path: str = "/") -> None:
        self.page.goto(path)
        expect(self.page).to_have_url(re.compile(r"/signin"))
        self.page.fill("#token", token)
        self.page.click("button[type=submit]")
        expect(self.page.locator("#who-name")).to_be_visible()

    def use_token(self, token: str) -> None:
        """Sign in without the sign-in page (its own test covers it)."""
        self.page.goto("/healthz")
        self.page.evaluate("token => { sessionStorage.setItem('comptune.token', token); sessionStorage.removeItem('comptune.me'); }", token)

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def width(self) -> int:
        return self.page.evaluate("document.documentElement.scrollWidth")

    def text(self) -> str:
        return self.page.locator("body").inner_text()

    def close(self) -> None:
        assert not self.outside, f"requests outside 127.0.0.1: {self.outside}"
        assert not self.errors, f"JavaScript or CSP errors: {self.errors}"
        self.context.close()


def money(x: float) -> str:
    """A money figure as the pages print it (en locale, no decimals)."""
    return f"{x:,.0f}"
