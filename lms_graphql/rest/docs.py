"""The REST API's interactive documentation: Swagger UI over /api/v1/openapi.json, from the
server's own files (graphiql.py's Bundle), nothing from a CDN."""

from __future__ import annotations

import functools
import html
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from lms_graphql.graphiql import APIDOCS, REVALIDATE, SECURITY_HEADERS, STATIC_DIR

# Scripts only from this server's files; Swagger UI sets style attributes at run time.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@functools.cache
def page_html(spec: str) -> str:
    values = {"assets": APIDOCS.path, "spec": spec}
    for key, name in {"swagger_css": "swagger-ui.css", "swagger_js": "swagger-ui-bundle.js"}.items():
        values[key], values[f"{key}_integrity"] = APIDOCS.vendored("swagger-ui-dist", name)
    template = Template((STATIC_DIR / "apidocs.html").read_text(encoding="utf-8"))
    return template.substitute({key: html.escape(value, quote=True) for key, value in values.items()})


def docs_page(spec: str) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": REVALIDATE}
    return HTMLResponse(page_html(spec), headers=headers)


async def docs(request: Request) -> Response:
    # Relative to the page, so /tenants/{slug}/api/v1/docs reads that tenant's prefix too.
    return docs_page("openapi.json")
