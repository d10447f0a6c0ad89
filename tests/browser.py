"""What the browser tests share: Debian's Chromium, one page per test, a hostile article.

Chromium must be Debian's at /usr/bin/chromium (``make browser`` installs it), driven by
the ``playwright`` package; ``playwright install`` cannot download browsers here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# An article whose title, source, tags and text all carry markup that must stay text.
EVIL = """---
title: Zebra <script>alert(1)</script> campaign
source: javascript:alert(1)
tags: ["<img src=x onerror=alert(1)>", zebra]
---
The zebra campaign is a marketing test. It uses <script>alert(1)</script> in the zebra text.
The zebra campaign shows <img src=x onerror=alert(1)> to every zebra customer.
Zebra campaigns need careful planning and a clear zebra budget.
"""


@contextmanager
def writable_server(fake_kb_dir: Path, root: Path, token: str) -> Iterator[tuple[str, Path]]:
    """``kb serve --model fake`` on a copy of the fake index and of the corpus, with
    writes on (``token``): its URL and its corpus directory."""
    import shutil

    from web.devserver import running_server

    from .conftest import CORPUS

    index, corpus = root / "index", root / "corpus"
    shutil.copytree(fake_kb_dir, index)
    shutil.copytree(CORPUS, corpus)
    env = {"KB_CORPUS_DIR": str(corpus), "KB_ADMIN_TOKEN": token}
    with running_server(index, model="fake", env=env, timeout=120,
                        log_path=root / "server.log") as url:
        yield url, corpus


def browser_fixtures(timeout_ms: int) -> tuple[Any, Any]:
    """The ``browser`` and ``page`` fixtures of a module whose server fixture is
    ``base_url``: ``browser, page = browser_fixtures(TIMEOUT_MS)``. One Chromium a
    module; a fresh page for each test."""

    @pytest.fixture(scope="module")
    def browser(base_url: str) -> Iterator[Any]:
        with chromium() as b:
            yield b

    @pytest.fixture
    def page(browser: Any, base_url: str) -> Iterator[Any]:
        with new_page(browser, base_url, timeout_ms) as pg:
            yield pg

    return browser, page


def writable_fixtures(name: str, token: str, timeout_ms: int) -> tuple[Any, Any, Any]:
    """The ``server``, ``browser`` and ``page`` fixtures of a module whose pages write:
    ``server, browser, page = writable_fixtures("browser-add", TOKEN, TIMEOUT_MS)``. The
    server is ``kb serve --model fake`` with writes on, on copies of the index and corpus
    (:func:`writable_server`), one a module; the page is fresh for each test."""

    @pytest.fixture(scope="module")
    def server(fake_kb_dir: Path, tmp_path_factory: Any) -> Iterator[tuple[str, Path]]:
        require_chromium()
        with writable_server(fake_kb_dir, tmp_path_factory.mktemp(name), token) as srv:
            yield srv

    @pytest.fixture(scope="module")
    def browser(server: tuple[str, Path]) -> Iterator[Any]:
        with chromium() as b:
            yield b

    @pytest.fixture
    def page(browser: Any, server: tuple[str, Path]) -> Iterator[Any]:
        with new_page(browser, server[0], timeout_ms) as pg:
            yield pg

    return server, browser, page


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (run `make browser`)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def new_page(browser: Any, base_url: str, timeout_ms: int) -> Iterator[Any]:
    """A page in a fresh context; ``page.dialogs`` collects any dialog that fires."""
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(timeout_ms)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    ctx.close()


# WCAG relative luminance and contrast ratio, and the first opaque background behind
# an element, for the contrast checks below.
_WCAG_JS = """
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const bgOf = el => { for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor;
    if (!c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; }
    return getComputedStyle(document.body).backgroundColor; };
"""

# WCAG contrast of each selector's first element: its text colour against the first
# opaque background behind it; ``bg`` is the page's background luminance.
CONTRAST_JS = "selectors => {" + _WCAG_JS + """
  const out = {};
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    if (el) out[sel] = ratio(getComputedStyle(el).color, bgOf(el));
  }
  out.bg = lum(getComputedStyle(document.body).backgroundColor);
  return out;
}"""

# A form control's border against the field inside and the panel or page outside it, and
# its placeholder against the field (WCAG 1.4.11 and 1.4.3).
BORDER_JS = "selectors => {" + _WCAG_JS + """
  const out = {};
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    const border = getComputedStyle(el).borderTopColor;
    out[sel + ' border'] = Math.min(ratio(border, bgOf(el)), ratio(border, bgOf(el.parentElement)));
    if (el.placeholder) {
      out[sel + ' placeholder'] = ratio(getComputedStyle(el, '::placeholder').color, bgOf(el));
    }
  }
  return out;
}"""
CONTRAST_SELECTORS = ['body', '.lead', 'main a', '.badge', 'button[type=submit]', 'mark',
                      '.answer-sentence', '.chip label']


def save_text(page: Any, text: str, token: str, lands_on: str) -> None:
    """On the Add page: paste ``text`` with ``token``, save, and land on the saved
    article (URL glob ``lands_on``) with its notice."""
    from playwright.sync_api import expect

    page.fill("#text", text)
    page.fill("#token", token)
    page.click(".actions button[value=save]")
    page.wait_for_url(lands_on)
    expect(page.locator("#saved-notice")).to_contain_text("searchable now")
