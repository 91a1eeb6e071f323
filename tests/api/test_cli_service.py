"""The service commands: `comptune load` (idempotent), `comptune token create|ensure-admin|list|revoke`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.db import store
from api.db.session import make_engine, make_session_factory
from tests.api.conftest import SAMPLE


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_load_tokens_and_bad_input(database_url, tmp_path):
    runner = CliRunner()
    env = {"COMPTUNE_DATABASE_URL": database_url}
    first = runner.invoke(app, ["load", str(SAMPLE)], env=env)
    assert first.exit_code == 0, first.output
    rows = sum(1 for _ in open(SAMPLE / "actuals.csv")) - 1
    assert "loaded 'Kestrel Automation'" in first.output and f"{rows} actuals" in " ".join(first.output.split())
    again = runner.invoke(app, ["load", str(SAMPLE)], env=env)
    assert again.exit_code == 0 and "already loaded" in again.output

    created = runner.invoke(app, ["token", "create", "--role", "analyst", "--name", "ana"], env=env)
    assert created.exit_code == 0
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("ct_")
    admin = runner.invoke(app, ["token", "ensure-admin"], env=env)
    assert admin.exit_code == 0 and "/docs" in admin.output
    assert admin.output.strip().splitlines()[-1].startswith("ct_")
    second = runner.invoke(app, ["token", "ensure-admin"], env=env)
    assert "exists already" in second.output and not second.output.strip().splitlines()[-1].startswith("ct_")
    assert runner.invoke(app, ["token", "create", "--role", "boss"], env=env).exit_code == 2

    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        row = store.find_token(session=session, token=token)
        assert row is not None and row.role == "analyst" and row.token_hash != token  # stored hashed
        assert len(store.list_plan_versions(session=session, dataset_id=1)) == 1
    listing = runner.invoke(app, ["token", "list"], env=env)
    assert "analyst" in listing.output and token not in listing.output
    assert runner.invoke(app, ["token", "revoke", str(row.id)], env=env).exit_code == 0
    with sessions() as session:
        assert store.find_token(session=session, token=token) is None

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "company.yaml").write_text("name: X\n")
    bad = runner.invoke(app, ["load", str(broken)], env=env)
    assert bad.exit_code == 2 and "products.csv" in bad.output
    with sessions() as session:
        assert store.current_dataset(session=session).id == 1  # nothing written
    engine.dispose()
