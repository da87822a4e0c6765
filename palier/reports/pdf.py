"""The dashboard as a PDF (A4), drawn by WeasyPrint from the page's own HTML and SVG charts.

WeasyPrint needs the Pango library of the system (Debian: ``libpango-1.0-0``, which a desktop or
Chromium already brings). Without it the PDF is unavailable and says so; the printable page (the
browser's "Print", laid out on A4 by the print stylesheet) still works. Nothing is fetched from
the network: the only files a document may load are Palier's own static files.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils.translation import gettext as _

from palier.reports import charts


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the system library it draws with) is missing."""


@lru_cache(maxsize=1)
def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango library is missing
        raise PdfUnavailable(
            _("PDF is unavailable on this server: install the Pango library (apt install libpango-1.0-0).")
        ) from exc
    return weasyprint


def available() -> bool:
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


def _static_file(url: str) -> tuple[bytes, str]:
    """The bytes and type of one of Palier's static files named by ``url``; anything else (the
    network, a local path, a parent folder) is refused."""
    path = urlsplit(url).path
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    name = path[len(prefix) :] if path.startswith(prefix) else ""
    found = finders.find(name) if name and ".." not in name.split("/") else None
    if not found:
        raise ValueError(f"not one of Palier's static files: {url}")
    with open(found if isinstance(found, str) else found[0], "rb") as handle:
        body = handle.read()
    kind = (
        "text/css"
        if name.endswith(".css")
        else "image/svg+xml"
        if name.endswith(".svg")
        else "application/octet-stream"
    )
    return body, kind


def render(html: str) -> bytes:
    """The PDF of an HTML document whose styles and images are Palier's static files."""
    weasyprint = _weasyprint()

    class StaticOnly(weasyprint.urls.URLFetcher):  # type: ignore[misc,name-defined]
        def fetch(self, url: str, headers: Any = None) -> Any:
            body, kind = _static_file(url)
            return weasyprint.urls.URLFetcherResponse(url, body=body, headers={"Content-Type": kind})

    document = weasyprint.HTML(string=html, base_url="http://palier.invalid/", url_fetcher=StaticOnly())
    # the charts' own CSS, which the pages load from reports:charts-css
    return bytes(document.write_pdf(stylesheets=[weasyprint.CSS(string=charts.stylesheet())]))
