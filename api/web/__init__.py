"""The review workbench: server-side page templates and static assets (Chart.js and Swagger UI
vendored, so the service works offline). The pages call the /v1 API from the browser with the
user's bearer token; see `pages` for the routes."""
