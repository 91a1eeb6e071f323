"""The service fixtures of tests/api (a loaded database, a token per role, an app client) and one
Chromium per test module (`browser`)."""

import pytest
from playwright.sync_api import sync_playwright

from tests.api.conftest import client, database_url, env, sqlite_template  # noqa: F401
from tests.web.browser import launch


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
