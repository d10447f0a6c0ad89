"""Real Chromium against ``kb serve`` on the fake model: the Add page's flow, paste,
preview, save, with markup in the article that must stay inert text.

The fake encoder is enough here (the flow, not retrieval quality, is under test), so
this runs without the real model. It needs Debian's chromium at /usr/bin/chromium
(``make browser``) and the ``playwright`` package, like tests/test_browser.py.
"""

from __future__ import annotations

import pytest

from .browser import BORDER_JS, CONTRAST_JS, new_page, save_text, writable_fixtures

pytestmark = [pytest.mark.browser]

TOKEN = "browser-test-token-7f3a"
TIMEOUT_MS = 60_000
ARTICLE = """Zebra <script>alert(1)</script> campaign

The zebra campaign is a marketing test. It uses <script>alert(1)</script> in the zebra text.
The zebra campaign shows <img src=x onerror=alert(1)> to every zebra customer.
Zebra campaigns need careful planning and a clear zebra budget.
"""


server, browser, page = writable_fixtures("browser-add", TOKEN, TIMEOUT_MS)


def _assert_inert(page) -> None:
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("main img").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def _preview(page, text: str) -> None:
    """Paste ``text`` on the Add page with the token and preview it."""
    from playwright.sync_api import expect

    page.goto("/add")
    page.fill("#text", text)
    page.fill("#token", TOKEN)
    page.click(".actions button[value=preview]")
    expect(page.locator("#preview")).to_be_visible()


def test_paste_preview_save_keeps_markup_inert(page, server):
    from playwright.sync_api import expect

    page.goto("/")
    page.click("nav >> text=Add article")
    page.wait_for_url("**/add")
    page.fill("#text", ARTICLE)
    page.fill("#tags", "zebra, <b>bold</b>")
    page.fill("#token", TOKEN)
    page.click("button[value=preview]")
    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(preview).to_be_focused()  # app.js moves focus to the preview
    expect(page.locator(".preview-text")).to_contain_text("<script>alert(1)</script>")
    expect(preview).to_contain_text("English (detected)")
    expect(page.locator("#preview-chunks")).to_have_text("1")
    _assert_inert(page)
    assert page.input_value("#token") == TOKEN  # Save works without typing it again
    page.click("#preview button[value=save]")
    page.wait_for_url("**/articles/zebra-script-alert-1-script-campaign?saved=added")
    expect(page.locator("#saved-notice")).to_contain_text("searchable now")
    expect(page.locator("h1")).to_have_text("Zebra <script>alert(1)</script> campaign")
    expect(page.locator(".tag").last).to_have_text("<b>bold</b>")
    assert "<img src=x onerror=alert(1)>" in page.inner_text("main")
    _assert_inert(page)
    saved = server[1] / "zebra-script-alert-1-script-campaign.md"
    assert saved.exists() and "<script>alert(1)</script>" in saved.read_text()
    # Searchable at once, and the citation card is inert too.
    page.goto("/?q=What+is+the+zebra+campaign%3F")
    expect(page.locator(".card").first).to_contain_text("zebra")
    _assert_inert(page)


def test_wrong_token_shows_the_error_and_keeps_the_text(page):
    from playwright.sync_api import expect

    page.goto("/add")
    page.fill("#text", "Loyalty apps reward repeat purchases with points and offers.")
    page.fill("#token", "wrong")
    page.click("button[value=save]")
    expect(page.locator("#add-error")).to_contain_text("admin token")
    expect(page.locator("#text")).to_have_value(
        "Loyalty apps reward repeat purchases with points and offers.")
    assert page.input_value("#token") == ""


def test_edit_an_article_from_its_page(page, server):
    """There was no way to edit an article in the UI: a marketer re-pasted the whole
    text on the Add page. Now its page links to the Add page, filled in."""
    from playwright.sync_api import expect

    page.goto("/articles/en-upstream-vs-downstream-marketing")
    text = page.locator(".doc-text").inner_text()
    page.click("text=Edit this article")
    page.wait_for_url("**/add?edit=en-upstream-vs-downstream-marketing")
    expect(page.locator("h1")).to_have_text("Edit an article")
    expect(page.locator("#id")).to_have_value("en-upstream-vs-downstream-marketing")
    expect(page.locator("#replace")).to_be_checked()
    expect(page.locator("#lang")).to_have_value("en")
    assert "Upstream" in page.locator("#text").input_value()
    page.fill("#title", "Upstream and downstream, <i>explained</i>")
    page.fill("#tags", "strategy, onboarding")
    page.fill("#source", "")  # a field blanked on purpose is cleared, not kept
    page.fill("#token", TOKEN)
    page.click("button[value=preview]")
    expect(page.locator("h1")).to_have_text("Edit an article")  # still, after a preview
    expect(page.locator("#preview")).to_contain_text("Upstream and downstream, <i>explained</i>")
    page.click("#preview button[value=save]")
    page.wait_for_url("**/articles/en-upstream-vs-downstream-marketing?saved=replaced")
    expect(page.locator("#saved-notice")).to_contain_text("Replaced")
    expect(page.locator("h1")).to_have_text("Upstream and downstream, <i>explained</i>")
    expect(page.locator(".doc-meta")).to_contain_text("onboarding")
    expect(page.locator(".doc-meta div", has_text="Source").locator("dd")).to_have_text("—")
    assert page.locator(".doc-text").inner_text() == text  # the text is unchanged
    _assert_inert(page)


def test_enter_in_a_field_after_a_preview_previews_again(page, server):
    """Enter submits with the page's first button, which after a preview was "Save this
    article": editing the title and pressing Enter saved the article."""
    from playwright.sync_api import expect

    _preview(page, "Enter-key loyalty notes: members collect stamps for each visit.")
    page.fill("#title", "Stamp cards")
    page.press("#title", "Enter")
    expect(page.locator("#preview dd[lang]")).to_have_text("Stamp cards")
    assert page.url.endswith("/add")
    assert not list(server[1].glob("stamp-cards*")) and not list(server[1].glob("enter-key*"))


def test_another_file_after_a_preview_replaces_the_first(page, server):
    """QA: after previewing one file, choosing another and previewing failed ("send
    either a file or text, not both"), then kept the first file's title and id."""
    from playwright.sync_api import expect

    page.goto("/add")
    page.set_input_files("#file", files=[{
        "name": "dingo.md", "mimeType": "text/markdown",
        "buffer": b"---\nsource: https://example.com/dingo\ntags: [referral]\n---\n"
                  b"Dingo referral programmes\n\nDingo referral programmes reward customers "
                  b"who bring friends."}])
    page.fill("#token", TOKEN)
    page.click(".actions button[value=preview]")
    expect(page.locator("#preview")).to_contain_text("dingo")
    expect(page.locator("#source")).to_have_value("https://example.com/dingo")
    expect(page.locator("#text")).to_have_value(
        "Dingo referral programmes\n\nDingo referral programmes reward customers who bring "
        "friends.")
    page.set_input_files("#file", files=[{
        "name": "koala.txt", "mimeType": "text/plain",
        "buffer": b"Koala bundles\n\nKoala bundles sell three products together."}])
    for field in ("#text", "#title", "#id", "#source", "#tags"):  # what the preview filled in
        expect(page.locator(field)).to_have_value("")
    page.click(".actions button[value=preview]")
    expect(page.locator("#preview dd[lang]")).to_have_text("Koala bundles")
    expect(page.locator("#preview code")).to_have_text("koala")
    assert not list(server[1].glob("koala*")) and not list(server[1].glob("dingo*"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_remove_an_article_from_its_edit_page(browser, server, scheme):
    """QA: the web UI had no way to remove an article. The Edit page's removal asks for
    the token and a confirmation, then the Library says what happened."""
    from playwright.sync_api import expect

    article = f"ibex-{scheme}"
    ctx = browser.new_context(base_url=server[0], color_scheme=scheme)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto("/add")
        page.fill("#text", "Ibex loyalty notes: members collect stamps for every visit "
                  "and trade them for coffee.")
        page.fill("#id", article)
        page.fill("#token", TOKEN)
        page.click(".actions button[value=save]")
        page.wait_for_url(f"**/articles/{article}?saved=added")
        page.click("text=Edit this article")
        button = page.locator("button.danger")
        expect(button).to_have_text("Remove")
        ratio = page.evaluate(CONTRAST_JS, ["button.danger"])["button.danger"]
        assert ratio >= 4.5, ratio
        # QA round 3: a failed removal's error sat far below the fold.
        page.fill("#remove-token", "wrong")
        page.check("#remove-confirm")
        button.click()
        expect(page.locator("#remove-error")).to_be_in_viewport()
        expect(page.locator("#remove-error")).to_be_focused()
        page.fill("#remove-token", TOKEN)
        page.check("#remove-confirm")
        button.click()
        page.wait_for_url(f"**/library?removed={article}")
        expect(page.locator("#removed-notice")).to_contain_text(article)
        assert page.locator(f"a[href='/articles/{article}']").count() == 0
        assert not (server[1] / f"{article}.md").exists()
    finally:
        ctx.close()


def test_a_removed_articles_page_restores_it(page, server):
    """QA22 F9: the Undo of a removal was on the page right after it alone; reloaded,
    the library had none, and the removed article's page was a 404 that told a web
    reader to run `kb restore` on the server. Now that page restores it."""
    from playwright.sync_api import expect

    article = "yak-referrals"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = page.request.post("/api/articles", headers=auth, data={
        "id": article, "text": "Yak referral notes: every member who brings a friend gets "
                               "a free month, and the friend gets one too."})
    assert r.status == 201, r.text()
    assert page.request.delete(f"/api/articles/{article}", headers=auth).status == 200
    # The library's notice, opened later (no removal in this tab), still offers the Undo.
    page.goto(f"/library?removed={article}")
    page.reload()
    expect(page.locator("#removed-notice form.restore-form")).to_be_visible()
    shown = page.goto(f"/articles/{article}")
    assert shown is not None and shown.status == 404
    expect(page.locator("h1")).to_contain_text("Removed")
    expect(page.locator("#removed-notice")).to_contain_text(article)
    expect(page.locator("main")).not_to_contain_text("kb restore")
    page.fill("#restore-token", TOKEN)
    page.click("#removed-notice button[type=submit]")
    page.wait_for_url(f"**/articles/{article}?saved=restored")
    expect(page.locator("#saved-notice")).to_contain_text("Restored: the article is searchable")
    assert (server[1] / f"{article}.md").exists()
    page.goto(f"/library?removed={article}")
    expect(page.locator("#removed-notice")).to_have_count(0)
    expect(page.locator(f"a[href='/articles/{article}']")).to_have_count(1)
    _assert_inert(page)


# -- What the accessibility and safety QA of stop 25 found on the Add page and in the
# colours of the forms: the admin token is never in a page (app.js keeps it for the tab),
# Back after a submit shows the page again, form borders and placeholders keep their
# contrast in both colour schemes.


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

    _preview(page, "Numbat referral notes: each friend brings both a discount.")
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


def test_a_long_article_saves_through_a_progress_page(page, server):
    """A text over jobs.JOB_CHARS is saved by a job: the browser goes through its
    progress page (which reloads itself without script) to the saved article."""
    text = "Dingo loyalty notes\n\n" + "\n\n".join(
        f"The dingo loyalty tier {i} gives members a voucher after {i % 7 + 2} orders, and "
        f"the team in region {i} tracks how often the dingo voucher is redeemed each month."
        for i in range(200))
    jobs_seen: list[str] = []
    page.on("request", lambda r: jobs_seen.append(r.url) if "/jobs/" in r.url else None)
    page.goto("/add")
    save_text(page, text, TOKEN, "**/articles/dingo-loyalty-notes?saved=added")
    assert jobs_seen, "the save went through its progress page"


def test_add_edit_and_remove_a_concept_on_the_concepts_page(page, server):
    """The glossary edited from the Concepts page of a running server: the new card shows
    at once (the server reads the changed file; no restart), its terms as typed (markup
    is refused: test_glossary_edit)."""
    from playwright.sync_api import expect

    page.goto("/concepts")
    expect(page.locator("#concept-form")).to_be_hidden()  # closed until asked for
    page.click("#add-concept summary")
    page.fill("#concept-en", "retail media, retail & \"media\" network")
    page.fill("#concept-de", "Handelsmedien")
    page.fill("#concept-token", TOKEN)
    page.click("#concept-form button[value=save]")
    page.wait_for_url("**/concepts?saved=retail-media#concept-saved")
    card = page.locator("article#c-retail-media")
    expect(page.locator("#concept-saved")).to_be_in_viewport()  # QA15: it was off-screen
    expect(page.locator("#concept-saved")).to_be_focused()
    expect(card).to_contain_text('retail & "media" network')  # shown as typed
    _assert_inert(page)
    listed = page.request.get("/api/concepts").json()["concepts"]
    assert {"retail-media"} <= {c["id"] for c in listed}
    card.locator("text=Edit its terms").click()
    expect(page.locator("#concept-en")).to_have_value('retail media, retail & "media" network')
    expect(page.locator("#concept-token")).to_have_value(TOKEN)  # kept for the tab
    page.click("#concept-form button[value=remove]")  # not confirmed: refused
    expect(page.locator("#concept-error")).to_contain_text("tick the box to confirm")
    page.check("#concept-remove-confirm")
    page.click("#concept-form button[value=remove]")
    page.wait_for_url("**/concepts?removed=retail-media")
    expect(page.locator("#concept-removed")).to_contain_text("“retail-media” was removed")
    expect(page.locator("article#c-retail-media")).to_have_count(0)


def test_a_file_over_the_limit_is_refused_before_it_is_sent(page, server):
    """QA13: an 11 MB file was uploaded, refused unread (413), and the title and tags
    typed with it came back empty. The page now says so before sending anything."""
    from playwright.sync_api import expect

    page.goto("/add")
    page.fill("#title", "Quarterly review")
    page.fill("#tags", "review, q3")
    page.fill("#token", TOKEN)
    page.set_input_files("#file", {"name": "huge.txt", "mimeType": "text/plain",
                                   "buffer": b"marketing plan. " * 700_000})  # 11.2 MB
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.method) if r.method == "POST" else None)
    page.click(".actions button[value=save]")
    expect(page.locator("#add-status")).to_contain_text(
        "huge.txt is 10.7 MB; the upload limit is 10 MB")
    assert sent == [] and page.url.endswith("/add")
    expect(page.locator("#title")).to_have_value("Quarterly review")
    expect(page.locator("#tags")).to_have_value("review, q3")


def test_a_passage_anchor_that_names_no_passage_says_so(page):
    """QA17: a shared ¶ link (#c<id>) to a passage the article no longer has opened
    at the top with no word; the server never sees the fragment, so app.js says it."""
    from playwright.sync_api import expect

    path = "/articles/en-upstream-vs-downstream-marketing"
    chunk = page.request.get("/api" + path).json()["chunks"][1]["chunk_id"]
    page.goto(f"{path}#c{chunk}")
    expect(page.locator(f"#c{chunk}")).to_be_visible()
    assert page.locator("#stale-link").count() == 0
    page.goto("/library")  # opened afresh, as a shared link is
    page.goto(f"{path}#c99999999")
    expect(page.locator("#stale-link")).to_contain_text("no longer has")
    # QA18: a link made before links named their passage (?hl= and #c<id>, no p=) is
    # asked again with its passage, whose quoted sentences the server then finds.
    page.goto("/library")
    page.goto(f"{path}?hl=0-10#c{chunk}")
    page.wait_for_url(f"**p={chunk}**")
    assert f"p={chunk}" in page.url and page.url.endswith(f"#c{chunk}")


def test_two_tabs_editing_one_article_the_later_save_is_refused_with_its_text(browser, server):
    """QA17 (two_tabs.py): tab B's saved fix was erased by tab A's later save, and both
    said "Replaced". A's save is refused with its text kept; Save again replaces."""
    from playwright.sync_api import expect

    seed = "ko-cross-selling-existing-customers"
    with new_page(browser, server[0], TIMEOUT_MS) as tab_a, \
            new_page(browser, server[0], TIMEOUT_MS) as tab_b:
        for tab in (tab_a, tab_b):
            tab.goto(f"/add?edit={seed}")
            tab.fill("#token", TOKEN)
        tab_b.fill("#tags", "cross-selling, tab-b")
        tab_b.click(".actions button[value=save]")
        tab_b.wait_for_url(f"**/articles/{seed}?saved=replaced")
        typed = tab_a.input_value("#text") + "\n\nA paragraph typed in tab A."
        tab_a.fill("#text", typed)
        tab_a.click(".actions button[value=save]")
        expect(tab_a.locator("#add-error")).to_contain_text("changed since you opened it")
        expect(tab_a.locator("#changed-links a")).to_have_attribute("href", f"/articles/{seed}")
        assert tab_a.input_value("#text").replace("\r\n", "\n") == typed.replace("\r\n", "\n")
        assert "tab-b" in (server[1] / f"{seed}.md").read_text()
        tab_a.fill("#token", TOKEN)
        tab_a.click(".actions button[value=save]")
        tab_a.wait_for_url(f"**/articles/{seed}?saved=replaced")
        expect(tab_a.locator(".doc-text")).to_contain_text("A paragraph typed in tab A.")
