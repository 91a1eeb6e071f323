"""The workbench's pages and assets without a browser: every page renders, names only local
assets (no CDN: the service works offline), and /docs loads the vendored Swagger UI."""

from __future__ import annotations

import re

import pytest

from api.web.pages import PAGES

LOCAL = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("path", [p for p, _, _ in PAGES] + ["/signin", "/reviews/1", "/assumption-sets/1", "/calibrations/1", "/docs"])
def test_pages_use_only_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    links = LOCAL.findall(response.text)
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links), links
    assert "cdn." not in response.text and "unpkg" not in response.text
    for asset in (link for link in links if link.startswith("/static/")):
        assert client.get(asset).status_code == 200, asset


def test_docs_use_the_vendored_swagger_ui(client):
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "/openapi.json" in html
    bundle = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 500_000
    chart = client.get("/static/vendor/chartjs/chart.umd.min.js")
    assert chart.status_code == 200 and b"Chart.js v4" in chart.content[:200]
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not served


def test_me_tells_the_role(client, env):
    assert client.get("/v1/me", headers=env.headers("viewer")).json() == {
        "name": "viewer-user", "role": "viewer", "sees_pay": False, "may": ["viewer"]}
    assert client.get("/v1/me", headers=env.headers("approver")).json()["sees_pay"] is True
    assert client.get("/v1/me").status_code == 401
