"""What a keyboard and screen-reader user hears (QA23b, web findings F1-F11), in process
on the fake index: languages marked, outcomes in the page title, errors tied to their
fields. What needs a real browser (focus) is in tests/test_browser_a11y.py."""

from __future__ import annotations

import re
import shutil

import pytest

from .conftest import CORPUS

KO_ARTICLE = "ko-upstream-downstream-marketing"
TOKEN = "a11y-test-token"


@pytest.fixture
def writable(tmp_path, fake_kb_dir, fake_encoder):
    """The web app with writes on (``TOKEN``), on copies of the fake index and corpus."""
    from fastapi.testclient import TestClient

    from kb.core import KnowledgeBase
    from kb.settings import Settings
    from web.app import create_app

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(fake_kb_dir, index)
    settings = Settings(index_dir=index, corpus_dir=corpus, model="fake", admin_token=TOKEN)
    kb = KnowledgeBase.open(index, settings=settings, encoder=fake_encoder)
    with TestClient(create_app(settings, kb=kb)) as c:
        yield c
    kb.close()


def _tag(page: str, pattern: str) -> str:
    """The first start tag matching ``pattern`` (a regex from its "<")."""
    m = re.search(pattern + r"[^>]*>", page, re.S)
    assert m, pattern
    return m.group(0)


# -- F1: text in another language than the page's English carries its lang -----------


def test_the_edit_form_of_a_korean_article_is_read_as_korean(client):
    """F1: the title field, the text box and the lead's link were read as English."""
    page = client.get("/add", params={"edit": KO_ARTICLE}).text
    assert 'lang="ko"' in _tag(page, r'<textarea id="text"')
    assert 'lang="ko"' in _tag(page, r'<input id="title"')
    assert 'lang="ko"' in _tag(page, rf'<a href="/articles/{KO_ARTICLE}"')
    # The empty Add form says nothing of a language it does not know yet.
    blank = client.get("/add").text
    assert "lang=" not in _tag(blank, r'<textarea id="text"')


def test_did_you_mean_links_carry_their_articles_language(client):
    """F1: a 404's suggestion of a Korean article was read as English."""
    r = client.get("/articles/ko-cross-selling")
    assert r.status_code == 404
    links = re.findall(r'<li><a href="/articles/([^"]+)" lang="(\w\w)">', r.text)
    assert ("ko-cross-selling-existing-customers", "ko") in links, r.text


def test_concept_names_in_the_no_answer_text_carry_the_askers_language(client):
    """F1: the article links of the no-answer paragraph had lang="ko", the concept
    names beside them none."""
    page = client.get("/", params={"q": "우주 여행"}).text
    para = re.search(r'<div class="no-answer".*?</div>', page, re.S).group(0)
    listed = re.search(r"Concepts they name include (.*?)\.", para, re.S).group(1)
    names = re.findall(r'<span lang="ko">([^<]+)</span>', listed)
    assert names and all(re.search("[가-힣]", n) for n in names), listed
    assert not re.search(r"[가-힣]", re.sub(r"<span lang=\"ko\">[^<]+</span>", "", listed))


def test_the_ask_box_is_read_in_the_questions_language(client):
    """F1: the box's Korean example (its placeholder) and a Korean question in it were
    read as English. The placeholder is English now; the box takes the language the
    question was read in."""
    empty = _tag(client.get("/").text, r'<input id="q"')
    assert "lang=" not in empty and not re.search("[가-힣]", empty)
    assert 'lang="ko"' in _tag(client.get("/", params={"q": "우주 여행"}).text,
                               r'<input id="q"')


def test_the_hidden_concept_name_of_a_bridge_is_marked(client):
    """F1: "Concept card: Tiếp thị ngược dòng" was read with an English voice."""
    page = client.get("/", params={"q": "upstream marketing la gi"}).text
    link = re.search(r'<a class="bridge-card".*?</a>', page, re.S).group(0)
    assert '<span class="visually-hidden">: <span lang="vi">Tiếp thị ngược dòng</span>' in link


def test_the_concept_forms_native_language_names_are_marked(writable):
    """F1: "한국어 terms", "Tiếng Việt terms" labels had no lang."""
    page = writable.get("/concepts").text
    for lang, native in (("ko", "한국어"), ("de", "Deutsch"), ("vi", "Tiếng Việt")):
        label = re.search(rf'<label for="concept-{lang}">.*?</label>', page, re.S).group(0)
        assert f'<span lang="{lang}">{native}</span> terms' in label, label


# -- F2, F11: an outcome is said first, in the page title --------------------------------


def _title(page: str) -> str:
    import html

    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1))


def test_remove_and_restore_say_what_happened_in_the_title(writable):
    """F2: after Remove the title was "Library", after Restore the article's title, and
    the notices (in the page as it loaded) were not spoken. The title says it now, and
    each notice can take focus (app.js gives it; tests/test_browser_a11y.py)."""
    r = writable.post(f"/articles/{KO_ARTICLE}/remove",
                      data={"token": TOKEN, "confirm": "yes"})
    assert r.status_code == 200 and r.url.path == "/library"
    assert _title(r.text).startswith(f"Removed {KO_ARTICLE} · Library · ")
    assert 'id="removed-notice" tabindex="-1"' in r.text
    wrong = writable.post(f"/articles/{KO_ARTICLE}/restore", data={"token": "wrong"})
    assert wrong.status_code == 401
    assert _title(wrong.text).startswith(f"Error: {KO_ARTICLE} not restored · Library · ")
    assert 'id="restore-error" tabindex="-1"' in wrong.text
    done = writable.post(f"/articles/{KO_ARTICLE}/restore", data={"token": TOKEN})
    assert done.status_code == 200 and done.url.path == f"/articles/{KO_ARTICLE}"
    assert _title(done.text).startswith("Restored · 업스트림 마케팅과 다운스트림 마케팅 · ")
    assert 'id="saved-notice" tabindex="-1"' in done.text


def test_a_refused_save_and_an_empty_question_say_error_in_the_title(writable):
    """F2/F11: the title of a page with an error on it was the page's own."""
    r = writable.post("/add", data={"action": "save", "token": "wrong", "text": "Some text."})
    assert r.status_code == 401 and _title(r.text).startswith("Error · Add an article · ")
    r = writable.post(f"/articles/{KO_ARTICLE}/remove", data={"token": TOKEN})
    assert r.status_code == 400 and _title(r.text).startswith("Error: not removed · Edit ")
    r = writable.get("/", params={"q": "   "})
    assert r.status_code == 400 and _title(r.text).startswith("Error · Ask · ")
    assert _title(writable.get("/").text).startswith("Ask · ")


# -- F3: an error marks its field and is its description; hints are linked --------------


def _field(page: str, field_id: str) -> str:
    return _tag(page, rf'<(?:input|textarea)[^>]*\bid="{field_id}"')


def _says(tag: str, *, invalid: bool, describedby: str | None) -> bool:
    m = re.search(r'aria-describedby="([^"]*)"', tag)
    return (('aria-invalid="true"' in tag) == invalid
            and (m.group(1) if m else None) == describedby)


def test_the_add_form_marks_the_field_at_fault_and_links_its_hints(writable):
    """F3: "the text is empty" and a wrong token were said in a box no field pointed at;
    the Title, file, Id (when adding) and token hints were tied to no field."""
    blank = writable.get("/add").text
    assert _says(_field(blank, "text"), invalid=False, describedby=None)
    assert _says(_field(blank, "title"), invalid=False, describedby="title-hint")
    assert _says(_field(blank, "file"), invalid=False, describedby="file-hint")
    assert _says(_field(blank, "id"), invalid=False, describedby="id-hint")
    assert _says(_field(blank, "token"), invalid=False, describedby="token-hint")
    empty = writable.post("/add", data={"action": "preview", "token": TOKEN, "text": ""})
    assert empty.status_code == 400
    assert _says(_field(empty.text, "text"), invalid=True, describedby="add-error")
    assert _says(_field(empty.text, "token"), invalid=False, describedby="token-hint")
    wrong = writable.post("/add", data={"action": "save", "token": "WRONG", "text": "Words."})
    assert wrong.status_code == 401
    assert _says(_field(wrong.text, "token"), invalid=True, describedby="add-error token-hint")
    assert _says(_field(wrong.text, "text"), invalid=False, describedby=None)
    taken = writable.post("/add", data={"action": "save", "token": TOKEN, "id": KO_ARTICLE,
                                        "text": "Loyalty notes: members collect stamps."})
    assert taken.status_code == 409
    assert _says(_field(taken.text, "id"), invalid=True, describedby="add-error id-hint")


def _control(page: str, field_id: str) -> str:
    return _tag(page, rf'<(?:input|textarea|select)[^>]*\bid="{field_id}"')


@pytest.mark.parametrize(("fields", "at_fault"), [
    ({"tags": ",".join(f"tag{i}" for i in range(30))}, "tags"),
    ({"title": "T" * 400}, "title"),
    ({"source": "s" * 3000}, "source"),
])
def test_the_add_form_marks_the_metadata_field_an_error_is_about(writable, fields, at_fault):
    """Too many tags, or a title or source over its limit, marked no field: the pages
    read which field from the error's wording, and only knew the text, file, id and
    token errors. The error now names its field (KBError.fields)."""
    r = writable.post("/add", data={"action": "preview", "token": TOKEN,
                                    "text": "Loyalty notes: members collect stamps.", **fields})
    assert r.status_code == 400, r.text
    for name in ("text", "file", "title", "lang", "source", "tags", "id", "token"):
        tag = _control(r.text, name)
        assert ('aria-invalid="true"' in tag) == (name == at_fault), (name, tag)
    assert "add-error" in _control(r.text, at_fault)


def test_the_remove_and_restore_forms_mark_the_field_at_fault(writable):
    """F3: the Edit page's removal and the restore forms."""
    no_box = writable.post(f"/articles/{KO_ARTICLE}/remove", data={"token": TOKEN})
    assert no_box.status_code == 400
    assert _says(_field(no_box.text, "remove-confirm"), invalid=True,
                 describedby="remove-error")
    assert _says(_field(no_box.text, "remove-token"), invalid=False, describedby=None)
    wrong = writable.post(f"/articles/{KO_ARTICLE}/remove",
                          data={"token": "WRONG", "confirm": "yes"})
    assert _says(_field(wrong.text, "remove-token"), invalid=True, describedby="remove-error")
    writable.post(f"/articles/{KO_ARTICLE}/remove", data={"token": TOKEN, "confirm": "yes"})
    refused = writable.post(f"/articles/{KO_ARTICLE}/restore", data={"token": "WRONG"})
    assert refused.status_code == 401
    assert _says(_field(refused.text, "restore-token"), invalid=True,
                 describedby="restore-error")
    shown = writable.get(f"/library?removed={KO_ARTICLE}").text
    assert _says(_field(shown, "restore-token"), invalid=False, describedby=None)


@pytest.mark.parametrize(("fields", "at_fault"), [
    ({"id": "Bad Id"}, {"concept-ko", "concept-en", "concept-de", "concept-vi"}),
    ({"id": "Bad Id", "en": "koala points"}, {"concept-id"}),
    ({"id": "koala-points", "en": "upstream marketing", "de": "Koalapunkte"}, {"concept-en"}),
    ({"id": "koala-points", "de": "Koala<b>"}, {"concept-de"}),
    ({"id": "koala-points", "en": "upstream marketing", "ko": "업스트림 마케팅"},
     {"concept-ko", "concept-en"}),
    ({"id": "koala-points", "en": "koala points", "token": "WRONG"}, {"concept-token"}),
])
def test_the_concepts_form_marks_the_field_at_fault(writable, fields, at_fault):
    """F3: "a concept needs at least one term", a bad id, a taken term or a wrong token
    marked none of the fields."""
    r = writable.post("/concepts", data={"action": "save", "token": TOKEN, **fields})
    assert r.status_code >= 400
    for field_id in ("concept-id", "concept-ko", "concept-en", "concept-de", "concept-vi",
                     "concept-token"):
        hint = ["concept-id-help"] if field_id == "concept-id" else []
        bad = field_id in at_fault
        assert _says(_field(r.text, field_id), invalid=bad,
                     describedby=" ".join(["concept-error"] * bad + hint) or None), field_id


# -- F4: an error page's title says what is missing; the alert is its message alone ------


def test_a_removed_or_unknown_articles_page_names_it_in_the_title(writable):
    """F4: a removed article's page was titled "Error 404", and the whole page (its
    forms and links included) was one role="alert"."""
    writable.post(f"/articles/{KO_ARTICLE}/remove", data={"token": TOKEN, "confirm": "yes"})
    removed = writable.get(f"/articles/{KO_ARTICLE}")
    assert removed.status_code == 404  # as the API's, documented in docs/web.md
    assert _title(removed.text).startswith(f"Removed: {KO_ARTICLE} · ")
    assert 'role="alert"' not in removed.text
    unknown = writable.get("/articles/ko-cross-selling")
    assert unknown.status_code == 404
    assert _title(unknown.text).startswith("Not found: ko-cross-selling · ")
    alerts = re.findall(r'<(\w+)[^>]*role="alert"[^>]*>', unknown.text)
    assert alerts == ["p"], alerts
    assert re.search(r'<p role="alert" id="error-message">no article', unknown.text)
    assert _title(writable.get("/nowhere").text).startswith("Not found: /nowhere · ")


# -- F6, F7: language badges and the coverage-gap links ----------------------------------

NAMES = {"ko": "Korean", "en": "English", "de": "German", "vi": "Vietnamese"}


def _visible(markup: str) -> str:
    """The text a sighted reader sees (no visually hidden text, no tags)."""
    markup = re.sub(r'<span class="visually-hidden"[^>]*>.*?</span>', "", markup)
    return " ".join(re.sub(r"<[^>]+>", "", markup).split())


def test_coverage_gap_links_are_named_by_what_they_show(client):
    """F6: aria-label "14 concepts with no Vietnamese source" on a link showing "vi 14"
    (axe label-content-name-mismatch: "click vi 14" found nothing), and "1 concepts"."""
    page = client.get("/concepts").text
    links = re.findall(r'<a href="/concepts\?gap=\w\w#h-gaps"[^>]*aria-label="([^"]+)">'
                       r"(.*?)</a>", page, re.S)
    assert len(links) == 4
    for label, inside in links:
        shown = _visible(inside)
        lang, n = shown.split()
        assert label.startswith(shown + ": "), (label, shown)
        noun = "concept" if n == "1" else "concepts"
        assert label == f"{shown}: {noun} with no {NAMES[lang]} source"
    assert "1 concepts" not in page


@pytest.mark.parametrize("path", ["/", "/?q=What+is+upstream+marketing%3F", "/concepts",
                                  "/library", f"/articles/{KO_ARTICLE}"])
def test_a_language_badge_says_the_language_to_a_screen_reader(client, path):
    """F7: badges were read as "KO", "DE" ("Delaware"), "VI" (six). Each says the
    language's name in English, or is hidden beside the name shown in full."""
    page = client.get(path).text
    badges = list(re.finditer(r'<span class="badge lang-(\w\w)"([^>]*)>', page))
    assert badges, path
    for m in badges:
        lang, attrs, after = m.group(1), m.group(2), page[m.end():]
        if 'aria-hidden="true"' in attrs:
            assert after.startswith(f"{lang}</span>")
            continue
        assert after.startswith(f'<span aria-hidden="true">{lang}</span><span '
                                f'class="visually-hidden" lang="en">{NAMES[lang]}</span>'
                                "</span>"), after[:200]
    examples = re.findall(r'<li><a href="/\?q=[^"]*">(.*?)</a></li>', client.get("/").text,
                          re.S)
    for e in examples:
        heard = re.sub(r'<span aria-hidden="true">.*?</span>', "", e)
        assert re.sub(r"<[^>]+>", "", heard).split()[0] in NAMES.values(), e


def test_the_api_docs_page_has_a_language_a_main_and_a_way_back(client):
    """F5: /docs (Swagger UI) had no lang, no main landmark and no link to the site."""
    r = client.get("/docs")
    assert r.status_code == 200
    assert '<html lang="en">' in r.text and "<main>" in r.text
    assert re.search(r'<nav aria-label="Site"[^>]*><a href="/">', r.text)
    assert "script-src 'self' 'sha256-" in r.headers["content-security-policy"]


# -- F10: less noise: ranks said once, links and regions told apart ----------------------


def test_ranks_are_said_once_and_repeated_links_are_told_apart(client):
    """F10: "1" was said by the list and again by the visible rank; the results'
    title links and the cards' "Open in the article" links repeated one name for
    different destinations; the answer table's citations column had no header."""
    page = client.get("/", params={"q": "upstream vs downstream"}).text
    ranks = re.findall(r'<span class="rank"([^>]*)>(\d+)</span> <a class="hit-title"[^>]*>'
                       r'.*?<span class="visually-hidden" lang="en">, result (\d+)</span></a>',
                       page, re.S)
    assert ranks and all('aria-hidden="true"' in a and r == n for a, r, n in ranks), ranks
    opens = re.findall(r'<a class="open"[^>]*>Open in the article<span class="visually-hidden">'
                       r": source (\d+)</span>", page)
    assert opens and len(set(opens)) == len(opens)
    table = re.search(r'<div class="doc-table answer-table".*?</table>', page, re.S).group(0)
    assert ('<th scope="col" role="columnheader" class="cites">'
            '<span class="visually-hidden">Sources</span></th>') in table


def test_only_the_first_marker_of_each_source_is_a_tab_stop(nps_answer):
    """QA25 F14: an answer of eight sentences from one passage was eight identical
    "source 1" Tab stops before its card. Every marker stays a link; a repeat is out of
    the tab order (it goes where the first goes) and says its source without the title."""
    from web import views
    from web.app import templates

    ctx = {"answer": views.answer_view(nps_answer), "query": nps_answer.query, "chips": [],
           "page": "ask", "max_chars": 500}
    page = templates().env.get_template("ask.html").render(ctx)
    cites = re.findall(r'<a class="cite" href="#cite-(\d)" aria-label="([^"]*)"'
                       r'( tabindex="-1")?>\[\1\]</a>', page)
    assert cites == [("1", "source 1: Running NPS Surveys", ""),
                     ("1", "source 1", ' tabindex="-1"'), ("1", "source 1", ' tabindex="-1"'),
                     ("2", "source 2: Close the loop", "")]


def test_passage_anchors_and_tables_of_an_article_have_names_of_their_own(writable):
    """F10: 13 "¶" links all named "link to this passage", and every table region
    named "Table"."""
    text = ("# Koala pricing\n\nKoala pricing compares plans for members.\n\n"
            "| Plan | Price |\n|---|---|\n| Basic | 5 |\n| Plus | 9 |\n\n"
            "The second table lists the discounts for yearly members of the koala club.\n\n"
            "| Term | Discount |\n|---|---|\n| Year | 10% |\n| Two years | 15% |\n")
    r = writable.post("/add", data={"action": "save", "token": TOKEN, "text": text,
                                    "id": "koala-pricing"})
    assert r.status_code == 200 and r.url.path == "/articles/koala-pricing", r.text[:300]
    page = r.text
    assert re.findall(r'role="region" aria-label="(Table[^"]*)"', page) == ["Table 1", "Table 2"]
    seed = writable.get("/articles/en-upstream-vs-downstream-marketing").text
    anchors = re.findall(r'<a class="anchor" href="#c\d+" aria-label="([^"]+)"', seed)
    assert len(anchors) > 5 and len(set(anchors)) == len(anchors), anchors
    assert anchors[0] == "link to passage 1"
