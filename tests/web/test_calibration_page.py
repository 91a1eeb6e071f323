"""The calibration page in a real browser (Playwright, Debian's Chromium, a live uvicorn server): an
analyst calibrates from the stored actuals, reads the report — what the history identifies, the
holdout errors, the estimates filtered by status, the funnel rates — and starts a review that uses
the calibration; a viewer reads the same report with the run buttons disabled and the reason. No
request leaves 127.0.0.1 and no page logs a JavaScript error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from api.main import create_app
from models.assumptions import parse_assumptions
from api.db import store
from tests.api.conftest import SAMPLE, LiveServer, prepare, settings_for
from tests.web.test_workbench import REVIEW_TIMEOUT_MS, Tab


@pytest.fixture(scope="module")
def calibration_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-calibration")
    env = prepare(f"sqlite:///{folder / 'comptune.db'}", SAMPLE)
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        store.create_assumption_set(session=session, dataset_id=dataset.id, created_by="test",
                                    assumptions=parse_assumptions({"name": "calm", "adjustments": []}))
        session.commit()
    with LiveServer(create_app(settings_for(env.url, workers=2, default_time_limit_s=120.0))) as server:
        yield server, env
    env.sessions.kw["bind"].dispose()


def test_the_calibration_page(browser, calibration_site):  # noqa: F811
    server, env = calibration_site
    analyst = Tab(browser, server.url)
    page = analyst.page
    analyst.sign_in(env.tokens["analyst"], path="/calibrations")
    expect(page.locator("#calibrations")).to_contain_text("No calibration yet")
    page.fill("input[name=holdout]", "3")  # the sample has 3 closed months: refused next to the field
    page.click("#run-submit")
    expect(page.locator('[data-error-for="holdout"]')).to_contain_text("at least one month to fit")
    page.fill("input[name=holdout]", "1")
    page.fill("input[name=polish_rounds]", "0")
    page.click("#run-submit")
    expect(page).to_have_url(re.compile(r"/calibrations/\d+$"))
    expect(page.locator("#report-status")).to_contain_text("comfort per rep × product", timeout=REVIEW_TIMEOUT_MS)
    expect(page.locator("#report-figures")).to_contain_text("closed months")
    expect(page.locator("#report-holdout")).to_contain_text("each rep's average mix")
    expect(page.locator("#estimates table")).to_be_visible()
    expect(page.locator("#funnel table")).to_contain_text("nordics")
    page.select_option("select[name=status]", "lower bound")
    page.click("#filter-form button[type=submit]")
    expect(page.locator("#estimates tbody tr").first).to_contain_text("lower bound")
    analyst.shot("20-calibration")
    page.click("#review-submit")
    expect(page).to_have_url(re.compile(r"/reviews/\d+$"))
    analyst.close()

    viewer = Tab(browser, server.url)
    viewer.sign_in(env.tokens["viewer"], path="/calibrations")
    expect(viewer.page.locator("#run-submit")).to_be_disabled()
    expect(viewer.page.locator("#run-note")).to_contain_text("you are signed in as viewer")
    expect(viewer.page.locator("#report-status")).to_contain_text("skill per rep × product", timeout=REVIEW_TIMEOUT_MS)
    viewer.close()
