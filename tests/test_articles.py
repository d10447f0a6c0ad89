"""Reading articles: headers, ids, titles, and clear errors for bad files."""

from __future__ import annotations

import pytest

from kb.articles import (
    article_id_from_name,
    find_articles,
    parse_article,
    read_article,
    title_is_opening_words,
)
from kb.errors import ArticleError, BadInputError

from .conftest import corpus_files


def test_corpus_files_have_headers():
    files = corpus_files()
    assert len(files) == 5
    langs = sorted(read_article(p).lang for p in files)
    assert langs == ["de", "en", "ko", "ko", "vi"]
    for p in files:
        art = read_article(p)
        assert art.title and art.source and art.tags
        assert art.id == p.stem


def test_id_from_file_name():
    assert article_id_from_name("xquad-de-012.txt") == "xquad-de-012"
    assert article_id_from_name("/a/b/My Article.md") == "my-article"
    assert article_id_from_name("../../etc/passwd") == "passwd"


def test_no_header_title_from_heading_or_line_and_detected_language():
    art = parse_article(
        "# Preisstrategie\n\nDie Preise folgen dem Wert für den Kunden und dem Markt.",
        name="notes.md",
    )
    assert art.title == "Preisstrategie" and art.lang == "de" and art.id == "notes"
    art = parse_article(
        "Short title line\nA longer English paragraph follows here about strategy.", name="x.txt"
    )
    assert art.title == "Short title line" and art.lang == "en"


NOTE = ("Cross-Selling im B2B-Vertrieb funktioniert am besten, wenn der Vertrieb die "
        "Nutzungsdaten des Kunden kennt. Ein Softwarehaus kann Kunden, die das Basismodul "
        "intensiv nutzen, gezielt das Analysemodul anbieten. So steigt der Umsatz pro Kunde.")


@pytest.mark.parametrize(("text", "title", "opening"), [
    # Pasted with no heading: the first sentence, cut, is the title (QA22 F1).
    (NOTE, None, True),
    ("Brand messaging must be consistent across channels. A consistent message builds "
     "trust and recall over time.", None, True),
    # A heading, a title line or a title of its own is what the article is about.
    ("# Cross-Selling im B2B\n\n" + NOTE, None, False),
    ("Cross-Selling im B2B\n" + NOTE, None, False),
    (NOTE, "Cross-Selling im B2B", False),
    (NOTE, "B2B-Notizen", False),
])
def test_a_title_made_of_the_texts_opening_words_is_told_apart(text, title, opening):
    art = parse_article(text, name="pasted", title=title, pasted=True)
    assert title_is_opening_words(art.title, art.text) is opening, art.title


def test_header_overrides_and_explicit_arguments():
    raw = "---\ntitle: T\nlang: vi\ntags: a, b\nsource: s\n---\nEnglish text, long enough here."
    art = parse_article(raw, name="f.txt")
    assert (art.title, art.lang, art.tags, art.source) == ("T", "vi", ("a", "b"), "s")
    assert parse_article(raw, name="f.txt", lang="en").lang == "en"


def test_front_matter_shapes():
    # A colon in an unquoted title is read, not refused as bad YAML.
    art = parse_article("---\ntitle: Pricing: the basics\nlang: en\ntags: [a, b]\n---\n"
                        "Pricing starts from the value a customer sees.", name="p.md")
    assert (art.title, art.lang, art.tags, art.lang_source) == (
        "Pricing: the basics", "en", ("a", "b"), "header")
    assert "title" not in art.text
    # Hugo's TOML header.
    art = parse_article('+++\ntitle = "Preise"\nlang = "de"\n+++\nDie Preise folgen dem Wert.',
                        name="h.md")
    assert (art.title, art.lang, art.text) == ("Preise", "de", "Die Preise folgen dem Wert.")
    # A header that is never closed is an error, not the article's first lines.
    with pytest.raises(ArticleError, match="never closed: end it with a --- line"):
        parse_article("---\ntitle: Open\nPricing starts from the value a customer sees.",
                      name="o.md")
    # YAML that is neither valid nor plain key: value lines says where and what to do.
    with pytest.raises(ArticleError, match=r"not valid YAML \(line \d\).*in quotes"):
        parse_article("---\ntitle: [unclosed\n  - x\n---\nSome English text about pricing.",
                      name="y.md")
    # With a block list of tags, and a comment after a value.
    art = parse_article("---\ntitle: Pricing: the basics # draft\ntags:\n  - a\n  - b\n---\n"
                        "Pricing starts from the value a customer sees.", name="p.md")
    assert (art.title, art.tags) == ("Pricing: the basics", ("a", "b"))
    # An empty header is a header, not text.
    art = parse_article("---\n---\nPricing starts from the value a customer sees.", name="e.md")
    assert art.text == "Pricing starts from the value a customer sees."
    # A "---" rule, then a line that happens to start with "Title:", is text.
    art = parse_article("---\nTitle: an essay on pricing for new staff members here.\n"
                        "Pricing starts from the value a customer sees.", name="r.md")
    assert art.title.startswith("Title: an essay") and "Pricing starts" in art.text
    # Text between two "---" rules is text unless it names a front-matter key (QA: "Note:
    # …" and "Quarterly plan: …" were read as unknown keys and dropped), and stays text
    # when the stored text is read again (an Edit page save).
    for body in ("Note: this paragraph is part of the body and must stay.",
                 "Quarterly plan: focus on retention", "Just a paragraph between rules."):
        art = parse_article(f"---\ntitle: Rules\n---\n---\n{body}\n---\n\nPricing starts "
                            "from the value a customer sees.", name="hr.md")
        assert art.title == "Rules" and art.text.startswith(f"---\n{body}\n---"), art.text
        again = parse_article(art.text, name="pasted", title="Rules", pasted=True)
        assert again.text == art.text
    art = parse_article("---\ndate: 2024-01-01\nauthor: Kim\n---\nPricing starts from the "
                        "value a customer sees.", name="d.md")  # another tool's header
    assert art.text.startswith("Pricing starts")
    # A rule line is never the title.
    art = parse_article("-----\nWhy referrals work\nReferred customers buy more and stay.",
                        name="r.txt")
    assert art.title == "Why referrals work"
    assert parse_article("Referred customers buy more and stay longer with us.", name="r.txt",
                         lang="en").lang_source == "given"


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        ("Ein Text über Marketing und Vertrieb.".encode("latin-1") + b"\xe4\xf6\xfc", "UTF-8"),
        ("Überlegungen zur Strategie im Vertrieb".encode("utf-16"), "binary"),
        # An outline is no article (QA: saved as one passage).
        (b"# Brand Positioning\n\n## Introduction\n\n## Next steps", "headings but almost"),
    ],
)
def test_bad_files_get_one_clear_error(data, problem):
    with pytest.raises(ArticleError) as err:
        parse_article(data, name="bad.md")
    assert "bad.md" in str(err.value) and problem in str(err.value)


def test_unknown_language_is_a_clear_error():
    with pytest.raises(BadInputError, match="unknown language 'xx'"):
        parse_article("Some text that is long enough to be an article.", name="a.txt", lang="xx")
    # One in a header says so, and names the file (QA: "unknown language 'german'";
    # since stop 31 a language's name is read as its code, "german" as de).
    with pytest.raises(ArticleError, match=r"^p.md: its header's lang: unknown language "):
        parse_article("---\nlang: klingon\n---\nSome text that is long enough to be an "
                      "article.", name="p.md")
    # A clearly French or Japanese text is named, not met with "give the language".
    with pytest.raises(ArticleError, match=r"in French \(fr\), not a supported language"):
        parse_article(
            "Ceci est un article en français sur la stratégie marketing et les ventes.",
            name="fr.txt",
        )
    with pytest.raises(ArticleError, match=r"in Japanese \(ja\)"):
        parse_article("マーケティング戦略では、顧客のニーズを理解し、製品の価値を伝えることが"
                      "重要です。既存顧客へのクロスセルも売上を伸ばします。", name="ja.txt")
    with pytest.raises(ArticleError, match="could not detect a supported language"):
        parse_article("Lorem ipsum dolor sit amet, consectetur adipiscing elit 12 34.",
                      name="lorem.txt")


def test_find_articles_reports_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "a.txt").write_text("hello")
    files, errors = find_articles([tmp_path / "a.txt", tmp_path / "empty", tmp_path / "missing"])
    assert files == [tmp_path / "a.txt"]
    assert [e.problem for e in errors] == [
        "the directory has no articles (.txt, .md, .html, .pdf, .docx)",
        "no such file or directory",
    ]


@pytest.mark.parametrize(("header", "what"), [
    ("source: [a, b]", "source must be one line of text, not a list"),
    ("x: &s [a]\nsource: *s", "source must be one line of text, not a list"),  # an anchor
    ("title: {a: 1}", "title must be one line of text, not a mapping"),
])
def test_a_header_value_that_is_no_text_is_refused(header, what):
    """QA10: "source: *a" (an anchor to a list) was saved as the text "['x']"."""
    text = f"---\n{header}\nlang: en\n---\nCross-selling offers existing customers more.\n"
    with pytest.raises(ArticleError, match=what):
        parse_article(text, name="a.md")


def test_a_short_korean_note_counts_its_syllables_fairly():
    """QA13: a full Korean sentence of 14 syllables was "almost no text", while a
    four-word English note passed: a Hangul syllable now counts as two letters."""
    from kb.articles import parse_article
    from kb.errors import ArticleError

    note = "업셀링은 첫 성공 직후가 가장 좋다."
    assert parse_article(note.encode(), name="note.txt").lang == "ko"
    assert parse_article(b"Upsell after first success.", name="note.txt").lang == "en"
    for short in ("업셀링은 좋다.", "Upsell now."):
        with pytest.raises(ArticleError, match="at least 20 letters"):
            parse_article(short.encode(), name="note.txt")


def test_a_header_may_name_its_language():
    from kb.articles import parse_article

    art = parse_article(b"---\nlang: english\ntitle: Notes\n---\nUpsell after the first "
                        b"success of a customer.", name="notes.md")
    assert art.lang == "en" and art.lang_source == "header"
