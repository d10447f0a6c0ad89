"""Real Chromium against ``kb serve`` on the fake model, writes enabled: what the
accessibility and safety QA found on the Add page and in the colours of the forms.

The admin token is never in a page (app.js keeps it for the tab), Back after a submit
shows the page again instead of "Confirm Form Resubmission", and form borders and
placeholders keep their contrast in both colour schemes. Like tests/test_browser_add.py,
it needs Debian's chromium at /usr/bin/chromium (``make browser``) and ``playwright``.
"""

from __future__ import annotations

import pytest

from .browser import BORDER_JS, chromium, new_page, require_chromium, writable_server

pytestmark = [pytest.mark.browser]

TOKEN = "a11y-test-token-5c1e"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server(fake_kb_dir, tmp_path_factory):
    """``kb serve --model fake`` with writes on, on copies of the index and corpus."""
    require_chromium()
    with writable_server(fake_kb_dir, tmp_path_factory.mktemp("browser-a11y"), TOKEN) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    with new_page(browser, server[0], TIMEOUT_MS) as pg:
        yield pg


def _submit(page, selector: str) -> str:
    """Click a submit button; the HTML the server sent back (after any redirect)."""
    with page.expect_navigation() as nav:
        page.click(selector)
    response = nav.value
    return response.text() if response is not None else ""


def test_preview_then_save_without_the_token_in_any_page(page, server):
    """QA: the token was echoed into the page (value="...") after a preview and after a
    refused save. The server never writes it now; app.js keeps it for the tab and fills
    the empty field, so Save still needs no second typing of it."""
    from playwright.sync_api import expect

    page.goto("/add")
    page.fill("#text", "Wombat loyalty notes: members collect stamps for every visit.")
    page.fill("#token", TOKEN)
    sent = _submit(page, ".actions button[value=preview]")
    expect(page.locator("#preview")).to_be_visible()
    assert TOKEN not in sent and "Wombat loyalty" in sent
    assert page.locator("#token").get_attribute("value") is None
    expect(page.locator("#token")).to_have_value(TOKEN)  # filled in by app.js
    page.click("#preview button[value=save]")
    page.wait_for_url("**/articles/wombat-loyalty-notes*?saved=added")
    # The Edit page's forms are filled in too; a wrong token is forgotten, not refilled.
    page.click("text=Edit this article")
    expect(page.locator("#token")).to_have_value(TOKEN)
    expect(page.locator("#remove-token")).to_have_value(TOKEN)
    page.fill("#token", "wrong")
    sent = _submit(page, ".actions button[value=preview]")
    expect(page.locator("#add-error")).to_contain_text("admin token")
    assert "wrong" not in page.locator("#token").input_value()
    expect(page.locator("#token")).to_have_value("")
    assert TOKEN not in page.content()


def test_back_after_a_submit_shows_the_page_again(page, server):
    """QA: Back after a save, or after a second preview, was Chrome's "Confirm Form
    Resubmission" (ERR_CACHE_MISS): the previews were "no-store". Now Back shows the
    previous preview from the cache (Chrome never sends a form again unasked)."""
    from playwright.sync_api import expect

    page.goto("/add")
    page.fill("#text", "Numbat referral notes: each friend brings both a discount.")
    page.fill("#token", TOKEN)
    page.click(".actions button[value=preview]")
    expect(page.locator("#preview")).to_be_visible()
    page.fill("#title", "Numbat referrals")
    page.click(".actions button[value=preview]")
    expect(page.locator("#preview dd[lang]")).to_have_text("Numbat referrals")
    page.go_back()
    expect(page.locator("#preview dd[lang]")).to_have_text("Numbat referral notes: each "
                                                             "friend brings both a discount.")
    page.go_forward()
    expect(page.locator("#preview dd[lang]")).to_have_text("Numbat referrals")
    page.click("#preview button[value=save]")
    page.wait_for_url("**/articles/numbat-referral-notes*?saved=added")
    page.go_back()
    expect(page.locator("#preview dd[lang]")).to_have_text("Numbat referrals")
    expect(page.locator("#token")).to_have_value(TOKEN)  # app.js filled it in again
    assert len(list(server[1].glob("numbat*"))) == 1




@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("path", "selectors"), [
    ("/", ["#q", ".chip label", "#lang-de:not(:checked) + label"]),
    ("/add", ["#text", "#source", "#tags", "#token", "#lang"]),
    ("/library", [".chip label"]),
    ("/nowhere", ["#error-q"]),
])
def test_form_borders_and_placeholders_keep_their_contrast(browser, server, scheme, path,
                                                           selectors):
    """QA: field borders were 2.1:1 on white (#aeb4bd) and 2.8:1 in the dark scheme, the
    unchosen language chips' outline too, and the dark placeholder text 3.8:1."""
    ctx = browser.new_context(base_url=server[0], color_scheme=scheme)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        pg.goto(path)
        ratios = pg.evaluate(BORDER_JS, selectors)
        borders = {k: v for k, v in ratios.items() if k.endswith("border")}
        placeholders = {k: v for k, v in ratios.items() if k.endswith("placeholder")}
        assert len(borders) == len(selectors)
        assert all(r >= 3 for r in borders.values()), ratios
        assert all(r >= 4.5 for r in placeholders.values()), ratios
    finally:
        ctx.close()
