"""Issue 20, the web cases (3, 6, 7, 8, 9, 14) through the HTTP API, on SQLite and PostgreSQL where
storage is involved: readers never wait for a writer and a locked write is a 503, never a 500; the
sign-in page returns only to paths of this service and never puts a token in a URL; every answer
carries the security headers; ids that start like a spreadsheet formula are refused and free text
in the CSV and xlsx exports is never a formula; HEAD is answered where GET is and no answer is a
redirect built from the Host header. Cases 7 (access log) and 13 (slow clients) against a real
`comptune serve` are in test_hardening_serve.py."""

from __future__ import annotations

import csv
import io
import threading
import time
import zipfile

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from api.db import store
from api.db.tables import AssumptionSetRow, JobRow
from api.main import create_app
from api.web.pages import safe_next
from models.dataset import load_dataset, load_plan, spreadsheet_safe, write_plan
from models.errors import InputError
from tests.api.conftest import SAMPLE, settings_for, stored_review

HOSTILE_NEXT = [
    "/\\evil.example/",  # ?next=%2F%5Cevil.example%2F
    "/\t/evil.example/",  # ?next=%2F%09%2Fevil.example%2F: browsers drop the tab
    "/\n/evil.example/", "/\r/evil.example/", "/ /evil.example/",
    "//evil.example/", "///evil.example/", "https://evil.example/", "javascript:alert(1)",
    "evil.example", "\\\\evil.example", "/\\/evil.example", "", "%2F%2Fevil.example",
]
SAFE_NEXT = ["/", "/reviews/3", "/alarms?market=south", "/reviews/1#decision", "/%2F%2Fevil.example"]


# ---------------------------------------------------------------------------------------------
# 3. readers never wait for a writer; a locked write is 503 with Retry-After


def hold_write_lock(env, started: threading.Event, release: threading.Event) -> None:
    """A writer transaction that holds the database's write lock (SQLite) or a row lock on every
    token and the dataset (PostgreSQL) until `release`."""
    with env.sessions() as session:
        if env.url.startswith("sqlite"):
            session.execute(text("UPDATE tokens SET name = name"))  # BEGIN IMMEDIATE: the write lock
        else:
            session.execute(text("SELECT id FROM tokens FOR UPDATE"))
            session.execute(text("SELECT id FROM datasets FOR UPDATE"))
        started.set()
        release.wait(60)
        session.rollback()


def test_reads_do_not_wait_for_a_writer(env):
    with TestClient(create_app(settings_for(env.url))) as client:
        started, release = threading.Event(), threading.Event()
        writer = threading.Thread(target=hold_write_lock, args=(env, started, release))
        writer.start()
        try:
            assert started.wait(10)
            begun = time.monotonic()
            for path in ("/healthz", "/v1/me", "/v1/plans/current", "/v1/reviews", "/v1/alarms"):
                response = client.get(path, headers=env.headers("analyst"))
                assert response.status_code == 200, (path, response.text)
            # on main every one of these took BEGIN IMMEDIATE and waited the 30 s busy timeout, then 500
            assert time.monotonic() - begun < 10
        finally:
            release.set()
            writer.join()


def test_a_write_that_waits_out_the_lock_is_503_with_retry_after(env):
    if not env.url.startswith("sqlite"):
        pytest.skip("PostgreSQL writers queue on row locks; no database-wide lock to wait out")
    before = count(env, AssumptionSetRow)
    settings = settings_for(env.url, sqlite_busy_timeout_s=0.3)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        started, release = threading.Event(), threading.Event()
        writer = threading.Thread(target=hold_write_lock, args=(env, started, release))
        writer.start()
        try:
            assert started.wait(10)
            response = client.post("/v1/assumption-sets", json={"name": "while locked", "adjustments": [
                {"markets": ["south"], "demand": 0.9}]}, headers=env.headers("analyst"))
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "2" and "retry" in response.json()["detail"]
            assert client.get("/healthz").status_code == 200  # a reader meanwhile
        finally:
            release.set()
            writer.join()
        assert count(env, AssumptionSetRow) == before  # nothing half-written
        again = client.post("/v1/assumption-sets", json={"name": "after the lock", "adjustments": [
            {"markets": ["south"], "demand": 0.9}]}, headers=env.headers("analyst"))
        assert again.status_code == 201, again.text


def count(env, table) -> int:
    with env.sessions() as session:
        return session.scalar(select(func.count()).select_from(table))


# ---------------------------------------------------------------------------------------------
# 6. sign-in returns only to paths of this service


@pytest.mark.parametrize("value", HOSTILE_NEXT)
def test_a_next_leading_elsewhere_becomes_the_overview(value):
    assert safe_next(value) == "/"


@pytest.mark.parametrize("value", SAFE_NEXT)
def test_a_next_of_this_service_is_kept(value):
    assert safe_next(value) == value


@pytest.mark.parametrize("query", ["%2F%5Cevil.example%2F", "%2F%09%2Fevil.example%2F", "%2F%2Fevil.example",
                                   "%5C%5Cevil.example", "https%3A%2F%2Fevil.example", "%2F%0A%2Fevil.example"])
def test_the_sign_in_page_and_its_form_never_carry_a_foreign_next(client, query):
    page = client.get(f"/signin?next={query}")
    assert page.status_code == 200
    assert '<input type="hidden" name="next" value="/">' in page.text
    answer = client.post("/signin", data={"next": client.get(f"/signin?next={query}").request.url.params["next"],
                                          "token": "ct_whatever"}, follow_redirects=False)
    assert answer.status_code == 303 and "evil" not in answer.headers["location"]
    assert answer.headers["location"].startswith("/signin?reason=")


def test_the_page_script_checks_next_too():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "api/web/static/pages/signin.js").read_text()
    assert "url.origin !== location.origin" in script and 'startsWith("//")' in script
    assert "location.assign(sameOriginPath(" in script  # the browser test runs it (tests/web/test_security.py)


# ---------------------------------------------------------------------------------------------
# 7. the sign-in form posts; a token never lands in a URL


def test_the_sign_in_form_is_a_post_without_inline_script(client):
    html = client.get("/signin").text
    assert '<form id="signin" method="post" action="/signin">' in html
    assert '<script src="/static/pages/signin.js"></script>' in html
    assert "<script>" not in html and " style=" not in html


def test_a_posted_form_goes_back_to_sign_in_without_the_token(client, env):
    token = env.tokens["admin"]
    answer = client.post("/signin", data={"token": token, "next": "/reviews/1"}, follow_redirects=False)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert token not in location and "ct_" not in location and location.startswith("/signin?reason=")
    assert "next=%2Freviews%2F1" in location
    landed = client.get(location)
    assert landed.status_code == 200 and token not in landed.text
    assert '<input type="hidden" name="next" value="/reviews/1">' in landed.text
    # a malformed or foreign body is answered the same way, never with a 4xx/5xx page
    for body, kind in ((b"\xff\xfe", "application/x-www-form-urlencoded"), (b"{}", "application/json"), (b"", "")):
        odd = client.post("/signin", content=body, headers={"content-type": kind} if kind else {}, follow_redirects=False)
        assert odd.status_code == 303 and odd.headers["location"].startswith("/signin?reason=")


def test_a_token_in_the_sign_in_url_is_dropped_from_it(client, env):
    token = env.tokens["viewer"]
    answer = client.get(f"/signin?token={token}&next=%2Falarms", follow_redirects=False)
    assert answer.status_code == 303 and token not in answer.headers["location"]
    assert answer.headers["location"].startswith("/signin?reason=") and "next=%2Falarms" in answer.headers["location"]


# ---------------------------------------------------------------------------------------------
# 8. security headers


@pytest.mark.parametrize("path", ["/", "/signin", "/docs", "/reviews/1", "/v1/me", "/healthz", "/openapi.json",
                                  "/static/app.js", "/v1/nothing-here", "/v1/reviews/1"])
def test_every_answer_carries_the_security_headers(client, env, path):
    response = client.get(path, headers=env.headers("approver"))
    csp = {part.strip() for part in response.headers["content-security-policy"].split(";")}
    assert {"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} <= csp
    assert not any("unsafe" in part for part in csp)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    if path.startswith("/v1"):
        assert response.headers["cache-control"] == "no-store"


def test_api_answers_with_pay_are_not_stored_by_caches(client, env):
    review = stored_review(env)
    for path in (f"/v1/reviews/{review}", f"/v1/reviews/{review}/recommendation", f"/v1/reviews/{review}/adjustments",
                 f"/v1/reviews/{review}/adjustments?format=csv", f"/v1/reviews/{review}/export.xlsx", "/v1/plans/current"):
        response = client.get(path, headers=env.headers("approver"))
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "no-store", path
    too_large = client.post("/v1/assumption-sets", content=b"x" * 20_000_000, headers=env.headers("analyst"))
    assert too_large.status_code == 413 and too_large.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in too_large.headers["content-security-policy"]


def test_docs_need_no_inline_script(client):
    html = client.get("/docs").text
    assert '<script src="/static/docs.js"></script>' in html and "<script>" not in html
    assert 'data-openapi-url="/openapi.json"' in html
    assert client.get("/static/docs.js").status_code == 200


# ---------------------------------------------------------------------------------------------
# 9. ids that start like a formula are refused; free text in exports is never a formula

FORMULA = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("file, column", [("reps.csv", "rep_id"), ("products.csv", "product_id"),
                                          ("markets.csv", "market_id"), ("plan/components.csv", "component_id")])
@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_dataset_id_starting_like_a_formula_is_refused_naming_file_line_column(tmp_path, file, column, start):
    import shutil

    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    path = folder / file
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index(column)] = start + "X1"
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    hits = [p for p in caught.value.problems if p.file.endswith(file.split("/")[-1]) and p.column == column
            and p.line == 3]
    assert hits and "formula" in hits[0].message, caught.value.problems


def test_the_command_line_refuses_it_with_exit_2(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    reps = folder / "reps.csv"
    lines = reps.read_text().splitlines()
    lines[1] = FORMULA.replace(",", "") + lines[1][lines[1].index(","):]
    reps.write_text("\n".join(lines) + "\n")
    done = subprocess.run([str(Path(sys.executable).parent / "comptune"), "load", str(folder)], capture_output=True,
                          text=True, env={"COMPTUNE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin"})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "reps.csv" in done.stderr and "line 2" in done.stderr and "rep_id" in done.stderr and "formula" in done.stderr


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "adjustments": [{"markets": ["=south"], "demand": 0.5}]}, "adjustments[0].markets[0]"),
    ({"name": "x", "adjustments": [{"reps": ["@R1"], "demand": 0.5}]}, "adjustments[0].reps[0]"),
    ({"name": "x", "adjustments": [{"products": ["+p"], "demand": 0.5}]}, "adjustments[0].products[0]"),
])
def test_an_id_starting_like_a_formula_in_a_body_is_422_naming_the_field(client, env, body, field):
    before = count(env, AssumptionSetRow)
    response = client.post("/v1/assumption-sets", json=body, headers=env.headers("analyst"))
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert field in errors and "formula" in errors[field], errors
    assert count(env, AssumptionSetRow) == before


def test_actuals_with_a_formula_id_are_422(client, env):
    body = {"rows": [{"rep_id": FORMULA, "product_id": "*", "period": "2026-04", "calls": 1}]}
    response = client.post("/v1/actuals", json=body, headers=env.headers("analyst"))
    assert response.status_code == 422, response.text
    assert any("formula" in e["message"] for e in response.json()["errors"])
    csv_body = "rep_id,product_id,period,orders\n-R1,*,2026-04,1\n"
    response = client.post("/v1/actuals/csv", content=csv_body, headers={**env.headers("analyst"),
                                                                        "content-type": "text/csv"})
    assert response.status_code == 422, response.text
    assert any(e["line"] == 2 and e["field"] == "rep_id" and "formula" in e["message"]
               for e in response.json()["errors"]), response.json()


def test_a_query_filter_starting_like_a_formula_is_422(client, env):
    review = stored_review(env)
    response = client.get(f"/v1/reviews/{review}/adjustments", params={"rep_id": "=R1"}, headers=env.headers("viewer"))
    assert response.status_code == 422 and "rep_id" in {e["field"] for e in response.json()["errors"]}


def review_with_text(env, reason: str) -> int:
    """A stored review whose adjustments carry `reason` (the free text of an assumption set)."""
    review = stored_review(env)
    with env.sessions() as session:
        job = session.get(JobRow, review)
        dataset = store.current_dataset(session=session)
        targets = store.get_plan_version(session=session, dataset_id=dataset.id, version=dataset.plan_version).targets
        first = dict(zip(targets["columns"], targets["data"][0]))
        result = dict(job.result)
        result["adjustments"] = {"columns": ["rep_id", "component_id", "period", "in_force", "recommended", "delta",
                                             "reason"],
                                 "data": [[first["rep_id"], first["component_id"], first["period"], 100.0, 90.0,
                                           -10.0, reason],
                                          [first["rep_id"], first["component_id"], first["period"], 100.0, 90.0,
                                           -10.0, "plain words"]]}
        job.result = result
        session.commit()
    return review


@pytest.mark.parametrize("reason", [FORMULA, "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1"])
def test_free_text_in_a_csv_export_is_never_a_formula(client, env, reason):
    review = review_with_text(env, reason)
    response = client.get(f"/v1/reviews/{review}/adjustments?format=csv", headers=env.headers("viewer"))
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["reason"] == "'" + reason and rows[1]["reason"] == "plain words"
    assert float(rows[0]["delta"]) == -10.0  # numbers stay numbers
    as_json = client.get(f"/v1/reviews/{review}/adjustments", headers=env.headers("viewer")).json()
    assert as_json["data"][0]["reason"] == reason  # the API's JSON keeps the text as it is


def test_the_workbook_holds_text_never_a_formula(client, env):
    review = review_with_text(env, FORMULA)
    response = client.get(f"/v1/reviews/{review}/export.xlsx", headers=env.headers("approver"))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheets = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in sheet or "<f " in sheet for sheet in sheets)
    book = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value == FORMULA]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_report_frames_are_neutralized_and_plan_folders_round_trip(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"name": [FORMULA, "Ann", "-x", None], "delta": [-1.5, 2.0, -3.0, 4.0]})
    safe = spreadsheet_safe(frame)
    assert safe["name"].tolist()[:3] == ["'" + FORMULA, "Ann", "'-x"] and pd.isna(safe["name"].iloc[3])
    assert safe["delta"].tolist() == [-1.5, 2.0, -3.0, 4.0] and frame["name"].iloc[0] == FORMULA
    dataset = load_dataset(SAMPLE)
    plan = dataset.plan
    write_plan(plan, tmp_path / "plan")
    again = load_plan(tmp_path / "plan", dataset)
    for name in ("components", "curve", "targets"):
        pd.testing.assert_frame_equal(getattr(again, name).reset_index(drop=True)[getattr(plan, name).columns],
                                      getattr(plan, name).reset_index(drop=True), check_dtype=False)


# ---------------------------------------------------------------------------------------------
# 14. HEAD where GET is; no redirect built from the Host header


@pytest.mark.parametrize("path", ["/", "/healthz", "/signin", "/docs", "/static/app.js", "/v1/me", "/reviews/1"])
def test_head_is_answered_where_get_is(client, env, path):
    get = client.get(path, headers=env.headers("viewer"))
    head = client.head(path, headers=env.headers("viewer"))
    assert head.status_code == get.status_code == 200, (head.status_code, get.status_code)
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers.get("content-length") == get.headers.get("content-length")


@pytest.mark.parametrize("method, path, allowed", [("PUT", "/", "GET, HEAD"), ("POST", "/healthz", "GET, HEAD"),
                                                   ("DELETE", "/signin", "GET, HEAD, POST"),
                                                   ("PUT", "/static/app.js", "GET, HEAD")])
def test_405_names_the_methods_of_pages_too(client, method, path, allowed):
    response = client.request(method, path)
    assert response.status_code == 405 and response.headers["allow"] == allowed


@pytest.mark.parametrize("path", ["/v1/reviews/", "/v1/me/", "/alarms/", "/v1/assumption-sets/"])
def test_no_redirect_is_built_from_the_host_header(client, env, path):
    response = client.get(path, headers={**env.headers("viewer"), "host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    assert "evil.example" not in response.text


def test_allowed_hosts_refuse_any_other_host(env):
    settings = settings_for(env.url, allowed_hosts=["comptune.example", "127.0.0.1"])
    with TestClient(create_app(settings), base_url="http://comptune.example") as client:
        assert client.get("/healthz").status_code == 200
        refused = client.get("/v1/reviews/", headers={"host": "evil.example"}, follow_redirects=False)
        assert refused.status_code == 400 and "location" not in refused.headers
        assert refused.headers["x-content-type-options"] == "nosniff"
        assert client.get("/healthz", headers={"host": "127.0.0.1:8000"}).status_code == 200
