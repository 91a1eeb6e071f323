"""The workbench's routes: one HTML page per task of the people who decide, the offline API docs,
and the static files.

Pages are Jinja2 templates rendered without data: each page's own script (at the end of its
template) calls the /v1 API with the bearer token the user signed in with (kept in the browser's
sessionStorage), so a page shows exactly what the token's role may read — the API decides, the page
follows. To change a page, edit `templates/<page>.html`; shared helpers live in `static/app.js`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

router = APIRouter(include_in_schema=False)

# (path, template, title in the navigation bar or None for pages reached from another)
PAGES = [
    ("/", "overview.html", "Overview"),
    ("/assumption-sets", "assumption_sets.html", "Assumption sets"),
    ("/reviews", "reviews.html", "Reviews"),
    ("/alarms", "alarms.html", "Alarms"),
    ("/calibrations", "calibrations.html", "Calibration"),
    ("/benchmarks", "benchmarks.html", "Benchmarks"),
]
NAV = [(path, title) for path, _, title in PAGES]


def render(request: Request, template: str, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"nav": NAV, **context})


def page_route(path: str, template: str, title: str):
    def page(request: Request) -> HTMLResponse:
        return render(request, template, title=title, active=path)

    page.__name__ = f"page_{template.removesuffix('.html')}"
    router.add_api_route(path, page, methods=["GET"], response_class=HTMLResponse)


for _path, _template, _title in PAGES:
    page_route(_path, _template, _title)


@router.get("/signin", response_class=HTMLResponse)
def page_signin(request: Request, reason: str | None = Query(None, max_length=500, description="Why the user was signed out."),
                next: str | None = Query(None, max_length=2000, description="Page to return to.")) -> HTMLResponse:
    # the script reads both from the URL; declared so that a service refusing undeclared query
    # parameters still serves the page
    return render(request, "signin.html", title="Sign in", active=None)


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def page_review(request: Request, review_id: int) -> HTMLResponse:
    return render(request, "review.html", title=f"Review {review_id}", active="/reviews", review_id=review_id)


@router.get("/assumption-sets/{set_id}", response_class=HTMLResponse)
def page_assumption_set(request: Request, set_id: int) -> HTMLResponse:
    return render(request, "assumption_set.html", title=f"Assumption set {set_id}", active="/assumption-sets",
                  set_id=set_id)


@router.get("/calibrations/{calibration_id}", response_class=HTMLResponse)
def page_calibration(request: Request, calibration_id: int) -> HTMLResponse:
    return render(request, "calibrations.html", title=f"Calibration {calibration_id}", active="/calibrations")


SWAGGER = "/static/vendor/swagger-ui"


def mount(app: FastAPI) -> None:
    """Add the workbench, the static files and the offline Swagger UI page to `app`."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} — API",
                                   oauth2_redirect_url="/docs/oauth2-redirect",
                                   swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER}/swagger-ui.css",
                                   swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
