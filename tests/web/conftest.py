"""The service fixtures of tests/api (a loaded database, a token per role, an app client)."""

from tests.api.conftest import client, database_url, env, sqlite_template  # noqa: F401
