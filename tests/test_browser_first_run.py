"""Real Chromium against ``kb serve`` on an empty index: a new team's first visit.

The empty knowledge base says so, the first article goes in through the Add page, and
it is searchable and answerable at once. Adding to an empty index used to fail with a
500 (the duplicate check read an empty signature table). The fake encoder is enough:
the flow is under test, not retrieval quality.
"""

from __future__ import annotations

import pytest

from .browser import chromium, new_page, require_chromium, save_text

pytestmark = [pytest.mark.browser]

TOKEN = "first-run-token-51c2"
TIMEOUT_MS = 60_000
ARTICLE = """Retail media networks

Retail media networks let retailers sell advertising on their own websites and apps.
Brands reach shoppers at the moment of purchase, and the retailer earns a new margin.
A retail media network needs first-party shopper data and a self-service ad platform.
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    from web.devserver import running_server

    root = tmp_path_factory.mktemp("first-run")
    (root / "corpus").mkdir()
    env = {"KB_CORPUS_DIR": str(root / "corpus"), "KB_ADMIN_TOKEN": TOKEN}
    with running_server(root / "index", model="fake", env=env, timeout=120,
                        log_path=root / "server.log") as url:
        yield url, root / "corpus"


@pytest.fixture(scope="module")
def page(server):
    with chromium() as b, new_page(b, server[0], TIMEOUT_MS) as pg:
        yield pg


def test_a_new_team_adds_its_first_article_and_asks_about_it(page, server):
    from playwright.sync_api import expect

    page.goto("/?q=What+is+a+retail+media+network%3F")
    expect(page.locator(".no-answer")).to_contain_text("The knowledge base is empty")
    expect(page.locator(".no-answer")).not_to_contain_text("language filter")
    page.goto("/library")
    page.click("#library-empty >> text=Add an article")
    page.wait_for_url("**/add")

    save_text(page, ARTICLE, TOKEN, "**/articles/retail-media-networks?saved=added")
    assert (server[1] / "retail-media-networks.md").exists()

    page.goto("/?q=What+is+a+retail+media+network%3F")
    answer = page.locator(".answer")
    expect(answer).to_have_attribute("data-found", "true")
    expect(answer).to_be_focused()  # a screen reader goes on with the answer
    expect(page.locator(".card").first).to_contain_text("Retail media networks")
    page.goto("/library")
    expect(page.locator("table.library tbody tr")).to_have_count(1)


LONG_URL = "https://example.com/" + "retail-media-network-playbook-" * 6 + "2025.html"


def test_long_words_and_urls_do_not_widen_a_phone_screen(page, server):
    """A 190-character URL in an article made the ask page 763 px wide on a 375 px
    phone, and a long title the article page 2,188 px."""
    page.goto("/add")
    title = "Retailmedianetworkplaybookforomnichannelgrocerybrands" * 2
    page.fill("#text", f"{title}\n\nRead the guide at {LONG_URL} before planning. Retail "
              "media networks sell ads on store websites. Brands reach shoppers at the "
              "moment of purchase, and the retailer earns a new margin.")
    page.fill("#token", TOKEN)
    page.click("button[value=save]")
    page.wait_for_url("**/articles/*?saved=added")
    article = page.url.split("?")[0]
    page.set_viewport_size({"width": 375, "height": 800})
    for url in (article, "/?q=Where+is+the+retail+media+guide%3F", "/library"):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (url, width)


def test_on_a_phone_the_answer_starts_on_the_first_screen(page):
    """At 375 px the answer began 655 px down, near the bottom of a 740 px screen: the
    page's introduction and the chips' hint came first."""
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/?q=What+is+upselling%3F")
    top = page.evaluate("document.querySelector('#answer').getBoundingClientRect().top")
    assert top < 740 - 240, top  # room left for the heading and the first sentences
    assert page.locator("h1#ask-h").text_content() == "Ask the knowledge base"  # still read out
    # The library's table hid its Passages, Added and Tags columns to the side; each
    # article is now a block with labelled cells, nothing to scroll sideways.
    page.goto("/library")
    wrap = page.evaluate("[...document.querySelectorAll('.table-wrap')]"
                         ".map(w => w.scrollWidth - w.clientWidth)")
    assert wrap and max(wrap) <= 0, wrap
    assert page.locator(".library tbody td[data-label=Tags]").first.is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/?q=What+is+upselling%3F")
    assert page.locator(".ask .lead").is_visible()  # wide screens keep the introduction


def test_the_add_page_says_a_save_is_under_way(page):
    """A 1 MB article took minutes to save with nothing on the page; a second click
    would have posted it again."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/add")
    # Registered after app.js's handler: it lets that run, then keeps the page here.
    page.evaluate("""() => {
        window.submits = 0;
        document.getElementById("add-form").addEventListener("submit", e => {
            if (!e.defaultPrevented) window.submits += 1;
            e.preventDefault();
        });
    }""")
    page.fill("#text", ARTICLE)
    page.fill("#source", "seed 002 (a note, not a URL)")  # plain text is a valid source
    page.fill("#token", TOKEN)
    page.click("button[value=save]")
    expect(page.locator("#add-status")).to_contain_text("Saving")
    expect(page.locator("#add-form")).to_have_attribute("aria-busy", "true")
    page.click("button[value=save]")
    assert page.evaluate("window.submits") == 1
