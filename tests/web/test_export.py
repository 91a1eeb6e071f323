"""The committee workbook (GET /v1/reviews/{id}/export.xlsx) read back with openpyxl and compared
with the API's JSON for the same role: every target, the plans compared, every rep's pay for the
roles that see pay and none of it for the others; text never becomes a formula."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from api.db import store
from api.export import Sheet
from api.main import create_app
from tests.api.conftest import SAMPLE, prepare, settings_for
from tests.web.reviews import real_review


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    env = prepare(f"sqlite:///{tmp_path_factory.mktemp('export') / 'comptune.db'}", SAMPLE)
    review = real_review(env)
    with TestClient(create_app(settings_for(env.url))) as client:
        yield client, env, review
    env.sessions.kw["bind"].dispose()


def book_for(client, env, review, role):
    answer = client.get(f"/v1/reviews/{review}/export.xlsx", headers=env.headers(role))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert answer.headers["cache-control"] == "no-store"
    return load_workbook(io.BytesIO(answer.content))


def rows(sheet, header_first: str):
    """The data rows of the table whose header row starts with `header_first`, as dicts."""
    values = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(values) if row and row[0] == header_first)
    header = values[start]
    out = []
    for row in values[start + 1:]:
        if row[0] is None:
            break
        out.append(dict(zip(header, row)))
    return out


@pytest.mark.parametrize("role", ["viewer", "approver"])
def test_the_workbook_holds_what_the_api_gives_the_role(reviewed, role):
    client, env, review = reviewed
    book = book_for(client, env, review, role)
    sees_pay = role == "approver"
    assert book.sheetnames == ["Summary", "Changes", "Weights", "Targets", "Attribution"] + (["Pay impact"] if sees_pay else [])

    adjustments = client.get(f"/v1/reviews/{review}/adjustments", headers=env.headers(role)).json()
    targets = rows(book["Targets"], "rep")
    assert len(targets) == len(adjustments["data"])
    by_key = {(a["rep_id"], a["component_id"], a["period"]): a for a in adjustments["data"]}
    for row in targets:
        api = by_key[(row["rep id"], row["component id"], row["period"])]
        assert row["recommended (EUR)"] == pytest.approx(api["recommended"])
        assert row["cause"] == api.get("cause") and row["reason"] == api["reason"]
    labels = {w["component_id"]: w["label"] for w in adjustments["weight_changes"]}
    assert {r["component id"]: r["component"] for r in rows(book["Weights"], "component")} == labels
    assert labels["new_orders"] == "orders of new products"

    summary = client.get(f"/v1/reviews/{review}", headers=env.headers(role)).json()["summary"]
    compared = {r["plan"]: r for r in rows(book["Summary"], "plan")}
    recommended = next(c for c in summary["comparison"] if c["plan"] == "recommended")
    assert compared["recommended plan"]["margin (EUR)"] == pytest.approx(recommended["margin"])
    assert ("variable pay (EUR)" in compared["recommended plan"]) == sees_pay

    admin = client.get(f"/v1/reviews/{review}/recommendation", headers=env.headers("admin")).json()
    pay = {round(v, 2) for rep in admin["pay_impact"]["reps"] for v in (rep["in_force_pay"], rep["recommended_pay"])}
    pay |= {round(c["pay_cost"], 2) for c in
            client.get(f"/v1/reviews/{review}", headers=env.headers("admin")).json()["summary"]["comparison"]}
    numbers = {round(v, 2) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
               for v in row if isinstance(v, (int, float))}
    if sees_pay:
        assert pay <= numbers
        per_rep = {r["rep id"]: r for r in rows(book["Pay impact"], "rep")}
        for rep in admin["pay_impact"]["reps"]:
            assert per_rep[rep["rep_id"]]["recommended (EUR)"] == pytest.approx(rep["recommended_pay"])
    else:
        assert not pay & numbers


def test_text_is_never_a_formula(tmp_path):
    book = Workbook(write_only=True)
    sheet = Sheet(book, "Test", (10,))
    sheet.row(["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)"])
    book.save(tmp_path / "t.xlsx")
    cells = next(load_workbook(tmp_path / "t.xlsx")["Test"].iter_rows())
    assert [c.value for c in cells] == ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)"]
    assert [c.data_type for c in cells] == ["s", "s", "s"]


def test_an_unfinished_review_has_no_workbook(reviewed):
    client, env, _ = reviewed
    with env.sessions() as session:
        dataset = store.current_dataset(session=session)
        job = store.create_job(session=session, kind="review", created_by="test", time_limit_s=10, params={},
                               dataset_id=dataset.id, assumption_set_id=1, plan_version=dataset.plan_version)
        session.flush()
        store.cancel_job(session=session, job_id=job.id)  # before the service's runner could take it
        session.commit()
        job_id = job.id
    answer = client.get(f"/v1/reviews/{job_id}/export.xlsx", headers=env.headers("viewer"))
    assert answer.status_code == 409 and "canceled" in answer.json()["detail"]
    assert client.get("/v1/reviews/999999/export.xlsx", headers=env.headers("viewer")).status_code == 404
