"""Real Chromium against ``kb serve`` on the fake model: what a keyboard and
screen-reader user meets (QA23b), where focus goes after an outcome, the "/" shortcut
and forced colours. The markup is tested in process in tests/test_web_a11y.py.

Needs Debian's chromium at /usr/bin/chromium (``make browser``) and the ``playwright``
package, like tests/test_browser_add.py.
"""

from __future__ import annotations

import pytest

from .browser import writable_fixtures

pytestmark = [pytest.mark.browser]

TOKEN = "browser-a11y-token-51c2"
TIMEOUT_MS = 60_000


server, browser, page = writable_fixtures("browser-a11y", TOKEN, TIMEOUT_MS)


def _article(page, article: str) -> None:
    """Add a short article over the API."""
    r = page.request.post("/api/articles", headers={"Authorization": f"Bearer {TOKEN}"},
                          data={"id": article, "text": f"{article} notes: members collect "
                                "stamps for every visit and trade them for coffee."})
    assert r.status == 201, r.text()


def test_remove_and_restore_move_focus_to_what_happened(page):
    """F2: after Remove, a refused Restore and Restore, focus stayed on the body and the
    title named the page alone: a screen-reader user heard "Library" and had to look for
    proof. Focus now goes to the notice or the error, and the title says it first."""
    from playwright.sync_api import expect

    article = "okapi-stamps"
    _article(page, article)
    page.goto(f"/add?edit={article}")
    page.fill("#remove-token", TOKEN)
    page.check("#remove-confirm")
    page.click("button.danger")
    page.wait_for_url(f"**/library?removed={article}")
    expect(page.locator("#removed-notice")).to_be_focused()
    assert page.title().startswith(f"Removed {article} · Library")
    page.fill("#restore-token", "wrong")
    page.click("#removed-notice button[type=submit]")
    expect(page.locator("#restore-error")).to_be_focused()
    assert page.title().startswith(f"Error: {article} not restored · Library")
    page.fill("#restore-token", TOKEN)
    page.click("#removed-notice button[type=submit]")
    page.wait_for_url(f"**/articles/{article}?saved=restored")
    expect(page.locator("#saved-notice")).to_be_focused()
    assert page.title().startswith("Restored · ")


def test_a_save_moves_focus_to_its_notice(page):
    """F2: the Save's "Added" notice was in the page as it loaded, never spoken."""
    from playwright.sync_api import expect

    page.goto("/add")
    page.fill("#text", "Gecko referrals\n\nEvery member who brings a friend gets a free "
              "month, and the friend gets one too.")
    page.fill("#id", "gecko-referrals")
    page.fill("#token", TOKEN)
    page.click(".actions button[value=save]")
    page.wait_for_url("**/articles/gecko-referrals?saved=added")
    expect(page.locator("#saved-notice")).to_be_focused()
    assert page.title().startswith("Added · ")


def test_an_empty_question_focuses_the_box_its_message_describes(page):
    """F11: three spaces and Enter gave a 400 page with the message, focus on the body
    and the title "Ask"."""
    from playwright.sync_api import expect

    page.goto("/")
    page.fill("#q", "   ")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=*")
    box = page.locator("#q")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-describedby", "q-problem")
    assert page.title().startswith("Error · Ask")
    # An unknown language: the fieldset at fault, its first chip takes focus.
    page.goto("/?q=upselling&lang=xx")
    expect(page.locator("#lang-ko")).to_be_focused()


def test_slash_finds_the_ask_box_only_from_no_control(page):
    """F8 (WCAG 2.1.4): "/" on a link or a chip pulled focus to the Ask box. It now
    works from the page, the main content and the answer alone."""
    from playwright.sync_api import expect

    page.goto("/")
    page.wait_for_load_state("load")
    page.focus("#lang-de")  # a chip
    page.keyboard.press("/")
    expect(page.locator("#lang-de")).to_be_focused()
    page.focus(".examples a")
    page.keyboard.press("/")
    expect(page.locator(".examples a").first).to_be_focused()
    page.focus("main")
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("#q")).to_have_value("")
    page.fill("#q", "What is upstream marketing?")
    page.keyboard.press("Enter")
    expect(page.locator("#answer")).to_be_focused()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()


def test_the_api_docs_page_is_in_english_and_leads_back(page):
    """F5: /docs, which the main navigation's "API" opens, had no lang, no main
    landmark and no way back to the site. Swagger UI still renders under its policy."""
    from playwright.sync_api import expect

    page.add_init_script("""window.__csp = [];
        document.addEventListener('securitypolicyviolation',
          e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));""")
    page.goto("/")
    page.get_by_role("link", name="API (developer docs)").click()
    page.wait_for_url("**/docs")
    assert page.get_attribute("html", "lang") == "en"
    expect(page.locator("main .opblock-summary-path", has_text="/api/search")).to_be_visible()
    assert page.evaluate("window.__csp") == []
    page.get_by_role("navigation", name="Site").get_by_role("link").first.click()
    page.wait_for_url(lambda url: url.endswith("/"))
    expect(page.locator("#q")).to_be_visible()


def test_buttons_and_the_current_page_keep_an_edge_in_forced_colours(page):
    """F9: in forced colours (Windows High Contrast) the Ask button was bare text with
    no border, and the current nav item looked like the others."""
    page.emulate_media(forced_colors="active")
    page.goto("/")
    edge = """sel => { const s = getComputedStyle(document.querySelector(sel));
        return [s.borderTopStyle, parseFloat(s.borderTopWidth), s.textDecorationLine]; }"""
    style, width, _ = page.evaluate(edge, ".searchbar button[type=submit]")
    assert style != "none" and width >= 1, (style, width)
    current = page.evaluate(edge, 'nav a[aria-current="page"]')
    other = page.evaluate(edge, 'nav a:not([aria-current])')
    assert current[0] != "none" and current[1] >= 1, current
    assert current != other, (current, other)


def test_an_answer_tables_citations_column_has_a_header_and_fits_a_phone(browser, server):
    """F10: the answer table's citations column had no header cell. Its header, a
    visually hidden "Sources", stays inside the table's scroll box on a phone."""
    from playwright.sync_api import expect

    ctx = browser.new_context(base_url=server[0], viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        pg.goto("/?q=upstream+vs+downstream")
        table = pg.locator(".answer-text").get_by_role("region", name="Table")
        expect(table.get_by_role("columnheader", name="Sources")).to_have_count(1)
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        ctx.close()


CELLS_JS = """region => [...region.querySelectorAll('td')].map(td => {
  const r = td.getBoundingClientRect();
  return {left: r.left, right: r.right, height: r.height, text: td.innerText,
          label: getComputedStyle(td, '::before').content}; })"""


@pytest.mark.parametrize("path", ["/?q=upstream+vs+downstream",
                                  "/articles/en-upstream-vs-downstream-marketing"])
def test_on_a_phone_a_table_is_stacked_with_every_cell_in_view(browser, server, path):
    """QA25 F9: at 390 px the comparison table scrolled in a 304 px box that cut
    "Downstream Marketing" mid-word and hid the sources column. Each row is a block and
    each cell, on the screen, follows its column's name; screen readers still get a
    table with its column headers. A desktop keeps the table."""
    from playwright.sync_api import expect

    ctx = browser.new_context(base_url=server[0], viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        pg.goto(path)
        region = pg.locator(".doc-table").first
        expect(region).to_be_visible()
        assert region.evaluate("el => el.scrollWidth <= el.clientWidth"), "it scrolls"
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        cells = region.evaluate(CELLS_JS)
        assert len(cells) >= 15, cells
        off = [c for c in cells if c["left"] < 0 or c["right"] > 390 or not c["height"]]
        assert not off, off
        named = [c for c in cells if c["text"].strip().startswith("Short-term tactics")]
        assert named and named[0]["label"].startswith('"Downstream Marketing: "'), named
        table = region.get_by_role("table")
        expect(table.get_by_role("columnheader", name="Downstream Marketing")).to_have_count(1)
        expect(table.get_by_role("cell", name="Short-term tactics and execution")).to_have_count(1)
        if path.startswith("/?"):  # each row's source is on the screen
            for box in region.locator("a.cite").evaluate_all(
                    "els => els.map(e => e.getBoundingClientRect().right)"):
                assert 0 < box <= 390
        pg.set_viewport_size({"width": 1280, "height": 900})
        head = region.get_by_role("columnheader", name="Downstream Marketing")
        assert head.evaluate("el => el.getBoundingClientRect().height") > 10
        assert region.locator("td").first.evaluate(
            "el => getComputedStyle(el).display") == "table-cell"
    finally:
        ctx.close()


def test_tab_reaches_each_source_once_before_the_cards(page):
    """QA25 F14: every answer sentence and table row carries its own citation link, so
    an answer quoted from one passage was as many identical Tab stops before its card.
    Tab now stops at each source's first marker only; the repeats are still links."""
    from playwright.sync_api import expect

    page.goto("/?q=upstream+vs+downstream")
    expect(page.locator("#answer")).to_be_focused()
    markers = page.locator(".answer-text a.cite").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))")
    assert len(markers) > len(set(markers)), markers  # some sources are cited again
    stops = []
    for _ in range(len(markers) + 20):
        page.keyboard.press("Tab")
        now = page.evaluate("""() => { const e = document.activeElement;
            return [e.className, e.getAttribute('href'), !!e.closest('.cards')]; }""")
        if now[2]:
            break
        if now[0] == "cite":
            stops.append(now[1])
    else:
        pytest.fail("Tab never reached the cards")
    assert stops == list(dict.fromkeys(markers)), stops  # each source once, in order
    page.locator(".answer-text a.cite").last.click()  # a repeat still goes to its card
    assert page.url.endswith(markers[-1])
