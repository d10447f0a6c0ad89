"""Reading articles: headers, ids, titles, and clear errors for bad files."""

from __future__ import annotations

import pytest

from kb.articles import article_id_from_name, find_articles, parse_article, read_article
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


def test_header_overrides_and_explicit_arguments():
    raw = "---\ntitle: T\nlang: vi\ntags: a, b\nsource: s\n---\nEnglish text, long enough here."
    art = parse_article(raw, name="f.txt")
    assert (art.title, art.lang, art.tags, art.source) == ("T", "vi", ("a", "b"), "s")
    assert parse_article(raw, name="f.txt", lang="en").lang == "en"


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        ("Ein Text über Marketing und Vertrieb.".encode("latin-1") + b"\xe4\xf6\xfc", "UTF-8"),
        ("Überlegungen zur Strategie im Vertrieb".encode("utf-16"), "binary"),
    ],
)
def test_bad_files_get_one_clear_error(data, problem):
    with pytest.raises(ArticleError) as err:
        parse_article(data, name="bad.md")
    assert "bad.md" in str(err.value) and problem in str(err.value)


def test_unknown_language_is_a_clear_error():
    with pytest.raises(BadInputError, match="unknown language 'xx'"):
        parse_article("Some text that is long enough to be an article.", name="a.txt", lang="xx")
    with pytest.raises(ArticleError, match="could not detect a supported language"):
        parse_article(
            "Ceci est un article en français sur la stratégie marketing et les ventes.",
            name="fr.txt",
        )


def test_find_articles_reports_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "a.txt").write_text("hello")
    files, errors = find_articles([tmp_path / "a.txt", tmp_path / "empty", tmp_path / "missing"])
    assert files == [tmp_path / "a.txt"]
    assert [e.problem for e in errors] == [
        "the directory has no .txt or .md articles",
        "no such file or directory",
    ]
