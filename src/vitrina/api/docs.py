"""/docs of both APIs: Swagger UI 5 from the installed `fastapi-swagger`, no CDN, no inline code.

FastAPI's own /docs page loads Swagger UI from cdn.jsdelivr.net and starts it with an inline
script: offline (as on this platform's machines) it is blank, and the client API's
Content-Security-Policy (`script-src 'self'`, api/fast_search.py) blocked both anyway — a
blind review found the page `vitrina up` prints blank. Here the page, its start-up script
and Swagger UI's files are all served by the API itself, so the same strict policy holds.
"""

from __future__ import annotations

import html
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

PREFIX = "/docs-files"  # Swagger UI's own files (fastapi-swagger's copy; only they are used:
# its page starts Swagger UI with an inline script, which the client API's CSP refuses)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{prefix}/swagger-ui.css">
<link rel="icon" type="image/png" href="{prefix}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{prefix}/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""

_START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
});
"""


def install_docs(app: FastAPI) -> None:
    """Serve /docs (Swagger UI of the app's /openapi.json). The app is made with
    `docs_url=None, redoc_url=None`: FastAPI's pages need the CDN."""
    files = resources.files("fastapi_swagger") / "resources"
    page = _PAGE.format(title=html.escape(f"{app.title} — API"), prefix=PREFIX)
    app.mount(PREFIX, StaticFiles(directory=str(files)), name="docs-files")

    @app.head("/docs", include_in_schema=False)
    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/start.js", include_in_schema=False)
    def docs_start() -> Response:
        return Response(_START, media_type="text/javascript")
