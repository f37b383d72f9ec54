"""GraphiQL from the server's own files: the vendored files are the ones the manifest names,
the page loads nothing from elsewhere, and LMS_GRAPHIQL=false turns page and files off."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from lms_graphql.config import Settings
from lms_graphql.graphiql import APIDOCS, ASSETS_DIR, GRAPHIQL, MANIFEST, VENDOR_DIR, Bundle
from lms_graphql.kit.db import Database
from tests.support.http import TEST_JWT_KEYS

BROWSER = {"Accept": "text/html,application/xhtml+xml"}
ANY_URL = re.compile(rb"\bhttps?://", re.IGNORECASE)
# Hosts a page could load code, styles or fonts from; the vendored files may mention URLs in
# comments and messages, but none of these.
CDN = re.compile(
    rb"https?://(unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|esm\.sh|fonts\.(googleapis|gstatic)\.com)",
    re.IGNORECASE,
)


class PageParts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[tuple[str, str | None]] = []  # (url, integrity)
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            if attributes.get("src"):
                self.loaded.append((str(attributes["src"]), attributes.get("integrity")))
            else:
                self.inline_scripts += 1
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.loaded.append((str(attributes["href"]), attributes.get("integrity")))


def parsed(page: str) -> PageParts:
    parts = PageParts()
    parts.feed(page)
    return parts


@pytest.mark.parametrize("bundle", [GRAPHIQL, APIDOCS], ids=["graphiql", "apidocs"])
def test_the_vendored_files_are_those_of_the_manifest(bundle: Bundle) -> None:
    vendor = bundle.directory / "vendor"
    manifest = bundle.manifest
    on_disk = {path.relative_to(vendor).as_posix() for path in vendor.rglob("*") if path.is_file()}
    assert on_disk == {*manifest["files"], MANIFEST.name}
    for relative, digest in manifest["files"].items():
        assert hashlib.sha256((vendor / relative).read_bytes()).hexdigest() == digest, relative
    for name, package in manifest["packages"].items():
        folder = vendor / f"{name}@{package['version']}"
        assert (folder / "LICENSE").is_file(), f"{name} comes without its LICENSE"
        assert package["integrity"].startswith("sha512-")


def test_pinned_majors() -> None:
    assert GRAPHIQL.manifest["packages"]["graphiql"]["version"].startswith("3.")  # the UMD build; see the script
    assert APIDOCS.manifest["packages"]["swagger-ui-dist"]["version"].startswith("5.")  # OpenAPI 3.1


def test_no_served_file_names_a_cdn_and_ours_name_no_url_at_all() -> None:
    for path in [*ASSETS_DIR.rglob("*"), *APIDOCS.directory.rglob("*")]:
        if path.is_file():
            assert not CDN.search(path.read_bytes()), path
    for ours in (
        ASSETS_DIR / "lms-graphiql.js",
        ASSETS_DIR / "lms-graphiql.css",
        ASSETS_DIR.parent / "graphiql.html",
        APIDOCS.directory / "lms-apidocs.js",
        ASSETS_DIR.parent / "apidocs.html",
    ):
        assert not ANY_URL.search(ours.read_bytes()), ours
    css = (VENDOR_DIR / f"graphiql@{json.loads(MANIFEST.read_text())['packages']['graphiql']['version']}").glob("*.css")
    for stylesheet in css:
        assert b"@import" not in stylesheet.read_bytes()  # fonts are data: URLs inside it


async def test_the_page_loads_only_local_files_with_their_hashes(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=BROWSER)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not ANY_URL.search(page.content)
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self' ws://testserver wss://testserver;" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    parts = parsed(page.text)
    assert parts.inline_scripts == 0  # the CSP allows none
    assert len(parts.loaded) == 6  # GraphiQL's css and js, React, ReactDOM, our css and js
    for url, integrity in parts.loaded:
        assert url.startswith("/static/graphiql/"), url
        asset = await client.get(url)  # no tenant: the same files for everyone
        assert asset.status_code == 200, url
        assert asset.headers["x-content-type-options"] == "nosniff"
        if "/vendor/" in url:
            assert (integrity or "").startswith("sha256-"), url
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
            revalidated = await client.get(url, headers={"If-None-Match": asset.headers["etag"]})
            assert revalidated.status_code == 304
        else:
            assert asset.headers["cache-control"] == "no-cache"
    scripts = [url for url, _ in parts.loaded if url.endswith(".js")]
    assert [Path(url).name for url in scripts] == [
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "lms-graphiql.js",
    ]


async def test_the_page_tells_the_script_which_tenant_the_address_names(client: httpx.AsyncClient) -> None:
    on_subdomain = await client.get("/graphql", headers={**BROWSER, "Host": "mit.localhost:8000"})
    assert 'data-host-tenant="mit"' in on_subdomain.text
    bare = await client.get("/graphql", headers={**BROWSER, "Host": "localhost:8000"})
    assert 'data-host-tenant=""' in bare.text
    assert "Which tenant?" in bare.text
    hostile = await client.get("/graphql", headers={**BROWSER, "Host": 'x"><script>.localhost; script-src *'})
    assert "<script>." not in hostile.text
    assert "connect-src 'self';" in hostile.headers["content-security-policy"]


@pytest.mark.parametrize(
    "path", ["/static/graphiql/../graphiql.html", "/static/graphiql/vendor/nope.js", "/static/graphiql/"]
)
async def test_nothing_else_is_served(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_graphiql_off_turns_off_the_page_and_its_files(db: Database, env_for_cli: dict[str, str]) -> None:
    from lms_graphql.app import create_app

    settings = Settings.from_env(
        {**env_for_cli, "LMS_JWT_KEYS": TEST_JWT_KEYS, "LMS_GRAPHIQL": "false", "LMS_WORKER": "off"}
    )
    application = create_app(settings, db=db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as closed:
            assert (await closed.get("/graphql", headers=BROWSER)).status_code == 404
            assert (await closed.get("/static/graphiql/lms-graphiql.js")).status_code == 404
            assert (await closed.get("/api/v1/docs")).status_code == 404
            assert (await closed.get("/static/apidocs/lms-apidocs.js")).status_code == 404
            assert (await closed.get("/api/v1/openapi.json")).status_code == 200


async def test_the_rest_docs_page_loads_only_local_files_with_their_hashes(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/v1/docs")  # no tenant: the same page for everyone
    assert page.status_code == 200
    assert not ANY_URL.search(page.content)
    assert "script-src 'self';" in page.headers["content-security-policy"]
    parts = parsed(page.text)
    assert parts.inline_scripts == 0
    assert [Path(url).name for url, _ in parts.loaded] == ["swagger-ui.css", "swagger-ui-bundle.js", "lms-apidocs.js"]
    for url, integrity in parts.loaded:
        assert url.startswith("/static/apidocs/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        if "/vendor/" in url:
            assert (integrity or "").startswith("sha256-"), url
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    document = (await client.get("/api/v1/openapi.json")).json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "tenant"}
    assert document["security"][0] == {"bearer": [], "tenant": []}
