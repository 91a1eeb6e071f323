"""The replay page in a real browser (Playwright, Debian's Chromium, a live uvicorn server, the real
engine): an analyst runs the correction system and stores its proposal as an assumption set, starts a replay of the sample from a stored world — a bad option is refused next
to its field — follows its progress and reads the cumulative margin chart, the policies table and the
decisions, with no pay figure on the page; an approver reads the same replay with variable pay and net
margin, equal to the API's own figures; a viewer cannot start one and is told why. No request leaves
127.0.0.1, no page logs a JavaScript or CSP error, and the page fits a 390 px phone."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from api.db import store
from api.main import create_app
from models.assumptions import parse_assumptions
from tests.api.conftest import SAMPLE, LiveServer, prepare, settings_for
from tests.web.browser import PHONE, money
from tests.web.test_workbench import REVIEW_TIMEOUT_MS, Tab

SOUTH_FREEZE = {"name": "south-freeze", "adjustments": [
    {"markets": ["south"], "periods": {"from": "2026-04"}, "demand": 0.5, "reason": "the freeze"}]}


@pytest.fixture(scope="module")
def replay_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-replay")
    env = prepare(f"sqlite:///{folder / 'comptune.db'}", SAMPLE)
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        store.create_assumption_set(session=session, dataset_id=dataset.id, created_by="test",
                                    assumptions=parse_assumptions(SOUTH_FREEZE))
        session.commit()
    with LiveServer(create_app(settings_for(env.url, workers=2, default_time_limit_s=120.0))) as server:
        yield server, env
    env.sessions.kw["bind"].dispose()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter(n => !n.closest('[hidden]') && n.type !== 'hidden')
    .filter(n => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !(n.textContent || '').trim())
    .map(n => n.outerHTML.slice(0, 80))"""


def fits_and_is_labelled(tab, width: int) -> None:
    """As tests/web/test_workbench.py checks every page: no horizontal scrolling, every control labelled."""
    tab.page.wait_for_load_state("networkidle")
    assert tab.width() <= width, f"{tab.page.url} is {tab.width()} px wide at {width} px"
    assert not tab.page.evaluate(UNLABELLED)


def test_the_replay_page(browser, replay_site):  # noqa: F811
    server, env = replay_site
    analyst = Tab(browser, server.url)
    page = analyst.page
    analyst.sign_in(env.tokens["analyst"], path="/replays")
    expect(page.locator("#replays")).to_contain_text("No replay yet")
    expect(page.locator("#world-select")).to_contain_text("south-freeze")
    # the correction system: a proposal in words with its evidence, stored as an assumption set
    page.fill("#correct-form input[name=name]", "correction-april")
    page.click("#correct-submit")
    expect(page.locator("#correction-status")).to_contain_text("“correction-april”", timeout=REVIEW_TIMEOUT_MS)
    expect(page.locator("#evidence-table")).to_contain_text("demand")
    page.click("#correction-store")
    expect(page.locator("#correction-set-link")).to_contain_text("assumption set #")
    set_id = int(page.locator("#correction-set-link").inner_text().rsplit("#", 1)[1])
    stored = httpx.get(f"{server.url}/v1/assumption-sets/{set_id}", headers=env.headers("viewer"), timeout=30).json()
    assert stored["name"] == "correction-april"
    assert page.locator("#correction-list li").count() == len(stored["body"]["adjustments"])
    page.uncheck("input[name=policies][value=quarterly]")
    page.uncheck("input[name=policies][value=monthly]")
    page.fill("input[name=seeds]", "0")  # refused next to its field, nothing started
    page.click("#replay-submit")
    expect(page.locator('[data-error-for="seeds"]')).not_to_be_empty(timeout=60_000)
    page.fill("input[name=seeds]", "1")
    page.fill("input[name=gaming_reps]", "0")
    page.click("#replay-submit")
    # the first replay request imports the engine into the server (seconds on a loaded machine)
    expect(page).to_have_url(re.compile(r"/replays/\d+$"), timeout=60_000)
    replay_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#replay-figures")).to_be_visible(timeout=REVIEW_TIMEOUT_MS)
    expect(page.locator("#replay-status")).to_have_text("succeeded")
    expect(page.locator("#chart-cumulative canvas")).to_have_attribute("aria-label", re.compile("cumulative margin per policy"))
    expect(page.locator("#policies-figures")).to_contain_text("oracle")
    expect(page.locator("#policies-note")).to_contain_text("approver and admin only (you are analyst)")
    expect(page.locator("#chart-note")).to_contain_text("The chart shows the margin")
    analyst.shot("30-replay-analyst")
    fits_and_is_labelled(analyst, 1280)

    approver_view = httpx.get(f"{server.url}/v1/replays/{replay_id}", headers=env.headers("approver"), timeout=30).json()
    result = approver_view["result"]
    pay_amounts = [money(p["total"][key]) for p in result["policies"] for key in ("pay", "net_margin")]
    margins = [money(p["total"]["margin"]) for p in result["policies"]]
    table = page.locator("#policies-figures").inner_text()
    assert all(m in table for m in margins), (margins, table)
    text = analyst.text()
    assert not [a for a in pay_amounts if a in text], "a pay figure on the analyst's page"
    assert "Net margin" not in table and "Variable pay" not in table
    analyst.close()

    approver = Tab(browser, server.url)
    approver.sign_in(env.tokens["approver"], path=f"/replays/{replay_id}")
    expect(approver.page.locator("#replay-figures")).to_be_visible(timeout=REVIEW_TIMEOUT_MS)
    table = approver.page.locator("#policies-figures").inner_text()
    assert "Variable pay" in table and all(a in table for a in pay_amounts), (pay_amounts, table)
    expect(approver.page.locator("#chart-cumulative canvas")).to_have_attribute(
        "aria-label", re.compile("cumulative net margin per policy"))
    final = {p["policy"]: p["months"][-1]["cumulative_net_margin"] for p in result["policies"]}
    cumulative = approver.page.locator("#cumulative-figures").text_content()  # folded away: not rendered
    assert all(money(v) in cumulative for v in final.values()), (final, cumulative)
    approver.shot("31-replay-approver")
    fits_and_is_labelled(approver, 1280)
    approver.page.goto("/replays")
    expect(approver.page.locator("#replays-table")).to_contain_text("south-freeze")
    fits_and_is_labelled(approver, 1280)
    approver.close()

    viewer = Tab(browser, server.url, viewport=PHONE, allow=(401, 403, 404, 409, 422))
    viewer.sign_in(env.tokens["viewer"], path="/replays")
    expect(viewer.page.locator("#replay-submit")).to_be_disabled()
    expect(viewer.page.locator("#correct-submit")).to_be_disabled()
    expect(viewer.page.locator("#run-note")).to_contain_text("you are signed in as viewer")
    expect(viewer.page.locator("#replays-table")).to_contain_text("south-freeze")
    fits_and_is_labelled(viewer, PHONE["width"])
    viewer.page.goto(f"/replays/{replay_id}")
    expect(viewer.page.locator("#replay-figures")).to_be_visible(timeout=REVIEW_TIMEOUT_MS)
    fits_and_is_labelled(viewer, PHONE["width"])
    assert not [a for a in pay_amounts if a in viewer.text()]
    viewer.page.goto("/replays/999999")
    expect(viewer.page.locator("#replay-meta")).to_contain_text("There is no replay #999999")
    viewer.shot("32-replay-viewer-phone")
    viewer.close()
