"""The workbench in a real browser, item by item of issue 21 and role by role: Playwright driving
Debian's Chromium against a real uvicorn server on 127.0.0.1 with a temporary SQLite database, the
sample loaded and reviews computed by the real engine.

- the review page opens with the decision (summary in words, the decision card: reason required,
  confirmation, stale reviews marked with a re-run, a 409 shown as its message);
- names everywhere (reps, markets, components in words, assumption sets, people);
- pay per role: approver and admin see every pay amount the API gives them, viewer and analyst
  none (checked against the API's own figures, and in the committee workbook);
- charts with values, the whole payout curve; assumption sets in words with pickers and every error
  at once; alarms grouped by market and KPI and ranked by margin at stake (the order recomputed
  here from the API's rows); sweeps and the audit log; 390 px phones without horizontal scrolling;
  labels and keyboard sorting.

No page may ask for anything outside 127.0.0.1, and none may log a JavaScript error or a CSP
violation (pages are served under a CSP of 'self'). Screenshots, desktop and 390 px, go to
out/screenshots/.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from api.db import store
from api.main import create_app
from tests.api.conftest import SAMPLE, LiveServer, prepare, settings_for, stored_review
from tests.web.browser import DESKTOP, PHONE, Tab, money
from tests.web.reviews import real_review

REVIEW_TIMEOUT_MS = 240_000
ROLES = ("viewer", "analyst", "approver", "admin")


@dataclass
class Site:
    url: str
    env: object
    review: int  # a succeeded south-freeze review against plan version 1
    stale: int  # a stored review against plan version 1 (stale once version 2 is in force)

    def get(self, role: str, path: str):
        response = httpx.get(self.url + path, headers=self.env.headers(role), timeout=60)
        response.raise_for_status()
        return response.json() if "json" in response.headers.get("content-type", "") else response.content

    def post(self, role: str, path: str, body: dict):
        return httpx.post(self.url + path, headers=self.env.headers(role), json=body, timeout=60)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web")
    env = prepare(f"sqlite:///{folder / 'comptune.db'}", SAMPLE)
    stale = stored_review(env)
    review = real_review(env)
    with LiveServer(create_app(settings_for(env.url, workers=2, default_time_limit_s=120.0))) as server:
        yield Site(server.url, env, review, stale)
    env.sessions.kw["bind"].dispose()


def present(figure: str, text: str) -> bool:
    """Whether a formatted figure stands alone in the text (not as part of a longer number)."""
    return re.search(r"(?<![\d,.])" + re.escape(figure) + r"(?![\d,])(?!\.\d)", text) is not None


def pay_amounts(site: Site) -> dict[str, float]:
    """Every pay amount of the review as the API gives it to an admin (money, by name)."""
    summary = site.get("admin", f"/v1/reviews/{site.review}")["summary"]
    recommendation = site.get("admin", f"/v1/reviews/{site.review}/recommendation")
    amounts = {}
    for row in summary["comparison"]:
        amounts[f"pay_cost {row['plan']}"] = row["pay_cost"]
        net = row.get("net_margin")
        amounts[f"net_margin {row['plan']}"] = net if net is not None else row["margin"] - row["pay_cost"]
    impact = recommendation["pay_impact"]
    amounts["in_force_total"] = impact["in_force_total"]
    amounts["recommended_total"] = impact["recommended_total"]
    for rep in impact["reps"]:
        amounts[f"{rep['rep_id']} in force"] = rep["in_force_pay"]
        amounts[f"{rep['rep_id']} recommended"] = rep["recommended_pay"]
    for row in recommendation["unmet"]:
        if row.get("rule") == "budget" and row.get("amount"):
            amounts["budget overrun"] = row["amount"]
        if row.get("shortfall"):
            amounts[f"{row['rule']} shortfall"] = row["shortfall"]
    if recommendation.get("objective", {}).get("name") == "net_margin":
        for row in recommendation.get("rule_prices", []):
            if row.get("price"):
                amounts[f"price of {row['rule']}"] = row["price"]
            for key in ("net_margin", "pay_cost"):
                if (row.get("lifted_plan") or {}).get(key) is not None:
                    amounts[f"{row['rule']} lifted {key}"] = row["lifted_plan"][key]
    return amounts


# ---------------------------------------------------------------------------------------------
# sign-in, overview, names


def test_sign_in_and_the_overview_in_words(browser, site):
    tab = Tab(browser, site.url)
    page = tab.page
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin"))
    page.fill("#token", "ct_not-a-token")
    page.click("button[type=submit]")
    expect(page.locator('[data-error-for="token"]')).to_contain_text("invalid or revoked token")
    tab.shot("01-signin-refused")
    page.fill("#token", site.env.tokens["analyst"])
    page.click("button[type=submit]")
    expect(page.locator("#plan-version")).to_have_text("Version 1")
    # components in words, ids on hover
    expect(page.locator("#plan-components")).to_contain_text("orders of new products")
    expect(page.locator("#plan-components [title='id: new_orders']")).to_be_visible()
    expect(page.locator("#curve-chart canvas")).to_have_attribute("aria-label", re.compile(r"flat at 250 % above"))
    expect(page.locator("#decide-list li").first).to_contain_text("margin at stake")
    expect(page.locator("#alarm-markets-table")).to_contain_text("Southern Europe")
    expect(page.locator("#who-name")).to_have_text("analyst-user · analyst")
    tab.shot("02-overview")
    tab.close()


def test_names_everywhere_on_the_review(browser, site):
    tab = Tab(browser, site.url)
    tab.use_token(site.env.tokens["viewer"])
    page = tab.page
    page.goto(f"/reviews/{site.review}")
    expect(page.locator("#page-title")).to_contain_text("south-freeze")
    expect(page.locator("#review-meta")).to_contain_text("south-freeze (version 1)")
    expect(page.locator("#weights-table")).to_contain_text("margin on HMI Pro operator panels")
    expect(page.locator("#weights-table")).to_contain_text("orders of new products")
    first = page.locator("#adjustments-table tbody tr").first
    expect(first.locator("td").nth(0)).to_have_text("Astrid Lindqvist")
    expect(first.locator("td").nth(0).locator("span")).to_have_attribute("title", "id: R01")
    expect(first.locator("td").nth(1)).to_have_text("Nordics")
    # the attribution's markets, the targets per market: names, not ids
    expect(page.locator("#chart-market-targets canvas")).to_have_attribute("aria-label", re.compile(r"Southern Europe: orders of new products"))
    expect(page.locator("#attribution-sentences")).to_contain_text("Southern Europe")
    assert "new_orders" not in page.locator("#summary").inner_text()
    tab.close()


# ---------------------------------------------------------------------------------------------
# assumption sets


def test_assumption_sets_in_words_with_pickers_and_every_error_at_once(browser, site):
    tab = Tab(browser, site.url, allow=(404, 422))  # the missing set's 404, on purpose
    tab.use_token(site.env.tokens["analyst"])
    page = tab.page
    page.goto("/assumption-sets")
    expect(page.locator("#add-adjustment")).to_be_enabled()
    page.click("#add-adjustment")
    page.fill('input[name="adjustments[0].demand"]', "0")
    page.fill('input[name="adjustments[1].price"]', "-1")
    page.click("#create-submit")
    # every error at once: the name, both factors
    expect(page.locator('[data-error-for="name"]')).to_contain_text("name")
    expect(page.locator('[data-error-for="adjustments[0].demand"]')).to_contain_text("> 0")
    expect(page.locator('[data-error-for="adjustments[1].price"]')).to_contain_text("> 0")
    tab.shot("03-assumption-set-errors")
    page.click('.adjustment-block[data-index="1"] button.remove')
    page.fill("input[name=name]", "web-freeze")
    block = page.locator('.adjustment-block[data-index="0"]')
    block.locator('[data-picker-name="adjustments[0].markets"] label.pick', has_text="Southern Europe").click()
    block.locator('[data-key="from"]').select_option("2026-04")
    page.fill('input[name="adjustments[0].demand"]', "0.5")
    page.fill('input[name="adjustments[0].reason"]', "Southern Europe freezes")
    page.click("#create-submit")
    expect(page).to_have_url(re.compile(r"/assumption-sets/\d+$"))
    first_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#set-table")).to_contain_text("Southern Europe")
    expect(page.locator("#set-table")).to_contain_text("from 2026-04")
    expect(page.locator("#set-table")).to_contain_text("demand × 0.5")
    tab.shot("04-assumption-set")
    # a revision: the diff as a sentence
    created = site.post("analyst", "/v1/assumption-sets", {"name": "web-freeze", "parent": first_id, "adjustments": [
        {"markets": ["south"], "periods": {"from": "2026-04"}, "demand": 0.4, "reason": "Southern Europe freezes"}]})
    assert created.status_code == 201, created.text
    page.goto(f"/assumption-sets/{created.json()['id']}")
    expect(page.locator("#diff-sentences")).to_contain_text("Adjustment 1: demand × 0.5 → × 0.4.")
    expect(page.locator("#set-meta")).to_contain_text("web-freeze (version 1)")
    # a set that does not exist says so, and nothing can be started
    page.goto("/assumption-sets/999999")
    expect(page.locator("#set-missing")).to_contain_text("There is no assumption set #999999")
    expect(page.locator("#start-review")).to_be_disabled()
    page.goto("/assumption-sets")
    expect(page.locator("#sets-table")).to_contain_text("Southern Europe · from 2026-04: demand × 0.5")
    tab.shot("09-assumption-sets")
    # the YAML file of an assumption set, uploaded as it is
    page.set_input_files("#upload-file", str(SAMPLE / "assumptions" / "us-upturn.yaml"))
    page.click("#upload-submit")
    expect(page).to_have_url(re.compile(r"/assumption-sets/\d+$"))
    expect(page.locator("#set-title")).to_contain_text("us-upturn")
    tab.close()

    viewer = Tab(browser, site.url, allow=(403,))
    viewer.use_token(site.env.tokens["viewer"])
    viewer.page.goto("/assumption-sets")
    expect(viewer.page.locator("#create-role-note")).to_contain_text("you are signed in as viewer")
    expect(viewer.page.locator("#create-submit")).to_be_disabled()
    viewer.close()


# ---------------------------------------------------------------------------------------------
# a review run by the analyst


def test_an_analyst_runs_a_review_and_cannot_decide(browser, site):
    tab = Tab(browser, site.url)
    tab.use_token(site.env.tokens["analyst"])
    page = tab.page
    page.goto("/reviews")
    expect(page.locator("#start-submit")).to_be_enabled()
    page.fill("input[name=time_limit_s]", "99999999")  # over the service's largest: the 422 under its field
    page.click("#start-submit")
    expect(page.locator('[data-error-for="time_limit_s"]')).to_contain_text("at most")
    page.fill("input[name=time_limit_s]", "")
    page.select_option("#set-select", index=0)
    page.click("#start-submit")
    expect(page).to_have_url(re.compile(r"/reviews/\d+$"))
    expect(page.locator("#progress-box")).to_be_visible()
    tab.shot("05-review-running")
    expect(page.locator("#review-status")).to_have_text("succeeded", timeout=REVIEW_TIMEOUT_MS)
    expect(page.locator("#summary")).to_contain_text("What changes")
    expect(page.locator("#summary")).to_contain_text("Net margin (margin − pay) is a pay figure")
    expect(page.locator("#accept")).to_be_disabled()
    expect(page.locator("#decision-why")).to_contain_text("approver or admin")
    for chart in ("chart-alignment", "chart-margin", "chart-market-targets", "chart-frontier", "chart-curve"):
        expect(page.locator(f"#{chart} canvas")).to_be_visible()
    # values on the bars are also the charts' text for screen readers
    expect(page.locator("#chart-alignment canvas")).to_have_attribute("aria-label", re.compile(r"recommended plan: \d+\.\d %"))
    total = page.locator("#adjustments-count").inner_text()
    page.check("#filters input[name=changed_only]")
    page.select_option("#filter-market", "south")
    page.click("#filters button[type=submit]")
    expect(page.locator("#adjustments-count")).not_to_have_text(total)
    assert set(page.locator("#adjustments-table tbody tr td:nth-child(2)").all_inner_texts()) == {"Southern Europe"}
    with page.expect_download() as download:
        page.click("#download-csv")
    csv_text = Path(download.value.path()).read_text()
    assert csv_text.splitlines()[0].startswith("rep_id,market_id,component_id")
    assert {line.split(",")[1] for line in csv_text.splitlines()[1:]} == {"south"}
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert book.sheetnames == ["Summary", "Changes", "Weights", "Targets", "Attribution"]  # no pay sheet for an analyst
    tab.shot("06-review-analyst")
    tab.close()


# ---------------------------------------------------------------------------------------------
# pay, right for each role


@pytest.mark.parametrize("role", ROLES)
def test_pay_figures_per_role(browser, site, role):
    amounts = pay_amounts(site)
    sees_pay = role in ("approver", "admin")
    tab = Tab(browser, site.url)
    tab.use_token(site.env.tokens[role])
    page = tab.page
    page.goto(f"/reviews/{site.review}")
    expect(page.locator("#summary")).to_contain_text("What changes")
    expect(page.locator("#adjustments-table tbody tr").first).to_be_visible()
    if sees_pay:
        page.locator("#pay-table button.link").click()  # show every rep
        expect(page.locator("#pay-table tbody tr")).to_have_count(len([k for k in amounts if k.endswith(" in force")]))
        expect(page.locator("#chart-pay canvas")).to_be_visible()
        expect(page.locator("#largest-raise")).to_be_visible()
        expect(page.locator("#net-margin-sentence")).to_be_visible()
    else:
        expect(page.locator("#chart-pay")).to_contain_text(f"approver and admin only (you are {role})")
        expect(page.locator("#pay-impact-table")).to_contain_text(f"approver and admin only (you are {role})")
        expect(page.locator("#chart-pay canvas")).to_have_count(0)
    text = tab.text()
    shown = {name for name, amount in amounts.items() if present(money(amount), text)}
    if sees_pay:
        assert shown == set(amounts), f"pay amounts the API gives an {role} missing on the page: {set(amounts) - shown}"
    else:
        assert not shown, f"pay amounts shown to a {role}: {shown}"
    tab.shot(f"12-review-{role}")
    tab.close()

    # the committee workbook, for the same role
    book = load_workbook(io.BytesIO(site.get(role, f"/v1/reviews/{site.review}/export.xlsx")))
    assert ("Pay impact" in book.sheetnames) == sees_pay
    numbers = {round(v, 2) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
               for v in row if isinstance(v, (int, float))}
    in_book = {name for name, amount in amounts.items() if round(amount, 2) in numbers}
    if sees_pay:
        assert in_book == set(amounts), set(amounts) - in_book
    else:
        assert not in_book, in_book


# ---------------------------------------------------------------------------------------------
# the decision


def test_the_decision_card(browser, site):
    tab = Tab(browser, site.url)
    tab.use_token(site.env.tokens["approver"])
    page = tab.page
    page.goto(f"/reviews/{site.review}")
    expect(page.locator("#accept")).to_be_enabled()
    # the decision card sits beside the summary, at the top of the page
    assert page.locator("#decision-card").bounding_box()["y"] < 400
    page.click("#accept")
    expect(page.locator("#reason-error")).to_have_text("Write why you accept it: the reason is kept in the audit log with your name.")
    page.fill("#decision-reason", "South freeze confirmed by the regional VP")
    page.click("#accept")
    expect(page.locator("dialog.confirm")).to_be_visible()
    expect(page.locator("dialog.confirm")).to_contain_text("Plan version 2 goes into force now")
    tab.shot("13-review-confirm")
    page.click("#confirm-cancel")
    expect(page.locator("dialog.confirm")).to_have_count(0)
    assert site.get("approver", f"/v1/reviews/{site.review}")["decision"] is None
    page.click("#accept")
    page.click("#confirm-ok")
    expect(page.locator("#decision-taken")).to_contain_text("plan version 2 is now in force")
    tab.shot("13-review-accepted")
    page.goto("/")
    expect(page.locator("#plan-version")).to_have_text("Version 2")

    # the older review is stale: marked here and in the list, accept disabled, a re-run offered
    page.goto("/reviews")
    expect(page.locator("#reviews-table tr", has_text=f"#{site.stale}").locator(".badge.stale")).to_be_visible()
    tab.shot("07-reviews")
    page.goto(f"/reviews/{site.stale}")
    expect(page.locator("#stale-badge")).to_be_visible()
    expect(page.locator("#stale-box")).to_contain_text("version 2 is in force now")
    expect(page.locator("#accept")).to_be_disabled()
    expect(page.locator("#reject")).to_be_enabled()
    tab.shot("14-review-stale")
    page.click("#rerun")
    page.wait_for_url(lambda url: not url.endswith(f"/reviews/{site.stale}"))
    assert int(page.url.rsplit("/", 1)[1]) not in (site.stale, site.review)
    rerun = site.get("approver", f"/v1/reviews/{page.url.rsplit('/', 1)[1]}")
    assert rerun["plan_version"] == 2
    site.post("analyst", f"/v1/reviews/{rerun['id']}/cancel", {})  # its result is not needed: free the machine
    tab.close()

    # a recommendation that went stale while the page was open: the 409's message, not a trace
    first, second = real_review(site.env, created_by="analyst-user"), real_review(site.env, created_by="analyst-user")
    late = Tab(browser, site.url)
    late.use_token(site.env.tokens["admin"])
    late.page.goto(f"/reviews/{second}")
    expect(late.page.locator("#summary")).to_contain_text("What changes")
    expect(late.page.locator("#accept")).to_be_enabled()
    accepted = site.post("approver", f"/v1/reviews/{first}/decision", {"decision": "accept", "reason": "first", "plan_version": 2})
    assert accepted.status_code == 201, accepted.text
    late.page.fill("#decision-reason", "late")
    late.page.click("#accept")
    late.page.click("#confirm-ok")
    expect(late.page.locator("#decision-error")).to_contain_text("run a new review")
    late.shot("14-review-stale-409")
    late.close()


# ---------------------------------------------------------------------------------------------
# alarms


def test_alarms_grouped_and_ranked_by_margin_at_stake(browser, site):
    rows = site.get("viewer", "/v1/alarms?limit=100000")["data"]
    # the ranking recomputed from the API's rows: a group is a market (or the company) and a KPI;
    # its stake is its market-level (company-level) alarm's
    groups = defaultdict(list)
    for a in rows:
        groups[(a["market_id"] or "*", a["kpi"])].append(a)
    stakes = {}
    for key, members in groups.items():
        head = [a for a in members if a["level"] == "market" or (a["level"] == "company" and not a["market_id"])]
        values = [a["at_stake"] for a in (head or members) if a["at_stake"] is not None]
        stakes[key] = max(values) if values else -1
    expected = sorted(stakes.values(), reverse=True)

    tab = Tab(browser, site.url)
    tab.use_token(site.env.tokens["analyst"])
    page = tab.page
    page.goto("/alarms")
    expect(page.locator("#groups details.group").first).to_be_visible()
    assert page.locator("#groups details.group").count() == len(groups)
    shown = [float(re.sub(r"[^\d.]", "", s)) * (1e6 if " M " in s else 1e3 if " k " in s else 1)
             for s in page.locator("#groups details.group > summary .stake").all_inner_texts()]
    assert shown == sorted(shown, reverse=True)
    assert [round(s, -3) for s in shown] == pytest.approx([round(s, -3) for s in expected], rel=0.01, abs=10_000)
    expect(page.locator("#decide-list li")).to_have_count(3)
    # a funnel alarm shows the funnel's columns, not pace and forecast
    first = page.locator("#groups details.group").first
    expect(first.locator("#alarms-funnel th", has_text="Activity covers")).to_be_visible()
    expect(first.locator("#alarms-funnel th", has_text="Forecast")).to_have_count(0)
    tab.shot("08-alarms")
    # an alarm no review covers: draft an assumption set from it
    page.locator("#decide-list a.draft").first.click()
    expect(page).to_have_url(re.compile(r"/assumption-sets\?from_alarm="))
    expect(page.locator("#from-alarm-note")).to_contain_text("Started from the alarm")
    assert page.locator("input[name=name]").input_value().startswith("alarm-")
    tab.close()

    phone = Tab(browser, site.url, viewport=PHONE)
    phone.use_token(site.env.tokens["viewer"])
    phone.page.goto("/alarms")
    expect(phone.page.locator("#groups details.group").first).to_be_visible()
    assert phone.width() <= PHONE["width"]
    phone.shot("08-alarms-390")
    phone.close()


# ---------------------------------------------------------------------------------------------
# sweeps and the audit log


def test_sweeps_and_the_audit_log(browser, site):
    tab = Tab(browser, site.url)
    tab.use_token(site.env.tokens["analyst"])
    page = tab.page
    page.goto("/sweeps")
    expect(page.locator("#add-factor")).to_be_enabled()
    block = page.locator('#factors .adjustment-block[data-index="0"]')
    block.locator('[data-picker-name="sweep.factors[0].markets"] label.pick', has_text="Southern Europe").click()
    block.locator('[data-key="values"]').fill("0.5, 1")
    page.click("#add-factor")
    second = page.locator('#factors .adjustment-block[data-index="1"]')
    second.locator('[data-key="factor"]').select_option("price")
    second.locator('[data-picker-name="sweep.factors[1].products"] label.pick', has_text="new products").click()
    second.locator('[data-key="values"]').fill("0.9, 0")
    page.click("#sweep-submit")
    expect(page.locator('[data-error-for="sweep.factors[1].values"]')).to_contain_text("> 0")
    second.locator('[data-key="values"]').fill("0.9, 1.1")
    page.click("#sweep-submit")
    expect(page).to_have_url(re.compile(r"/sweeps/\d+$"))
    expect(page.locator("#sweep-status")).to_have_text("succeeded", timeout=120_000)
    expect(page.locator("#sweep-choice-text")).to_contain_text("Choice: the")
    expect(page.locator("#scenarios-table")).to_contain_text("demand of Southern Europe × 0.5")
    expect(page.locator("#chart-candidates canvas")).to_be_visible()
    tab.shot("17-sweep")
    tab.close()

    admin = Tab(browser, site.url)
    admin.use_token(site.env.tokens["admin"])
    admin.page.goto("/audit")
    expect(admin.page.locator("#audit-table")).to_contain_text("started a sweep")
    expect(admin.page.locator("#audit-table")).to_contain_text("loaded a dataset")
    admin.page.select_option("#filter-action", "sweep.create")
    admin.page.click("#audit-filters button[type=submit]")
    created = site.get("admin", "/v1/audit?action=sweep.create")["count"]
    expect(admin.page.locator("#audit-count")).to_have_text(f"1–{created} of {created} entries")
    assert set(admin.page.locator("#audit-table tbody td:nth-child(3)").all_inner_texts()) == {"started a sweep"}
    expect(admin.page.locator("#audit-table tbody td:nth-child(2)").first).to_contain_text("analyst-user")
    admin.shot("18-audit")
    admin.close()

    viewer = Tab(browser, site.url)
    viewer.use_token(site.env.tokens["viewer"])
    viewer.page.goto("/")
    expect(viewer.page.locator("header nav a", has_text="Audit log")).to_be_hidden()
    viewer.page.goto("/audit")
    expect(viewer.page.locator("#audit-note")).to_be_visible()
    viewer.close()


# ---------------------------------------------------------------------------------------------
# phones, keyboard and screen readers

PAGES = ["/", "/alarms", "/assumption-sets", "/reviews", "/sweeps", "/benchmarks", "/audit"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "390px"])
def test_every_page_fits_and_is_labelled(browser, site, viewport):
    tab = Tab(browser, site.url, viewport=viewport)
    tab.use_token(site.env.tokens["approver"])
    page = tab.page
    for path in PAGES + [f"/reviews/{site.review}", "/assumption-sets/1"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert tab.width() <= viewport["width"], f"{path} is {tab.width()} px wide at {viewport['width']} px"
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
            .filter(n => !n.closest('[hidden]') && n.type !== 'hidden')
            .filter(n => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !(n.textContent || '').trim())
            .map(n => n.outerHTML.slice(0, 80))""")
        assert not unlabelled, f"{path}: controls without a label: {unlabelled}"
        name = "home" if path == "/" else path.strip("/").replace("/", "-")
        tab.shot(f"20-{name}-{viewport['width']}")
    # keyboard: the skip link comes first; a table sorts from its header with Enter
    page.goto(f"/reviews/{site.review}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    header = page.locator("#pay-table th", has_text="Change (EUR)")
    header.locator("button").focus()
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "descending")
    tab.close()


def test_a_missing_review_says_so(browser, site):
    tab = Tab(browser, site.url, allow=(404,))
    tab.use_token(site.env.tokens["approver"])
    tab.page.goto("/reviews/999999")
    expect(tab.page.locator("#review-meta")).to_contain_text("There is no review #999999")
    expect(tab.page.locator("#accept")).to_be_disabled()
    tab.page.goto("/sweeps/999999")
    expect(tab.page.locator("#sweep-meta")).to_contain_text("There is no sweep #999999")
    tab.close()


def test_a_revoked_token_goes_back_to_sign_in(browser, site):
    tab = Tab(browser, site.url)
    _, token = None, None
    with site.env.sessions() as session:
        row, token = store.create_token(session=session, role="viewer", name="soon-revoked")
        session.commit()
    tab.use_token(token)
    tab.page.goto("/alarms")
    expect(tab.page.locator("#who-name")).to_be_visible()
    # no request in flight when the token goes: a late 401 would send this page to sign-in and
    # abort the navigation below
    tab.page.wait_for_load_state("networkidle")
    expect(tab.page.locator("#groups details.group").first).to_be_visible()
    with site.env.sessions() as session:
        store.revoke_token(session=session, token_id=row.id)
        session.commit()
    tab.page.goto("/reviews", wait_until="commit")  # the page leaves for sign-in as soon as the API refuses it
    expect(tab.page).to_have_url(re.compile(r"/signin\?reason="))
    expect(tab.page.locator("#reason")).to_contain_text("invalid or revoked token")
    tab.shot("15-signed-out")
    tab.close()


def test_docs_work_offline(browser, site):
    tab = Tab(browser, site.url)
    tab.page.goto("/docs")
    expect(tab.page.locator(".swagger-ui .info .title")).to_contain_text("comptune")
    expect(tab.page.locator(".opblock-tag-section").first).to_be_visible()
    expect(tab.page.locator("[id^=operations-reviews-]").first).to_be_attached()
    tab.shot("16-docs")
    tab.close()
