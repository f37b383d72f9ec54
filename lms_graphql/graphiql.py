"""GraphiQL served by the server itself: the page (GET /graphql from a browser) and its files
under /static/graphiql, nothing from a CDN, so it works offline and behind firewalls. The REST
API's Swagger UI (rest/docs.py) is served the same way, from /static/apidocs.

The third-party files are vendored byte for byte from their npm packages by
scripts/refresh_vendor.py, which records them in each bundle's vendor/MANIFEST.json; a page
takes the versions (and subresource-integrity hashes) from there, so a refresh needs no edit here.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import re
from pathlib import Path
from string import Template
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from lms_graphql.tenancy.resolution import subdomain_slug

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS_DIR = STATIC_DIR / "graphiql"
VENDOR_DIR = ASSETS_DIR / "vendor"
MANIFEST = VENDOR_DIR / "MANIFEST.json"
ASSETS_PATH = "/static/graphiql"

# Scripts only from this server's files (no inline script, no eval); GraphiQL's editors set
# style attributes and add <style> elements at run time, hence 'unsafe-inline' for styles.
# Its fonts are data: URLs inside its CSS. connect-src names the page's own websocket origin
# too: browsers before CSP 3 do not count ws(s): as 'self'.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
    "img-src 'self' data:; connect-src 'self'{sockets}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_PLAIN_HOST = re.compile(r"^[A-Za-z0-9.:\[\]-]{1,255}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# vendor/NAME@VERSION/... never changes under its name; our own files change with releases.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class Bundle:
    """A page's files: ours in ``directory``, third-party ones under its vendor/, served at ``path``."""

    def __init__(self, directory: Path, path: str) -> None:
        self.directory, self.path = directory, path

    @functools.cached_property
    def manifest(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.directory / "vendor" / "MANIFEST.json").read_text(encoding="utf-8"))
        return loaded

    def vendored(self, package: str, name: str) -> tuple[str, str]:
        """The URL of a vendored file and its subresource-integrity value."""
        version = self.manifest["packages"][package]["version"]
        relative = f"{package}@{version}/{name}"
        digest = bytes.fromhex(self.manifest["files"][relative])
        return f"{self.path}/vendor/{relative}", "sha256-" + base64.b64encode(digest).decode()


GRAPHIQL = Bundle(ASSETS_DIR, ASSETS_PATH)
APIDOCS = Bundle(STATIC_DIR / "apidocs", "/static/apidocs")


@functools.cache
def page_template() -> Template:
    return Template((STATIC_DIR / "graphiql.html").read_text(encoding="utf-8"))


def page_html(host: str, base_domain: str) -> str:
    values: dict[str, str] = {"assets": ASSETS_PATH, "base_domain": base_domain}
    values["host_tenant"] = subdomain_slug(host, base_domain) or ""
    for key, (package, name) in {
        "graphiql_css": ("graphiql", "graphiql.min.css"),
        "graphiql_js": ("graphiql", "graphiql.min.js"),
        "react_js": ("react", "react.production.min.js"),
        "react_dom_js": ("react-dom", "react-dom.production.min.js"),
    }.items():
        values[key], values[f"{key}_integrity"] = GRAPHIQL.vendored(package, name)
    return page_template().substitute({key: html.escape(value, quote=True) for key, value in values.items()})


def content_security_policy(host: str) -> str:
    sockets = f" ws://{host} wss://{host}" if _PLAIN_HOST.match(host) else ""
    return CONTENT_SECURITY_POLICY.format(sockets=sockets)


def graphiql_page(request: Request, base_domain: str) -> Response:
    host = request.headers.get("host", "")
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": content_security_policy(host),
        "Cache-Control": REVALIDATE,
    }
    return HTMLResponse(page_html(host, base_domain), headers=headers)


class BundleAssets(StaticFiles):
    """A bundle's files, with cache headers: a year for versioned vendor files."""

    def __init__(self, bundle: Bundle = GRAPHIQL) -> None:
        super().__init__(directory=bundle.directory, follow_symlink=False)
        self.bundle = bundle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # StaticFiles would fail on one, with a traceback
            await WebSocketClose()(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        relative = Path(full_path).relative_to(self.bundle.directory).parts
        versioned = len(relative) > 2 and relative[0] == "vendor" and "@" in relative[1]
        response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
