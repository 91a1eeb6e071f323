"""The workbench's routes: one HTML page per task of the people who decide, the offline API docs,
and the static files.

Pages are Jinja2 templates rendered without data: each page's script (`static/pages/<page>.js`,
never inline, so that a Content-Security-Policy of 'self' holds) calls the /v1 API with the bearer
token the user signed in with (kept in the browser's sessionStorage), so a page shows exactly what
the token's role may read — the API decides, the page follows. To add a page: a template, a script
and one `Page` line below; `nav` puts it in the header, `role` hides the link from roles below it
(the API still decides what they may read). Shared helpers live in `static/app.js`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from models.limits import MAX_ID

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Page:
    """A workbench page: its path, template, title and script (`static/pages/<script>.js`); `nav`
    is its label in the header (None: reached from another page), `role` the least role whose
    header shows the link."""

    path: str
    template: str
    title: str
    script: str
    nav: str | None = None
    role: str = "viewer"
    own_route: bool = False  # routed below, with the query parameters its script reads


PAGES = [
    Page("/", "overview.html", "Overview", "overview", nav="Overview"),
    Page("/alarms", "alarms.html", "Alarms", "alarms", nav="Alarms"),
    Page("/assumption-sets", "assumption_sets.html", "Assumption sets", "assumption-sets", nav="Assumption sets",
         own_route=True),
    Page("/reviews", "reviews.html", "Reviews", "reviews", nav="Reviews"),
    Page("/sweeps", "sweeps.html", "Scenario sweeps", "sweeps", nav="Sweeps"),
    Page("/calibrations", "calibrations.html", "Calibration", "calibrations", nav="Calibration"),
    Page("/replays", "replays.html", "Replays", "replays", nav="Replays"),
    Page("/benchmarks", "benchmarks.html", "Benchmarks", "benchmarks", nav="Benchmarks"),
    Page("/audit", "audit.html", "Audit log", "audit", nav="Audit log", role="approver"),
]
# pages with an id in their path: (prefix, template, title, script, the nav entry they belong to)
DETAIL_PAGES = [
    ("/reviews", "review.html", "Review", "review", "/reviews"),
    ("/assumption-sets", "assumption_set.html", "Assumption set", "assumption-set", "/assumption-sets"),
    ("/sweeps", "sweep.html", "Sweep", "sweep", "/sweeps"),
    ("/calibrations", "calibrations.html", "Calibration", "calibrations", "/calibrations"),
    ("/replays", "replay.html", "Replay", "replay", "/replays"),
]
NAV = [(page.path, page.nav, page.role) for page in PAGES if page.nav]


def render(request: Request, template: str, *, title: str, script: str | None, active: str | None,
           data: dict | None = None) -> HTMLResponse:
    """A page: `data` becomes data-* attributes of <main> (the page's script reads them)."""
    return templates.TemplateResponse(request, template, {"nav": NAV, "title": title, "script": script,
                                                          "active": active, "data": data or {}})


def page_route(page: Page) -> None:
    def handler(request: Request) -> HTMLResponse:
        return render(request, page.template, title=page.title, script=page.script, active=page.path)

    handler.__name__ = f"page_{page.script.replace('-', '_')}"
    router.add_api_route(page.path, handler, methods=["GET"], response_class=HTMLResponse)


def detail_route(prefix: str, template: str, title: str, script: str, active: str) -> None:
    def handler(request: Request, item_id: int) -> HTMLResponse:
        # an id past the database's integers is still a page: its script says the item does not exist
        return render(request, template, title=f"{title} {item_id}", script=script, active=active,
                      data={"id": item_id, "valid-id": int(0 < item_id <= MAX_ID)})

    handler.__name__ = f"page_{script.replace('-', '_')}"
    router.add_api_route(prefix + "/{item_id}", handler, methods=["GET"], response_class=HTMLResponse)


for _page in PAGES:
    if not _page.own_route:
        page_route(_page)
for _detail in DETAIL_PAGES:
    detail_route(*_detail)


NOT_READY = "the form was sent before the page was ready, so your token was not kept"


def safe_next(value: str | None) -> str:
    """`value` when it is a path of this service, "/" otherwise: no scheme or host, no `//` or
    backslash (browsers read `/\\host` as `//host`), no control character or space (browsers drop
    a tab or line break inside a URL, so `/<tab>/host` is `//host`). `value` is the decoded query
    parameter, so `%2F%5Cevil.example` arrives here as `/\\evil.example`."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def signin_page(request: Request, *, next: str | None, notice: str | None = None) -> HTMLResponse:
    return templates.TemplateResponse(request, "signin.html", {
        "nav": NAV, "title": "Sign in", "script": "signin", "active": None, "data": {},
        "next": safe_next(next), "notice": notice})


@router.get("/signin", response_class=HTMLResponse)
def page_signin(request: Request, reason: str | None = Query(None, max_length=500, description="Why the user was signed out."),
                next: str | None = Query(None, max_length=2000, description="Page to return to."),
                token: str | None = Query(None, include_in_schema=False, description="Never accepted here.")):
    # the script reads `reason` and `next` from the URL; declared so that a service refusing
    # undeclared query parameters still serves the page. A token in the URL (an old bookmark, a
    # form sent by hand) is never used: the browser is sent to the same page without it.
    if token is not None:
        return RedirectResponse(signin_url(next, NOT_READY), status.HTTP_303_SEE_OTHER)
    return signin_page(request, next=next)


@router.post("/signin", response_class=HTMLResponse)
async def post_signin(request: Request) -> RedirectResponse:
    """The sign-in form sent before its script ran (the script signs in through /v1/me instead):
    back to the sign-in page, with `next` kept when it is one of ours and the token nowhere."""
    next_value = None
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        try:
            form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
            value = form.get("next")
            next_value = value if isinstance(value, str) else None
        except Exception:  # a malformed form is answered like an empty one
            next_value = None
    return RedirectResponse(signin_url(next_value, NOT_READY), status.HTTP_303_SEE_OTHER)


def signin_url(next: str | None, reason: str | None) -> str:
    """/signin with `reason` and a safe `next` — a relative URL, never built from the Host header."""
    query = {"reason": reason} if reason else {}
    target = safe_next(next)
    if target != "/":
        query["next"] = target
    return "/signin" + ("?" + urlencode(query) if query else "")


@router.get("/assumption-sets", response_class=HTMLResponse)
def page_assumption_sets(request: Request, from_alarm: str | None = Query(
        None, max_length=500, description="Start the form from this alarm's suggested adjustment.")) -> HTMLResponse:
    return render(request, "assumption_sets.html", title="Assumption sets", script="assumption-sets",
                  active="/assumption-sets")


def mount(app: FastAPI) -> None:
    """Add the workbench, the static files and the offline Swagger UI page to `app`."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        # the vendored Swagger UI started by static/docs.js: no inline script, so the CSP holds
        return templates.TemplateResponse(request, "docs.html", {"title": f"{app.title} — API",
                                                                 "openapi_url": app.openapi_url})
