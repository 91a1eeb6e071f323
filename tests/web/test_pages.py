"""The workbench's pages and assets without a browser: every page renders, names only local
assets (no CDN: the service works offline), carries no inline script or style (a CSP of 'self'
holds), has its script; the nav follows the page registry; /docs loads the vendored Swagger UI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.web.pages import DETAIL_PAGES, NAV, PAGES

LOCAL = re.compile(r'(?:src|href)="([^"]+)"')
WEB = Path(__file__).resolve().parents[2] / "api" / "web"
DETAIL_PATHS = [f"{prefix}/1" for prefix, *_ in DETAIL_PAGES]


@pytest.mark.parametrize("path", [p.path for p in PAGES] + ["/signin", "/docs", *DETAIL_PATHS])
def test_pages_use_only_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    links = LOCAL.findall(response.text)
    assert links and all((link.startswith("/") and not link.startswith("//")) or link.startswith("#") for link in links), links
    assert "cdn." not in response.text and "unpkg" not in response.text
    for asset in (link for link in links if link.startswith("/static/")):
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("path", [p.path for p in PAGES] + ["/signin", "/docs", *DETAIL_PATHS])
def test_pages_have_no_inline_script_or_style(client, path):
    html = client.get(path).text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline <script>"
    assert " style=" not in html and "<style" not in html, "an inline style"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


def test_every_page_has_its_script_and_template():
    for page in PAGES:
        assert (WEB / "templates" / page.template).exists() and (WEB / "static" / "pages" / f"{page.script}.js").exists()
    for _, template, _, script, _ in DETAIL_PAGES:
        assert (WEB / "templates" / template).exists() and (WEB / "static" / "pages" / f"{script}.js").exists()


def test_the_nav_follows_the_registry(client):
    html = client.get("/").text
    for path, label, role in NAV:
        assert f'<a href="{path}" data-role="{role}"' in html and label in html
    assert dict((p, r) for p, _, r in NAV)["/audit"] == "approver"
    assert 'aria-current="page"' in html


def test_page_query_parameters(client):
    assert client.get("/assumption-sets?from_alarm=pace:market:south:revenue").status_code == 200
    assert client.get("/reviews/99999999999").status_code == 200  # past the database's ids: the page says so
    assert 'data-valid-id="0"' in client.get("/reviews/99999999999").text


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
