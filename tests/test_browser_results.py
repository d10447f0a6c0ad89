"""Real Chromium against ``kb serve`` on the fake model: the Ask page's results list,
ten passages a page, and its Next and Previous links (audit F7).

The fake encoder is enough (the paging, not retrieval quality, is under test). It needs
Debian's chromium at /usr/bin/chromium (``make browser``) and the ``playwright``
package, like tests/test_browser.py.
"""

from __future__ import annotations

import shutil

import pytest

from .browser import browser_fixtures, require_chromium

pytestmark = [pytest.mark.browser]

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def base_url(fake_kb_dir, tmp_path_factory):
    """``kb serve --model fake`` on a copy of the fake index (read only)."""
    require_chromium()
    from web.devserver import running_server

    root = tmp_path_factory.mktemp("browser-results")
    shutil.copytree(fake_kb_dir, root / "index")
    with running_server(root / "index", model="fake", timeout=120,
                        log_path=root / "server.log") as url:
        yield url


browser, page = browser_fixtures(TIMEOUT_MS)


def test_ask_then_page_through_the_ranked_passages(page):
    from playwright.sync_api import expect

    page.goto("/")
    page.fill("#q", "What is upselling?")
    page.keyboard.press("Enter")
    expect(page.locator("#answer")).to_be_visible()
    results = page.locator("#results")
    expect(results.locator("#results-count")).to_have_text(
        "Passages 1–10 of the search ranking, best first; more follow.")
    hits = results.locator("li.hit")
    expect(hits).to_have_count(10)
    expect(hits.first.locator(".rank")).to_have_text("1")
    first_page = hits.locator(".hit-title").evaluate_all("els => els.map(e => e.href)")

    results.get_by_role("link", name="Next").click()
    page.wait_for_url("**/?q=What+is+upselling%3F&offset=10#results")
    expect(results.locator("#results-count")).to_have_text(
        "Passages 11–20 of the search ranking, best first; more follow.")
    expect(hits).to_have_count(10)
    expect(hits.first.locator(".rank")).to_have_text("11")
    expect(page.locator("#answer")).to_have_count(0)  # the answer heads page 1 only
    expect(results).to_be_in_viewport()
    assert page.evaluate("document.activeElement.id") == "results"
    second_page = hits.locator(".hit-title").evaluate_all("els => els.map(e => e.href)")
    assert not set(first_page) & set(second_page)
    expect(page.locator("#q")).to_have_value("What is upselling?")  # the question kept

    results.get_by_role("link", name="Previous").click()
    page.wait_for_url("**/?q=What+is+upselling%3F#results")
    expect(page.locator("#answer")).to_be_visible()
    expect(hits.first.locator(".rank")).to_have_text("1")
    # A passage opens the article at it, the sentence shown marked.
    hits.first.locator(".hit-title").click()
    page.wait_for_url("**/articles/*?p=*")
    expect(page.locator("mark#hl")).to_be_visible()
