"""Cleaning removes web boilerplate and keeps every sentence of the real body."""

from __future__ import annotations

import re

import pytest

from kb.articles import read_article
from kb.chunking import chunk_text
from kb.cleaning import clean, encoded_chars
from kb.sentences import sentences

from .conftest import corpus_files

JUNK = [
    "$config[zx-auto] not found",
    "$config[zx-overlay] not found",
    "Bài ViếT Phổ BiếN",
    "Table of Contents",
    "차례",
    "프로젝트 문의를 통해 상담을 요청해 주세요",
    "저희 이파트 전문가 팀이",
]


def words_count(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text)) + 2


@pytest.fixture(scope="module")
def chunked():
    out = []
    for path in corpus_files():
        art = read_article(path)
        out.append((path, art, chunk_text(art.text, words_count)))
    return out


def test_no_junk_in_any_chunk(chunked):
    for _path, _art, chunks in chunked:
        for c in chunks:
            for junk in JUNK:
                assert junk not in c.text


def test_toc_block_removed_but_headings_kept(chunked):
    ko = next(a for p, a, _ in chunked if p.name.startswith("ko-upstream"))
    # The TOC listed five headings; each heading now appears exactly once, as a heading.
    assert ko.text.count("\n상류 마케팅 대 하류 마케팅\n") == 1
    assert "차례" not in ko.text


def _body_lines(raw: str) -> list[str]:
    """The raw text minus the metadata header and the lines the junk list names."""
    body = raw.split("\n---\n", 1)[1]
    keep = []
    toc = False
    for line in body.splitlines():
        s = line.strip()
        if s in ("차례", "Table of Contents"):
            toc = True
            continue
        if toc and s and s in body.split(s, 1)[1]:
            continue
        toc = False
        if not s or any(j in s for j in JUNK):
            continue
        keep.append(s)
    return keep


def test_every_body_sentence_is_in_a_chunk(chunked):
    for path, _art, chunks in chunked:
        joined = "\n".join(" ".join(c.text.split()) for c in chunks)
        for line in _body_lines(path.read_text(encoding="utf-8")):
            for sentence in sentences(line):
                assert " ".join(sentence.split()) in joined, (path.name, sentence)


def test_rules_are_general_not_per_file():
    raw = (
        "Intro paragraph about pricing strategy for new products.\n"
        "Contents\nPricing\nWrap-up\n"
        "Pricing\nPrices should follow value. {{ad_slot}}\n"
        "Wrap-up\nThat is all.\n"
        "$widget[sidebar] not found\n"
        "Popular Posts\n"
    )
    text = clean(raw)
    assert "Contents" not in text and "Popular Posts" not in text
    assert "$widget" not in text and "{{" not in text
    assert text.count("\nPricing\n") == 1  # the heading stays, its TOC entry goes
    assert "Prices should follow value." in text


def test_signoff_only_when_it_is_a_call_to_action():
    kept = clean("Body sentence one.\nA normal closing sentence about strategy.")
    assert kept.endswith("A normal closing sentence about strategy.")
    dropped = clean("Body sentence one.\nSubscribe to our newsletter and contact us today!")
    assert dropped == "Body sentence one."


def test_nfc_and_whitespace_normalised():
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Tiếp thị ngược dòng\r\n\r\n\r\n\r\nbán hàng\u00a0x")
    text = clean(decomposed)
    assert text == "Tiếp thị ngược dòng\n\nbán hàng x"


def test_encoded_data_is_removed_and_prose_and_links_are_kept():
    image = "iVBORw0KGgoAAAANSUhEUgAA" * 30  # base64, 720 characters
    url = "https://example.com/" + "a1b2c3d4" * 60 + "?utm=1"  # a long path: not data
    raw = (
        "Upstream marketing studies the market.\n\n"
        f"![chart](data:image/png;base64,{image})\n\n"
        f'<img src="data:image/jpeg;base64,{image}">\n\n'
        f"{image}\n\n"
        f"See {url} for more. 업스트림마케팅전략은고객조사에서시작됩니다.\n\n"
        "Downstream marketing sells the product."
    )
    text = clean(raw)
    assert "iVBOR" not in text and "base64" not in text and "![chart]" not in text
    assert url in text and "업스트림마케팅전략은고객조사에서시작됩니다." in text
    assert text.startswith("Upstream marketing") and text.endswith("sells the product.")
    assert encoded_chars(raw) >= 3 * len(image)
    assert encoded_chars(clean(raw)) == 0 and encoded_chars("A" * 399) == 0


def test_inline_markdown_becomes_plain_text():
    """QA13: an HTML page's <strong> (trafilatura's "**") and a Markdown article's bold
    showed as literal asterisks on the Article page and in answers."""
    assert clean("- **Rückgewinnungskampagnen**: Schicken Sie Angebote.") == (
        "- Rückgewinnungskampagnen: Schicken Sie Angebote.")
    assert clean("1. __Onboarding emails__: a *short* welcome, `day 1`.") == (
        "1. Onboarding emails: a short welcome, `day 1`.")  # backticks quote in Korean
    assert clean("| **Metric** | _Upstream_ |") == "| Metric | Upstream |"
    assert clean("Read [our guide](https://example.com/a_(b)) first.") == (
        "Read our guide first.")
    assert clean("![chart](https://example.com/c.png)\n\nUpsell after onboarding.") == (
        "Upsell after onboarding.")
    # QA23a F3: an image's URL with parentheses left ".png)" in the text, and a
    # "javascript:" one ") <svg …" that the article page showed as a heading.
    assert clean("The logo ![Logo (2020)](https://example.com/logo_(2020).png) changed.") == (
        "The logo  changed.")
    assert clean("![img](javascript:alert('img')) <b>x</b>") == "<b>x</b>"
    # Markers that do not hug a text are not emphasis: arithmetic, bullets, names, URLs.
    for kept in ("5 * 3 = 15 and 2*3", "* one\n* two", "snake_case_name",
                 "https://example.com/_a_/b", "**unclosed"):
        assert clean(kept) == kept


def test_bold_from_an_html_page_is_plain_text():
    from kb.extract import extract

    page = (b"<html><body><article><h1>Kundenbindung</h1><ul><li><strong>Treueprogramme"
            b"</strong>: Punkte f\xc3\xbcr jeden Einkauf belohnen treue Kunden.</li><li><em>"
            b"Newsletter</em>: monatliche Angebote halten Kunden informiert.</li></ul>"
            b"<p>Beide Ma\xc3\x9fnahmen senken die Abwanderung deutlich.</p></article>"
            b"</body></html>")
    text = clean(extract(page, "kundenbindung.html").text)
    assert "Treueprogramme: Punkte" in text and "Newsletter: monatliche" in text
    assert "*" not in text and "_" not in text
