"""The API's documentation: /v1/docs works with nothing but this service, and
docs/API.md covers every route the URL configuration serves."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests

from devstack.localstack import ROOT
from devstack.testing import Server, served_operations

API_DOC = ROOT / "docs" / "API.md"


class _Assets(HTMLParser):
    """Every URL the page makes the browser load: scripts, stylesheets, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href")
        if tag in ("script", "link") and url:
            self.urls.append(url)


@pytest.mark.integration
def test_docs_page_and_every_asset_it_loads_come_from_the_service(server: Server) -> None:
    # WHEN the interactive docs are opened
    page = requests.get(server.url + "/v1/docs", timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")

    # THEN every asset they reference is served by the service itself (no CDN)
    parser = _Assets()
    parser.feed(page.text)
    assert len(parser.urls) >= 3  # the CSS, the bundle, the standalone preset
    for url in parser.urls:
        assert url.startswith("/"), f"not served by the service: {url}"
        asset = requests.get(server.url + url, timeout=30)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    # AND the schema the page loads is there
    (schema_url,) = re.findall(r'url:\s*"([^"]+)"', page.text)
    assert requests.get(server.url + schema_url, timeout=30).json()["openapi"].startswith("3.")


def test_api_md_covers_every_route_the_service_serves() -> None:
    documented = set(re.findall(r"^## `(\w+ /\S+)`$", API_DOC.read_text(), flags=re.M))
    served = served_operations()
    assert served, "no routes found"
    assert served - documented == set(), "served but not in docs/API.md"
    assert documented - served == set(), "in docs/API.md but not served"
